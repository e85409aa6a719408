"""The embedded outbox transport: messages are stored in the database and viewed in the dashboard."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from core.integrations.base import SentMessage
from core.mail.models import OutboxMessage


class OutboxTransport:
    label = "Outbox (embedded)"
    can_look_up_sent = True

    def __init__(self, session_factory: sessionmaker[Any], mailbox_id: int | None = None) -> None:
        self.session_factory, self.mailbox_id = session_factory, mailbox_id

    def send(self, message: EmailMessage, *, thread_id: str | None = None) -> SentMessage:
        message_id = str(message["Message-ID"])
        # Its own short transaction: the outbox plays the provider, which accepts or not on its own.
        with self.session_factory() as session:
            row = OutboxMessage(mailbox_id=self.mailbox_id, message_id=message_id, to_email=str(message["To"]),
                                subject=str(message["Subject"]), raw=message.as_string())
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # already accepted once under this Message-ID: the provider dedupes
                session.rollback()
                existing = self.find_sent(message_id)
                assert existing is not None
                return existing
            return SentMessage(provider_message_id=f"outbox-{row.id}", thread_id=thread_id or message_id)

    def save_draft(self, message: EmailMessage, *, thread_id: str | None = None) -> SentMessage:
        return self.send(message, thread_id=thread_id)

    def find_sent(self, message_id: str) -> SentMessage | None:
        with self.session_factory() as session:
            row_id = session.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == message_id))
        return None if row_id is None else SentMessage(provider_message_id=f"outbox-{row_id}", thread_id=message_id)
