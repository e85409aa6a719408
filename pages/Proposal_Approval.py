"""Proposal approval: one queue entry at a time, its variants side by side with the research they rest on;
edit in place, regenerate one variant with an instruction, approve (creates the draft and hands it to
sending), reject with a reason, next. Every text from the model or the web is shown sanitised (nh3 → markdown).
Logic lives in core.queue.review and core.queue.work; reads go through ui.queue."""

from __future__ import annotations

import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import UPDATE, allowed
from core.queue import review, work
from core.queue.models import ProposalStatus, QueueStatus
from core.queue.schemas import ApprovalResult, EntryDetail, ProposalView, QueueQuery, QueueSort
from core.services import Services
from jobs.queue import send_approved
from ui import queue as view
from ui.runtime import current_actor, start_rerun
from ui.widgets import ensure_navigation, fmt_dt, set_flash, show_flash

ensure_navigation()
services = start_rerun("Proposal approval")
actor = current_actor(services)
can_write = allowed(actor, "queue", UPDATE)
FLASH = "approval"


def _edited(p: ProposalView) -> tuple[str, str]:
    s = st.session_state
    return s.get(f"approval_subject_{p.id}", p.subject), s.get(f"approval_body_{p.id}", p.body)


def _save(services: Services, actor: Actor, p: ProposalView) -> None:
    subject, body = _edited(p)
    view.attempt(FLASH, lambda: review.edit_proposal(services.uow(), actor=actor, proposal_id=p.id,
                                                     subject=subject, body=body),
                 success=f"Saved your edit of variant {p.variant}; the original is kept.")


def _approve(services: Services, actor: Actor, p: ProposalView, queue: list[int]) -> None:
    subject, body = _edited(p)

    def run() -> ApprovalResult:
        if (subject, body) != (p.subject, p.body):
            review.edit_proposal(services.uow(), actor=actor, proposal_id=p.id, subject=subject, body=body)
        result = review.approve_proposal(services, actor=actor, proposal_id=p.id)
        send_approved(result)
        return result

    result = view.attempt(FLASH, run, success=lambda r: f"Approved variant {p.variant}: draft #{r.draft_id} " + (
        "handed to sending." if r.send_ledger_id else f"is approved and waits ({r.not_queued_reason})."))
    if result is not None:
        _next(queue, p.entry_id)


def _reject(services: Services, actor: Actor, p: ProposalView) -> None:
    reason = st.session_state.get(f"approval_reason_{p.id}", "")
    view.attempt(FLASH, lambda: review.reject_proposal(services.uow(), actor=actor, proposal_id=p.id, reason=reason),
                 success=f"Rejected variant {p.variant}.")


def _regenerate(services: Services, actor: Actor, p: ProposalView) -> None:
    instruction = st.session_state.get(f"approval_instruction_{p.id}", "")
    done = view.attempt(FLASH, lambda: work.regenerate_variant(services, actor=actor, proposal_id=p.id,
                                                               instruction=instruction),
                        success=f"Variant {p.variant} regenerated: “{instruction}”.")
    if done is not None:  # show the new text in the edit boxes
        for key in (f"approval_subject_{p.id}", f"approval_body_{p.id}"):
            st.session_state.pop(key, None)


def _next(queue: list[int], current: int | None) -> None:
    later = [i for i in queue if i != current]
    if current in queue:
        at = queue.index(current)
        later = queue[at + 1:] + queue[:at]
    if later:
        st.session_state["approval_entry"] = later[0]
    else:
        st.session_state.pop("approval_entry", None)
        set_flash("approval_next", "info", "No other entry waits for review.")


def research_panel(entry: EntryDetail) -> None:
    research = entry.research or {}
    with st.container(border=True, key="approval_research"):
        st.markdown("**Research**")
        if research.get("note"):
            st.caption(view.safe_markdown(str(research["note"])))
        if research.get("recommended_angle"):
            st.markdown("Angle: " + view.safe_markdown(str(research["recommended_angle"])))
        for insight in research.get("insights", []):
            st.markdown(f"- {view.safe_markdown(str(insight.get('text', '')))}  \n"
                        f"  source: `{view.safe_markdown(str(insight.get('source', '')))}`")
        facts = research.get("facts", []) + research.get("contact_facts", [])
        if facts:
            st.markdown("Facts the drafts may cite:")
            for fact in facts:
                st.markdown(f"- {view.safe_markdown(str(fact.get('label')))}: "
                            f"{view.safe_markdown(str(fact.get('value')))} — source: "
                            f"`{view.safe_markdown(str(fact.get('source')))}`")


def variant(p: ProposalView, queue: list[int]) -> None:
    st.markdown(f"**Variant {p.variant}** · score {p.score}/100" + (" · edited" if p.edited else "")
                + (" · offline composer" if p.offline else ""))
    for warning in p.content_warnings:
        st.warning(view.safe_markdown(warning))
    if p.status is not ProposalStatus.proposed:
        st.info(f"{p.status.value.capitalize()}" + (f": {p.rejection_reason}" if p.rejection_reason else ""))
    with st.form(f"approval_form_{p.id}", border=False):
        st.text_input("Subject", value=p.subject, key=f"approval_subject_{p.id}")
        st.text_area("Body", value=p.body, height=260, key=f"approval_body_{p.id}")
        a, b = st.columns(2)
        open_ = p.status is ProposalStatus.proposed and can_write
        a.form_submit_button("Save edit", key=f"approval_save_{p.id}", disabled=not open_, on_click=_save,
                             args=(services, actor, p))
        b.form_submit_button("Approve", key=f"approval_approve_{p.id}", type="primary", disabled=not open_,
                             on_click=_approve, args=(services, actor, p, queue))
    with st.expander("Preview, reasoning and citations"):
        st.markdown(view.safe_markdown(p.body))
        st.caption(view.safe_markdown(p.reasoning))
        for c in p.citations:
            st.markdown(f"- {view.safe_markdown(str(c.get('fact')))} — `{view.safe_markdown(str(c.get('source')))}`")
        if p.edited:
            st.caption("Model's original:")
            st.markdown(view.safe_markdown(p.original_body))
    with st.form(f"approval_regen_form_{p.id}", border=False):
        st.text_input("Regenerate with an instruction", key=f"approval_instruction_{p.id}",
                      placeholder="shorter · mention their expansion")
        if notice := view.instruction_notice(services):
            st.caption(notice)
        st.form_submit_button("Regenerate", key=f"approval_regen_{p.id}", disabled=not open_, on_click=_regenerate,
                              args=(services, actor, p))
    with st.form(f"approval_reject_form_{p.id}", border=False):
        st.text_input("Reason to reject", key=f"approval_reason_{p.id}")
        st.form_submit_button("Reject", key=f"approval_reject_{p.id}", disabled=not open_, on_click=_reject,
                              args=(services, actor, p))


def approved_panel() -> None:
    drafts = view.approved_drafts(services, actor)
    st.subheader("Approved drafts")
    if not drafts:
        st.caption("Nothing approved yet.")
        return
    st.dataframe([{"draft": d.id, "to": d.to_email, "subject": d.subject, "approved": fmt_dt(d.updated_at)}
                  for d in drafts], hide_index=True, key="approval_approved_table")


st.title("Proposal approval")
show_flash(FLASH)
show_flash("approval_next")
waiting = view.entries_page(services, actor, QueueQuery(status=QueueStatus.draft_created, owner_id=actor.user_id,
                                                        sort=QueueSort.priority, limit=50))
queue = [e.id for e in waiting.items]
current = st.session_state.get("approval_entry")
if current not in queue:
    current = queue[0] if queue else None
    st.session_state["approval_entry"] = current
if current is None:
    st.info("No proposals wait for your review. Draft some from the queue.")
    view.page_link("pages/Queue.py", "Open the queue", ":material/list:")
else:
    entry = view.entry_detail(services, actor, current)
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.subheader(f"{entry.contact_name} · {entry.company or 'no company'}")
    left.caption(f"{entry.contact_email} · {waiting.total} waiting for review")
    right.button("Next →", key="approval_next_button", on_click=_next, args=(queue, current))
    research_panel(entry)
    proposals = entry.proposal_list
    for col, p in zip(st.columns(len(proposals) or 1), proposals, strict=False):
        with col:
            variant(p, queue)
approved_panel()
