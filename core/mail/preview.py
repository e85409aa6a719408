"""Preview (seed 10.8): a draft or unsaved text for one contact as it would leave — subject, HTML and text,
the compliance check, SpamAssassin's score, content warnings — and a test send to oneself.

Nothing here writes to the ledger; the preview's links and pixel point at placeholders, not real tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import cast

from sqlalchemy import select

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, READ, require
from core.content.models import Draft
from core.content.service import preview_template
from core.crm.models import Contact
from core.errors import NotFound, ValidationFailed
from core.integrations.base import SentMessage, SpamChecker, SpamScore
from core.mail.building import ComplianceReport, Envelope, Tracking, build_message, check_can_spam_compliance
from core.mail.ledger import MailboxConnection
from core.mail.models import Mailbox
from core.mail.secrets import decrypt_credentials
from core.mail.transports import transport_for
from core.services import Services

SPAM_PHRASES = ("act now", "100% free", "free money", "guarantee", "no obligation", "risk-free", "risk free",
                "click here", "buy now", "limited time", "winner", "cash bonus", "earn $", "double your",
                "urgent", "once in a lifetime", "special promotion", "no credit check", "$$$", "100% satisfied")
_IMG = re.compile(r"<img\b", re.IGNORECASE)
_LINK = re.compile(r'<a\b[^>]*href="([^"]*)"', re.IGNORECASE)
_WORD = re.compile(r"[A-Za-zÀ-ÿ]{3,}")


@dataclass(frozen=True)
class EmailPreview:
    to_email: str
    from_email: str
    subject: str
    body_html: str
    body_text: str
    compliance: ComplianceReport
    spam: SpamScore
    warnings: list[str]


def content_warnings(subject: str, text: str, html: str) -> list[str]:
    """Phrases filters dislike, too many links or images for the text, shouting."""
    found: list[str] = []
    lowered = f"{subject}\n{text}".lower()
    phrases = [p for p in SPAM_PHRASES if p in lowered]
    if phrases:
        found.append("spam-filter phrases: " + ", ".join(phrases))
    words = _WORD.findall(text)
    # The unsubscribe link and the open pixel are ours, not the writer's.
    links = len([href for href in _LINK.findall(html) if "/u/" not in href])
    images = len(_IMG.findall(html)) - html.count('width="1" height="1"')
    if links > 3 or (words and links / max(1, len(words)) > 0.05):
        found.append(f"{links} links for {len(words)} words: cold mail does best with one or two")
    if images > 0 and len(words) / images < 100:
        found.append(f"{images} image(s) for {len(words)} words: image-heavy mail looks like marketing")
    capitals = [w for w in _WORD.findall(subject + " " + text) if w.isupper() and len(w) > 3]
    if len(capitals) >= 3 or (subject and subject.isupper()):
        found.append("words in capitals: " + ", ".join(sorted(set(capitals))[:8] or [subject]))
    if subject.count("!") + text.count("!") >= 3:
        found.append("many exclamation marks")
    return found


def _mailbox(services: Services, actor: Actor, mailbox_id: int | None) -> Mailbox:
    with services.uow() as uow:
        query = select(Mailbox).where(Mailbox.active.is_(True)).order_by(Mailbox.id)
        if mailbox_id is not None:
            query = query.where(Mailbox.id == mailbox_id)
        boxes = list(uow.session.scalars(query))
        uow.session.expunge_all()
    if not boxes:
        raise ValidationFailed("no active mailbox: connect one to preview and test-send")
    return next((m for m in boxes if m.owner_id == actor.user_id), boxes[0])


def _content(services: Services, actor: Actor, contact_id: int, draft_id: int | None, subject: str | None,
             body: str | None) -> tuple[str, str, str]:
    """(to_email, subject, body) of a saved draft, or unsaved template text rendered for the contact."""
    if draft_id is not None:
        require(actor, "drafts", READ)
        with services.uow() as uow:
            draft = uow.session.get(Draft, draft_id)
            if draft is None or draft.contact_id != contact_id:
                raise NotFound(f"draft {draft_id} of contact {contact_id} not found")
            return draft.to_email, draft.subject, draft.body
    rendered = preview_template(services.uow(), actor=actor, contact_id=contact_id, subject=subject or "",
                                body=body or "")
    with services.uow() as uow:
        email = uow.session.scalar(select(Contact.email).where(Contact.id == contact_id)) or ""
    return email, rendered.subject, rendered.body


def _message(services: Services, mailbox: Mailbox, to_email: str, subject: str, body: str) -> EmailMessage:
    base = services.settings.public_base_url
    envelope = Envelope(from_email=mailbox.email, from_name=mailbox.from_name, to_email=to_email, subject=subject,
                        body=body, message_id=make_msgid(domain=mailbox.email.rpartition("@")[2]),
                        signature=mailbox.signature,
                        postal_address=mailbox.postal_address or services.settings.default_postal_address)
    return build_message(envelope, unsubscribe_url=f"{base}/u/preview", tracking=Tracking(),
                         tracked_link=lambda url: f"{base}/c/preview", pixel_url=f"{base}/o/preview.gif")


def _part(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    return str(part.get_content()) if part is not None else ""


def preview_email(services: Services, *, actor: Actor, contact_id: int, draft_id: int | None = None,
                  subject: str | None = None, body: str | None = None, mailbox_id: int | None = None,
                  spam_checker: SpamChecker | None = None, score_spam: bool = True) -> EmailPreview:
    """The message as it would leave, checked; SpamAssassin (when asked) runs outside any transaction."""
    require(actor, "sending", READ)
    to_email, subject_text, body_text = _content(services, actor, contact_id, draft_id, subject, body)
    mailbox = _mailbox(services, actor, mailbox_id)
    message = _message(services, mailbox, to_email, subject_text, body_text)
    checker = spam_checker or cast(SpamChecker | None, services.connectors.get("spam_checker"))
    if checker is None:
        from core.integrations.spamassassin import SpamAssassinCli

        checker = SpamAssassinCli()
    html, text = _part(message, "html"), _part(message, "plain")
    spam = checker.score(message.as_bytes()) if score_spam else SpamScore(available=False, note="not scored yet")
    return EmailPreview(to_email=to_email, from_email=mailbox.email, subject=subject_text, body_html=html,
                        body_text=text, compliance=check_can_spam_compliance(message),
                        spam=spam, warnings=content_warnings(subject_text, text, html))


def send_test_to_self(services: Services, *, actor: Actor, contact_id: int, draft_id: int | None = None,
                      subject: str | None = None, body: str | None = None,
                      mailbox_id: int | None = None) -> SentMessage:
    """The previewed message to the actor's own address, marked [Test]; not in the ledger, not tracked."""
    require(actor, "sending", CREATE)
    if not actor.email or "@" not in actor.email:
        raise ValidationFailed("your account has no email address to send a test to")
    _to, subject_text, body_text = _content(services, actor, contact_id, draft_id, subject, body)
    mailbox = _mailbox(services, actor, mailbox_id)
    message = _message(services, mailbox, actor.email, f"[Test] {subject_text}", body_text)
    connection = MailboxConnection(
        id=mailbox.id, kind=mailbox.kind.value, email=mailbox.email, smtp_host=mailbox.smtp_host,
        smtp_port=mailbox.smtp_port, smtp_security=mailbox.smtp_security.value, smtp_username=mailbox.smtp_username,
        credentials=decrypt_credentials(services.settings, mailbox.credentials_encrypted))
    sent = transport_for(services, connection).send(message)
    with services.uow() as uow:
        audit.record(uow.session, actor, "create", "test_send", sent.provider_message_id,
                     {"to": actor.email, "mailbox_id": mailbox.id, "draft_id": draft_id})
        uow.commit()
    return sent
