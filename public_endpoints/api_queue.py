"""/api/v1/contact-queue: the rep's queue for programs (scopes read:queue and write:queue).

Same credentials, rate limits and problem+json errors as public_endpoints.api; each view calls one core
use case. Research and proposals start a batch (202 with the job) that the worker runs; poll the job.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.queue import batches, service
from core.queue.metrics import queue_metrics
from core.queue.models import QueueStatus
from core.queue.schemas import (
    BulkInput,
    BulkResult,
    EntryDetail,
    EntryInput,
    EntryPage,
    EntryView,
    JobView,
    QueueMetrics,
    QueueQuery,
)
from public_endpoints import current_services
from public_endpoints.api_auth import SECURITY, api_blueprint, current_actor

bp = api_blueprint("api_v1_queue", __name__, url_prefix="/api/v1/contact-queue", tag="Contact queue")


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: QueueStatus
    reason: str | None = None


class EntryIds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_ids: list[int] = Field(min_length=1, max_length=batches.MAX_BATCH)


class ProposeRequest(EntryIds):
    variants: int = Field(default=3, ge=1, le=5)
    regenerate: bool = False


def _run(job: JobView) -> JobView:
    """Enqueue the batch; in immediate mode (tests, a laptop) it has already run, so return its outcome."""
    from jobs.queue import enqueue

    enqueue(job)
    return batches.get_job(current_services().uow(), actor=current_actor(), job_id=job.id)


@bp.post("/add")
@bp.input(EntryInput, arg_name="body")
@bp.output(EntryView, status_code=201)
@bp.doc(summary="Add one contact to the queue", security=SECURITY)
def add(body: EntryInput) -> Any:
    return service.add_to_queue(current_services().uow(), actor=current_actor(), data=body)


@bp.post("/add-bulk")
@bp.input(BulkInput, arg_name="body")
@bp.output(BulkResult, status_code=201)
@bp.doc(summary="Add contacts by id, email or saved filter; already-queued ones are reported", security=SECURITY)
def add_bulk(body: BulkInput) -> Any:
    return service.add_bulk(current_services().uow(), actor=current_actor(), data=body)


@bp.get("/list")
@bp.input(QueueQuery, location="query", arg_name="query")
@bp.output(EntryPage)
@bp.doc(summary="List queue entries (filters, sort, pagination)", security=SECURITY)
def list_entries(query: QueueQuery) -> Any:
    return service.list_queue(current_services().uow(), actor=current_actor(), query=query)


@bp.get("/metrics")
@bp.output(QueueMetrics)
@bp.doc(summary="Queue size by status, time in status, success rates, per rep", security=SECURITY)
def metrics() -> Any:
    return queue_metrics(current_services().uow(), actor=current_actor())


@bp.get("/jobs/<int:job_id>")
@bp.output(JobView)
@bp.doc(summary="Progress of a research or proposal batch", security=SECURITY)
def get_job(job_id: int) -> Any:
    return batches.get_job(current_services().uow(), actor=current_actor(), job_id=job_id)


@bp.get("/<int:entry_id>")
@bp.output(EntryDetail)
@bp.doc(summary="One entry with its research, proposals and status history", security=SECURITY)
def get_entry(entry_id: int) -> Any:
    return service.get_entry(current_services().uow(), actor=current_actor(), entry_id=entry_id)


@bp.post("/<int:entry_id>/status")
@bp.input(StatusChange, arg_name="body")
@bp.output(EntryView)
@bp.doc(summary="Move an entry (allowed transitions only)", security=SECURITY)
def change_status(entry_id: int, body: StatusChange) -> Any:
    return service.update_status(current_services().uow(), actor=current_actor(), entry_id=entry_id,
                                 status=body.status, reason=body.reason)


@bp.delete("/<int:entry_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Remove an entry from the queue", security=SECURITY)
def remove(entry_id: int) -> Any:
    service.remove_from_queue(current_services().uow(), actor=current_actor(), entry_id=entry_id)
    return ""


@bp.post("/research")
@bp.input(EntryIds, arg_name="body")
@bp.output(JobView, status_code=202)
@bp.doc(summary="Research these entries (a batch job)", security=SECURITY)
def research(body: EntryIds) -> Any:
    return _run(batches.start_research(current_services().uow(), actor=current_actor(), entry_ids=body.entry_ids))


@bp.post("/propose-email")
@bp.input(ProposeRequest, arg_name="body")
@bp.output(JobView, status_code=202)
@bp.doc(summary="Draft proposals for researched entries (a batch job; none added twice unless regenerate)",
        security=SECURITY)
def propose_email(body: ProposeRequest) -> Any:
    return _run(batches.start_proposals(current_services().uow(), actor=current_actor(), entry_ids=body.entry_ids,
                                        variants=body.variants, regenerate=body.regenerate))
