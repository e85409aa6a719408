"""The contact queue in core: add and list, transitions with history, research and proposal batches,
review (edit keeps the original, reject, approve creates the draft), metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.auth.actor import Actor
from core.content import drafts
from core.content.models import DraftStatus
from core.errors import Conflict, InvalidTransition, PermissionDenied
from core.queue import batches, review, service, work
from core.queue.metrics import queue_metrics
from core.queue.models import ProposalStatus, QueuePriority, QueueStatus
from core.queue.schemas import BulkInput, ContactFilter, EntryInput, QueueQuery
from core.services import Services
from tests import factories


def _contact(services: Services, actor: Actor, **fields: object) -> int:
    company = factories.company(services, actor, industry="Logistics", employee_count=1800)
    return factories.contact(services, actor, company_domain=company.domain, title="VP Operations", **fields).id


def _researched(services: Services, actor: Actor, n: int = 1) -> list[int]:
    ids = service.add_bulk(services.uow(), actor=actor,
                           data=BulkInput(contact_ids=[_contact(services, actor) for _ in range(n)])).added
    batches.run_job(services, batches.start_research(services.uow(), actor=actor, entry_ids=ids).id)
    return ids


def _proposed(services: Services, actor: Actor) -> int:
    (entry_id,) = _researched(services, actor)
    batches.run_job(services, batches.start_proposals(services.uow(), actor=actor, entry_ids=[entry_id]).id)
    return entry_id


def test_queue_add_and_list(services: Services, rep: Actor) -> None:
    contact_id = _contact(services, rep)
    added = service.add_to_queue(services.uow(), actor=rep,
                                 data=EntryInput(contact_id=contact_id, priority=QueuePriority.urgent))
    page = service.list_queue(services.uow(), actor=rep)
    assert page.total == 1
    assert page.items[0].id == added.id and page.items[0].status is QueueStatus.pending
    assert page.items[0].priority is QueuePriority.urgent and page.items[0].owner_id == rep.user_id


def test_a_contact_has_one_active_entry(services: Services, rep: Actor) -> None:
    contact_id = _contact(services, rep)
    service.add_to_queue(services.uow(), actor=rep, data=EntryInput(contact_id=contact_id))
    with pytest.raises(Conflict):
        service.add_to_queue(services.uow(), actor=rep, data=EntryInput(contact_id=contact_id))
    result = service.add_bulk(services.uow(), actor=rep, data=BulkInput(contact_ids=[contact_id]))
    assert result.added == [] and result.already_queued == [contact_id]


def test_bulk_add_of_three_by_ids_emails_and_saved_filter(services: Services, rep: Actor) -> None:
    by_id = _contact(services, rep)
    by_email = factories.contact(services, rep, email="lena.ortiz@northwind.example")
    in_filter = factories.contact(services, rep, first_name="Zebulon")
    saved = service.save_filter(services.uow(), actor=rep, name="Zebulons", filters=ContactFilter(search="zebulon"))
    result = service.add_bulk(services.uow(), actor=rep, data=BulkInput(
        contact_ids=[by_id], emails=["Lena.Ortiz@northwind.example", "nobody@nowhere.example", "not-an-email"],
        saved_filter_id=saved.id))
    assert len(result.added) == 3
    assert result.not_found == ["not-an-email", "nobody@nowhere.example"]
    listed = {e.contact_id for e in service.list_queue(services.uow(), actor=rep).items}
    assert listed == {by_id, by_email.id, in_filter.id}


def test_list_filters_and_sorts(services: Services, rep: Actor, admin: Actor) -> None:
    ids = service.add_bulk(services.uow(), actor=rep, data=BulkInput(
        contact_ids=[_contact(services, rep) for _ in range(3)])).added
    service.set_priority(services.uow(), actor=rep, entry_id=ids[2], priority=QueuePriority.high)
    service.update_status(services.uow(), actor=rep, entry_id=ids[1], status=QueueStatus.skipped)
    first = service.list_queue(services.uow(), actor=rep, query=QueueQuery()).items[0]
    assert first.id == ids[2]
    skipped = service.list_queue(services.uow(), actor=rep, query=QueueQuery(status=QueueStatus.skipped))
    assert [e.id for e in skipped.items] == [ids[1]]
    assert service.list_queue(services.uow(), actor=rep, query=QueueQuery(owner_id=admin.user_id)).total == 0


def test_only_allowed_transitions_and_each_is_timestamped(services: Services, rep: Actor) -> None:
    entry = service.add_to_queue(services.uow(), actor=rep, data=EntryInput(contact_id=_contact(services, rep)))
    with pytest.raises(InvalidTransition):
        service.update_status(services.uow(), actor=rep, entry_id=entry.id, status=QueueStatus.approved)
    service.update_status(services.uow(), actor=rep, entry_id=entry.id, status=QueueStatus.skipped)
    history = service.get_entry(services.uow(), actor=rep, entry_id=entry.id).history
    assert [h.status for h in history] == [QueueStatus.pending, QueueStatus.skipped]
    assert history[0].left_at is not None and history[1].left_at is None


def test_reps_change_only_their_own_entries(services: Services, rep: Actor, admin: Actor) -> None:
    entry = service.add_to_queue(services.uow(), actor=admin, data=EntryInput(contact_id=_contact(services, admin)))
    with pytest.raises(PermissionDenied):
        service.remove_from_queue(services.uow(), actor=rep, entry_id=entry.id)


def test_research_batch_reaches_ready_with_cited_research(services: Services, rep: Actor) -> None:
    ids = _researched(services, rep, 2)
    for entry_id in ids:
        detail = service.get_entry(services.uow(), actor=rep, entry_id=entry_id)
        assert detail.status is QueueStatus.ready
        assert detail.research is not None
        assert all(i["source"] for i in detail.research["insights"])
        assert {"label": "industry", "value": "Logistics", "source": "companies.industry"} in detail.research["facts"]


def test_job_row_records_progress_and_failed_entries_keep_their_reason(services: Services, rep: Actor) -> None:
    good = _researched(services, rep)[0]
    pending = service.add_to_queue(services.uow(), actor=rep, data=EntryInput(contact_id=_contact(services, rep))).id
    job = batches.run_job(services, batches.start_proposals(services.uow(), actor=rep, entry_ids=[good, pending]).id)
    assert (job.status.value, job.total, job.done, job.failed) == ("done", 2, 1, 1)
    assert "only researched entries" in job.errors[str(pending)]
    assert batches.get_job(services.uow(), actor=rep, job_id=job.id).done == 1


def test_failed_entry_shows_its_reason_and_can_be_retried(services: Services, rep: Actor) -> None:
    contact_id = _contact(services, rep)
    from core.crm.models import SuppressionReason
    from core.crm.service import get_contact, suppress_email
    email = get_contact(services.uow(), actor=rep, contact_id=contact_id).email
    (entry_id,) = service.add_bulk(services.uow(), actor=rep, data=BulkInput(contact_ids=[contact_id])).added
    batches.run_job(services, batches.start_research(services.uow(), actor=rep, entry_ids=[entry_id]).id)
    suppress_email(services.uow(), actor=rep, email=email, reason=SuppressionReason.unsubscribed)
    batches.run_job(services, batches.start_proposals(services.uow(), actor=rep, entry_ids=[entry_id]).id)
    failed = service.get_entry(services.uow(), actor=rep, entry_id=entry_id)
    assert failed.status is QueueStatus.failed and "suppressed" in (failed.failure_reason or "")

    retry = batches.retry_entry(services.uow(), actor=rep, entry_id=entry_id)
    assert retry.kind.value == "propose"
    assert service.get_entry(services.uow(), actor=rep, entry_id=entry_id).status is QueueStatus.ready


def test_three_proposals_with_subject_body_and_citations(services: Services, rep: Actor) -> None:
    entry = service.get_entry(services.uow(), actor=rep, entry_id=_proposed(services, rep))
    assert entry.status is QueueStatus.draft_created
    assert [p.variant for p in entry.proposal_list] == [1, 2, 3]
    for p in entry.proposal_list:
        assert p.subject and p.body and p.reasoning and p.status is ProposalStatus.proposed
        assert 0 <= p.score <= 100 and p.offline
    assert any(p.citations for p in entry.proposal_list)


def test_proposing_again_adds_no_duplicates_unless_regenerating(services: Services, rep: Actor) -> None:
    entry_id = _proposed(services, rep)
    again = batches.run_job(services, batches.start_proposals(services.uow(), actor=rep, entry_ids=[entry_id]).id)
    assert again.done == 1 and again.failed == 0
    assert len(service.get_entry(services.uow(), actor=rep, entry_id=entry_id).proposal_list) == 3
    work.propose_for_entry(services, actor=rep, entry_id=entry_id, variants=2, regenerate=True)
    assert len(service.get_entry(services.uow(), actor=rep, entry_id=entry_id).proposal_list) == 2


def test_regenerate_shorter_makes_the_variant_shorter(services: Services, rep: Actor) -> None:
    proposal = service.get_entry(services.uow(), actor=rep, entry_id=_proposed(services, rep)).proposal_list[0]
    shorter = work.regenerate_variant(services, actor=rep, proposal_id=proposal.id, instruction="shorter please")
    assert len(shorter.body.split()) < len(proposal.body.split())
    assert shorter.instruction == "shorter please" and shorter.variant == proposal.variant


def test_edit_keeps_the_original_text(services: Services, rep: Actor) -> None:
    proposal = service.get_entry(services.uow(), actor=rep, entry_id=_proposed(services, rep)).proposal_list[1]
    edited = review.edit_proposal(services.uow(), actor=rep, proposal_id=proposal.id, subject="Carrier costs",
                                  body=proposal.body + "\n\nP.S. Congrats on the new warehouse.")
    assert edited.edited and edited.subject == "Carrier costs"
    assert edited.original_subject == proposal.subject and edited.original_body == proposal.body


def test_reject_needs_a_reason_and_rejecting_all_returns_the_entry_to_ready(services: Services, rep: Actor) -> None:
    entry = service.get_entry(services.uow(), actor=rep, entry_id=_proposed(services, rep))
    for p in entry.proposal_list:
        review.reject_proposal(services.uow(), actor=rep, proposal_id=p.id, reason="too generic")
    after = service.get_entry(services.uow(), actor=rep, entry_id=entry.id)
    assert after.status is QueueStatus.ready
    assert {p.rejection_reason for p in after.proposal_list} == {"too generic"}


def test_approve_creates_an_approved_draft_from_the_edited_text(services: Services, rep: Actor) -> None:
    entry = service.get_entry(services.uow(), actor=rep, entry_id=_proposed(services, rep))
    chosen = entry.proposal_list[2]
    review.edit_proposal(services.uow(), actor=rep, proposal_id=chosen.id, subject="Edited subject", body=chosen.body)
    result = review.approve_proposal(services, actor=rep, proposal_id=chosen.id)
    draft = next(d for d in drafts.list_drafts(services.uow(), actor=rep) if d.id == result.draft_id)
    assert draft.status is DraftStatus.approved and draft.subject == "Edited subject"
    assert result.send_ledger_id is None and "mailbox" in (result.not_queued_reason or "")
    after = service.get_entry(services.uow(), actor=rep, entry_id=entry.id)
    assert after.status is QueueStatus.approved and after.draft_id == draft.id
    assert [p.status for p in after.proposal_list].count(ProposalStatus.selected) == 1
    with pytest.raises(InvalidTransition):
        review.approve_proposal(services, actor=rep, proposal_id=entry.proposal_list[0].id)


def test_metrics_total_by_status_time_in_status_and_rates(services: Services, rep: Actor) -> None:
    _researched(services, rep, 2)
    service.add_to_queue(services.uow(), actor=rep, data=EntryInput(contact_id=_contact(services, rep)))
    later = services.clock() + timedelta(hours=1)
    metrics = queue_metrics(services.uow(), actor=rep, now=later)
    assert metrics.total == 3
    assert metrics.by_status["ready"] == 2 and metrics.by_status["pending"] == 1
    assert metrics.research_success_rate == 1.0
    assert metrics.avg_seconds_in_status["ready"] >= 3500
    assert metrics.per_rep[0].owner_id == rep.user_id and metrics.per_rep[0].total == 3
