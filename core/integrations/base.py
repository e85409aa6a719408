"""Protocols of the outside systems; each has real implementations in core/integrations/<name>.py,
chosen in core.services.build_services. Additive: every connector adds its Protocol here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol, runtime_checkable

from core.ai.schemas import DraftBatch, DraftRequest, StyleNotes
from core.errors import ConnectorError


@runtime_checkable
class LanguageModel(Protocol):
    """Writes email variants and style notes; the offline composer and OpenAI-compatible endpoints."""

    @property
    def label(self) -> str:
        """Shown wherever drafts appear, e.g. "offline composer" or "OpenAI-compatible (gpt-4o-mini)"."""
        ...

    @property
    def offline(self) -> bool: ...

    def draft_emails(self, request: DraftRequest) -> DraftBatch:
        """Return ``request.variants`` variants; raise ConnectorError when the endpoint fails."""
        ...

    def style_notes(self, samples: Sequence[str], computed: Sequence[str]) -> StyleNotes:
        """Notes on a writer's style from samples; ``computed`` holds the metrics already measured."""
        ...


@runtime_checkable
class Transcriber(Protocol):
    """Speech to text for voice-training audio (videos without captions); an OpenAI-compatible endpoint."""

    label: str

    def transcribe(self, filename: str, audio: bytes) -> str:
        """The words spoken in the file; raise ConnectorError when the endpoint fails."""
        ...


# --- Mail (sending and tracking) ------------------------------------------------------------------------

@dataclass(frozen=True)
class SentMessage:
    provider_message_id: str
    thread_id: str | None = None


class DeliveryOutcomeUnknown(ConnectorError):
    """The request may have reached the provider (timeout or disconnect after it left): never resend blindly."""

    code = "delivery_outcome_unknown"

    def __init__(self, message: str, *, connector: str) -> None:
        super().__init__(message, connector=connector, retryable=False)


class MailTransport(Protocol):
    """Hands a built message to a mail provider; ``find_sent`` looks our Message-ID up after an ambiguity."""

    label: str
    # False where the provider offers no search (plain SMTP): an unknown outcome then needs a person.
    can_look_up_sent: bool

    def send(self, message: EmailMessage, *, thread_id: str | None = None) -> SentMessage: ...

    def save_draft(self, message: EmailMessage, *, thread_id: str | None = None) -> SentMessage: ...

    def find_sent(self, message_id: str) -> SentMessage | None: ...


# --- CRM (HubSpot) --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CRMRecord:
    """One CRM object as the vendor holds it: its id, property values (strings) and modification time."""

    id: str
    properties: dict[str, str | None]
    created_at: datetime
    updated_at: datetime
    archived: bool = False


@dataclass(frozen=True)
class CRMPage:
    records: list[CRMRecord]
    after: str | None  # cursor of the next page; None on the last one
    total: int | None = None


@dataclass(frozen=True)
class MarketingEmail:
    id: str
    name: str
    subject: str
    text: str  # the HTML body as plain text, for voice training


class CRMConnector(Protocol):
    """The CRM of record. Object types are the vendor's plural names: contacts, companies, notes, tasks, deals."""

    label: str

    def test_connection(self) -> str: ...

    def list_page(self, object_type: str, *, properties: list[str], after: str | None = None,
                  limit: int = 100) -> CRMPage: ...

    def get(self, object_type: str, object_id: str, *, properties: list[str]) -> CRMRecord | None: ...

    def create(self, object_type: str, properties: dict[str, str | None]) -> CRMRecord: ...

    def update(self, object_type: str, object_id: str, properties: dict[str, str | None]) -> CRMRecord: ...

    def batch_read(self, object_type: str, ids: list[str], *, properties: list[str],
                   id_property: str | None = None) -> list[CRMRecord]: ...

    def batch_create(self, object_type: str, inputs: list[dict[str, str | None]]) -> list[CRMRecord]: ...

    def batch_update(self, object_type: str, updates: dict[str, dict[str, str | None]]) -> list[CRMRecord]: ...

    def find_company_by_domain(self, domain: str, *, properties: list[str]) -> CRMRecord | None: ...

    def count(self, object_type: str) -> int: ...

    def modified_since(self, object_type: str, since: datetime, *, properties: list[str],
                       page_size: int = 100) -> Iterator[CRMRecord]: ...

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None: ...

    def associated_ids(self, from_type: str, from_id: str, to_type: str) -> list[str]: ...

    def companies_of_contacts(self, contact_ids: list[str]) -> dict[str, list[str]]: ...

    def associate_contacts_with_companies(self, pairs: list[tuple[str, str]]) -> None: ...

    def create_note(self, contact_id: str, body_html: str, at: datetime) -> str: ...

    def create_task(self, contact_id: str, subject: str, body: str, due: datetime, *, completed: bool = False,
                    priority: str = "MEDIUM", task_type: str = "TODO") -> str: ...

    def engagements_for_contact(self, object_type: str, contact_id: str, *,
                                properties: list[str]) -> list[CRMRecord]: ...

    def marketing_emails(self, *, limit: int = 50) -> list[MarketingEmail]: ...


# --- Alerts (Slack) -------------------------------------------------------------------------------------

class AlertChannel(Protocol):
    """Where operators hear about failures (a Slack incoming webhook)."""

    label: str

    def notify(self, text: str) -> None: ...


# --- Spam scoring (SpamAssassin) --------------------------------------------------------------------------

@dataclass(frozen=True)
class SpamRule:
    points: float
    name: str
    description: str


@dataclass(frozen=True)
class SpamScore:
    available: bool  # False where no checker is installed: the page says so, no score is invented
    score: float | None = None
    required: float | None = None
    rules: tuple[SpamRule, ...] = ()
    note: str = ""


class SpamChecker(Protocol):
    """Scores a whole message (SpamAssassin)."""

    label: str

    def score(self, raw_message: bytes) -> SpamScore: ...
