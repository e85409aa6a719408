"""Read models and inputs of the mail domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.mail.models import MailboxKind, SendStatus, SmtpSecurity


class MailboxInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str
    kind: MailboxKind
    from_name: str = ""
    signature: str = ""
    postal_address: str = ""
    daily_cap: int = Field(default=50, ge=1, le=10000)
    window_start_hour: int = Field(default=0, ge=0, le=23)
    window_end_hour: int = Field(default=24, ge=1, le=24)
    timezone: str = "UTC"
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: SmtpSecurity = SmtpSecurity.starttls
    smtp_username: str | None = None
    # SMTP: {"password": ...}; Gmail: the OAuth token dict (token, refresh_token, ...). Encrypted at rest.
    credentials: dict[str, str] = Field(default_factory=dict, repr=False)
    gmail_prefers_drafts: bool = False

    @field_validator("email")
    @classmethod
    def _normalise(cls, value: str) -> str:
        value = value.strip().lower()
        if "@" not in value:
            raise ValueError("not an email address")
        return value


class MailboxView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    kind: MailboxKind
    from_name: str
    signature: str
    postal_address: str
    daily_cap: int
    window_start_hour: int
    window_end_hour: int
    timezone: str
    smtp_host: str | None
    smtp_port: int | None
    smtp_security: SmtpSecurity
    smtp_username: str | None
    gmail_prefers_drafts: bool
    active: bool
    owner_id: int | None


class LedgerEntryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    draft_id: int | None
    mailbox_id: int
    contact_id: int | None
    campaign_id: int | None
    to_email: str
    subject: str
    status: SendStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    message_id: str
    provider_message_id: str | None
    thread_id: str | None
    sent_at: datetime | None


class TrackingSwitchesView(BaseModel):
    campaign_id: int
    track_opens: bool
    track_clicks: bool
    plain_text_only: bool


class InboundView(BaseModel):
    """What the inbound pipeline made of one message."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: str
    kind: str
    ledger_entry_id: int | None
    contact_id: int | None
    from_email: str
    subject: str
    text: str
    intent: str | None
    intent_source: str | None
    sentiment: str | None
    status_code: str | None
    source: str
    received_at: datetime
    duplicate: bool = False
    suppressed: list[str] = Field(default_factory=list)  # "email (reason)" added by this message
    task_id: int | None = None


class NotificationView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int | None
    kind: str
    title: str
    body: str
    contact_id: int | None
    created_at: datetime
    read_at: datetime | None
    inbound_message_id: int | None = None
    # Filled by core.mail.notifications from the contact and the reply (empty when they are gone).
    contact_email: str | None = None
    reply_from: str = ""
    reply_subject: str = ""
    reply_text: str = ""
