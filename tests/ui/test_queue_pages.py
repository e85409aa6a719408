"""Queue and Proposal approval pages, headless: fill the queue, research and draft in a batch, approve."""

from __future__ import annotations

from sqlalchemy import select

from core.content.models import DraftStatus
from core.crm.models import Contact
from core.queue import batches, service
from core.queue.models import QueueStatus
from core.queue.schemas import BulkInput, QueueQuery
from jobs import huey_app

QUEUE, APPROVAL, METRICS = "pages/Queue.py", "pages/Proposal_Approval.py", "pages/Queue_Metrics.py"


def inline_jobs(services):
    """Batches run inside the click, as with HUEY_IMMEDIATE=true on a laptop."""
    immediate = services.settings.model_copy(update={"huey_immediate": True})
    return huey_app.running_against(services, huey_app.make_huey(immediate))


def _contact_ids(services, n):
    with services.uow() as uow:
        return list(uow.session.scalars(select(Contact.id).where(Contact.company_id.is_not(None))
                                        .order_by(Contact.id).limit(n)))


def _queue(services, actor, n=3):
    with inline_jobs(services):
        ids = service.add_bulk(services.uow(), actor=actor, data=BulkInput(contact_ids=_contact_ids(services, n))).added
        batches.run_job(services, batches.start_research(services.uow(), actor=actor, entry_ids=ids).id)
        batches.run_job(services, batches.start_proposals(services.uow(), actor=actor, entry_ids=ids).id)
    return ids


def test_queue_page_adds_from_a_search_then_researches_and_drafts(demo_services, demo_actor, open_page, text_of):
    with inline_jobs(demo_services):
        at = open_page(QUEUE)
        assert not at.exception
        at.text_input(key="queue_add_search").input("northwind")
        at.number_input(key="queue_add_limit").set_value(4)
        at.button(key="queue_add_submit").click().run()
        assert "Added 4 to the queue" in text_of(at)
        assert at.metric[0].value == "4"  # pending

        at.button(key="queue_research").click().run()
        assert "Research started for 4 entries." in text_of(at)
        at.button(key="queue_propose").click().run()
        assert not at.exception

    page = service.list_queue(demo_services.uow(), actor=demo_actor, query=QueueQuery())
    assert page.total == 4 and {e.status for e in page.items} == {QueueStatus.draft_created}
    assert {e.proposals for e in page.items} == {3}


def test_queue_page_filters_by_status_and_shows_counts(demo_services, demo_actor, open_page, table):
    _queue(demo_services, demo_actor, 2)
    service.add_bulk(demo_services.uow(), actor=demo_actor, data=BulkInput(contact_ids=_contact_ids(demo_services, 3)))
    at = open_page(QUEUE)
    counts = {m.label: m.value for m in at.metric}
    assert counts["Draft created"] == "2" and counts["Pending"] == "1"
    at.selectbox(key="queue_f_status").select("pending")
    at.button(key="queue_f_apply").click().run()
    assert list(table(at, "status")["status"]) == ["Pending"]


def test_failed_entry_shows_reason_and_retry(demo_services, demo_actor, open_page, text_of, table):
    (entry_id,) = service.add_bulk(demo_services.uow(), actor=demo_actor,
                                   data=BulkInput(contact_ids=_contact_ids(demo_services, 1))).added
    service.update_status(demo_services.uow(), actor=demo_actor, entry_id=entry_id, status=QueueStatus.failed,
                          reason="model endpoint timed out")
    with inline_jobs(demo_services):
        at = open_page(QUEUE)
        assert "model endpoint timed out" in table(at, "failed entry")["failed entry"][0]
        at.selectbox(key="queue_retry_pick").select(entry_id)
        at.button(key="queue_retry").click().run()
    assert "Retry started." in text_of(at)
    assert service.get_entry(demo_services.uow(), actor=demo_actor, entry_id=entry_id).status is QueueStatus.ready


def test_approval_page_shows_variants_and_research_and_approves(demo_services, demo_actor, open_page, text_of,
                                                                table):
    ids = _queue(demo_services, demo_actor, 2)
    at = open_page(APPROVAL)
    assert not at.exception
    entry = service.get_entry(demo_services.uow(), actor=demo_actor, entry_id=ids[0])
    assert "Research" in text_of(at) and "companies.industry" in text_of(at)
    first, second = entry.proposal_list[0], entry.proposal_list[1]
    assert at.text_input(key=f"approval_subject_{second.id}").value == second.subject

    at.text_input(key=f"approval_subject_{second.id}").input("Your carrier costs, Northwind")
    with inline_jobs(demo_services):
        at.button(key=f"approval_approve_{second.id}").click().run()
    assert not at.exception
    assert f"Approved variant {second.variant}" in text_of(at)
    after = service.get_entry(demo_services.uow(), actor=demo_actor, entry_id=ids[0])
    assert after.status is QueueStatus.approved
    chosen = next(p for p in after.proposal_list if p.id == second.id)
    assert chosen.edited and chosen.original_subject == second.subject
    approved = table(at, "draft")
    assert "Your carrier costs, Northwind" in list(approved["subject"])
    assert first.id != second.id


def test_approval_page_rejects_with_reason_and_regenerates(demo_services, demo_actor, open_page, text_of):
    ids = _queue(demo_services, demo_actor, 1)
    p1, p2 = service.get_entry(demo_services.uow(), actor=demo_actor, entry_id=ids[0]).proposal_list[:2]
    at = open_page(APPROVAL)
    at.text_input(key=f"approval_reason_{p1.id}").input("too generic")
    at.button(key=f"approval_reject_{p1.id}").click().run()
    assert "Rejected variant 1." in text_of(at)
    at.text_input(key=f"approval_instruction_{p2.id}").input("shorter")
    at.button(key=f"approval_regen_{p2.id}").click().run()
    assert "regenerated" in text_of(at)
    after = service.get_entry(demo_services.uow(), actor=demo_actor, entry_id=ids[0]).proposal_list
    assert after[0].rejection_reason == "too generic" and after[1].instruction == "shorter"


def test_approval_page_says_which_instructions_the_offline_composer_follows(demo_services, demo_actor, open_page,
                                                                          text_of):
    from core.ai.instructions import OFFLINE_NOTICE

    ids = _queue(demo_services, demo_actor, 1)
    p = service.get_entry(demo_services.uow(), actor=demo_actor, entry_id=ids[0]).proposal_list[0]
    at = open_page(APPROVAL)
    assert not at.exception
    notices = [c.value for c in at.caption if c.value == OFFLINE_NOTICE]
    assert len(notices) == 3  # under each variant's instruction box
    assert "shorter · longer · more formal · more casual · ask a question" in OFFLINE_NOTICE

    at.text_input(key=f"approval_instruction_{p.id}").input("make it punchier")
    at.button(key=f"approval_regen_{p.id}").click().run()
    assert not at.exception
    assert 'Instruction not followed: "make it punchier" is not an instruction the offline composer' in "\n".join(
        str(w.value) for w in at.warning)


def test_model_html_is_never_rendered(demo_services, demo_actor, open_page):
    ids = _queue(demo_services, demo_actor, 1)
    from core.queue import review
    p = service.get_entry(demo_services.uow(), actor=demo_actor, entry_id=ids[0]).proposal_list[0]
    review.edit_proposal(demo_services.uow(), actor=demo_actor, proposal_id=p.id, subject=p.subject,
                         body="Hi <script>alert(1)</script><img src=x onerror=alert(2)> there")
    at = open_page(APPROVAL)
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert "<script" not in shown and "<img" not in shown and "onerror" not in shown


def test_metrics_page_charts_and_exports(demo_services, demo_actor, open_page, text_of, table):
    _queue(demo_services, demo_actor, 2)
    at = open_page(METRICS)
    assert not at.exception
    assert at.metric[0].value == "2"
    assert "Size by status" in text_of(at) and "Per rep" in text_of(at)
    assert "Dana Demo" in list(table(at, "rep")["rep"])
    assert DraftStatus.approved.value == "approved"
