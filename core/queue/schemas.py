"""Read models and inputs of the contact queue."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.crm.models import LifecycleStage
from core.queue.models import ProposalStatus, QueueJobKind, QueueJobStatus, QueuePriority, QueueStatus

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class QueueSort(StrEnum):
    priority = "priority"  # most urgent first, then oldest
    newest = "newest"
    oldest = "oldest"
    status_changed = "status_changed"
    company = "company"


class EntryInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int
    priority: QueuePriority = QueuePriority.normal
    owner_id: int | None = None  # default: the actor
    campaign_id: int | None = None


class BulkInput(BaseModel):
    """Contacts by id, by a saved filter, or by email (a CSV column); the same priority for all."""

    model_config = ConfigDict(extra="forbid")

    contact_ids: list[int] = Field(default_factory=list, max_length=5000)
    saved_filter_id: int | None = None
    emails: list[str] = Field(default_factory=list, max_length=5000)
    priority: QueuePriority = QueuePriority.normal
    owner_id: int | None = None
    campaign_id: int | None = None


class BulkResult(BaseModel):
    added: list[int]  # entry ids
    already_queued: list[int]  # contact ids with an active entry
    not_found: list[str]  # contact ids or emails we do not know


class ContactFilter(BaseModel):
    """What a saved filter remembers: the contact search of the Contacts page."""

    model_config = ConfigDict(extra="forbid")

    search: str | None = None
    stage: LifecycleStage | None = None
    company_id: int | None = None
    owner_id: int | None = None
    industry: str | None = None
    limit: int = Field(default=500, ge=1, le=5000)


class SavedFilterView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    filters: dict[str, Any]


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: QueueStatus | None = None
    priority: QueuePriority | None = None
    owner_id: int | None = None
    campaign_id: int | None = None
    company: str | None = None  # part of the company name or domain
    sort: QueueSort = QueueSort.priority
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class EntryView(BaseModel):
    id: int
    contact_id: int
    contact_name: str
    contact_email: str
    company: str | None
    status: QueueStatus
    priority: QueuePriority
    owner_id: int | None
    campaign_id: int | None
    failure_reason: str | None
    draft_id: int | None
    send_ledger_id: int | None
    has_research: bool
    proposals: int
    status_changed_at: datetime
    created_at: datetime


class EntryPage(BaseModel):
    items: list[EntryView]
    total: int
    limit: int
    offset: int


class ProposalView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entry_id: int
    variant: int
    subject: str
    body: str
    original_subject: str
    original_body: str
    edited: bool
    reasoning: str
    personalization_notes: list[str]
    citations: list[dict[str, Any]]
    score: int
    content_warnings: list[str]
    instruction: str | None
    model_label: str
    offline: bool
    status: ProposalStatus
    rejection_reason: str | None
    draft_id: int | None


class StatusChangeView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: QueueStatus
    from_status: QueueStatus | None
    entered_at: datetime
    left_at: datetime | None
    reason: str | None


class EntryDetail(EntryView):
    research: dict[str, Any] | None
    proposal_list: list[ProposalView]
    history: list[StatusChangeView]


class JobView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: QueueJobKind
    status: QueueJobStatus
    total: int
    done: int
    failed: int
    errors: dict[str, Any]
    created_by_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in (QueueJobStatus.done, QueueJobStatus.failed)

    @property
    def fraction(self) -> float:
        return (self.done + self.failed) / self.total if self.total else 1.0


class ApprovalResult(BaseModel):
    entry_id: int
    proposal_id: int
    draft_id: int
    send_ledger_id: int | None  # None when no mailbox is connected: the draft waits as approved
    not_queued_reason: str | None = None


class RepMetrics(BaseModel):
    owner_id: int | None
    total: int
    by_status: dict[str, int]
    approved: int
    sent: int


class QueueMetrics(BaseModel):
    total: int
    by_status: dict[str, int]
    avg_seconds_in_status: dict[str, float]
    research_success_rate: float | None  # of entries researched, how many reached ready
    proposal_success_rate: float | None  # of entries drafted, how many got proposals
    approval_rate: float | None  # of entries with proposals, how many were approved
    per_rep: list[RepMetrics]
