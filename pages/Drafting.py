"""Drafting: pick a contact and a voice profile, get two or three proposed emails, each with its reasoning,
personalisation notes, cited research, score and warnings; plus the signed-in user's model usage today."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.ai.agents import Proposal, ProposalSet
from core.ai.proposals import propose_for_contact
from core.auth.permissions import CREATE, allowed
from core.errors import SalesAgentError
from ui import voice as ui_voice
from ui.runtime import current_actor, start_rerun
from ui.widgets import contact_picker, ensure_navigation
from ui.widgets import error_text as readable

RESULT = "drafting_result"
AUTO = ""  # the profile choice "automatic": the user's profile in the contact's language, else the default

ensure_navigation()
services = start_rerun("Drafting")
actor = current_actor(services)


def propose(contact_id: int) -> None:
    s = st.session_state
    with st.spinner(f"Researching the account and drafting with {services.llm.label}…"):
        try:
            s[RESULT] = propose_for_contact(services, actor=actor, contact_id=contact_id,
                                            variants=int(s.get("drafting_variants", 3)),
                                            profile_name=s.get("drafting_profile") or None)
            s.pop("drafting_error", None)
        except SalesAgentError as exc:
            s.pop(RESULT, None)
            s["drafting_error"] = readable(exc)
    ui_voice.usage_today.clear()


def show_proposal(n: int, p: Proposal) -> None:
    with st.container(border=True, key=f"drafting_proposal_{n}"):
        a, b = st.columns([4, 1])
        a.markdown(f"**{n}. {p.subject}**")
        b.metric("Personalisation", f"{p.personalization.score}/100")
        st.html(ui_voice.safe_body_html(p.body))
        st.markdown(f"**Why:** {p.reasoning}")
        if p.personalization_notes:
            st.markdown("**Personalisation:** " + "; ".join(p.personalization_notes))
        if p.citations:
            st.dataframe(pd.DataFrame([{"fact": c.fact, "source": c.source} for c in p.citations]),
                         hide_index=True, key=f"drafting_citations_{n}")
        for v in p.violations:
            st.warning(f"Flagged: {v.message}")
        if p.personalization.warning:
            st.warning(p.personalization.warning)
        for tip in p.personalization.recommendations:
            st.caption(f"Tip: {tip}")


def show_result(result: ProposalSet) -> None:
    source = "offline composer — no model endpoint is configured" if result.offline else result.model_label
    st.subheader(f"{len(result.proposals)} proposals for {result.contact_email}")
    st.caption(f"Written by {source} · language {result.language} ({result.language_source}) · persona "
               f"{result.persona} · voice {result.voice_profile or 'built-in'}"
               + (" · regenerated once to fix voice rules" if result.regenerated else ""))
    for n, proposal in enumerate(result.proposals, 1):
        show_proposal(n, proposal)
    if result.research_insights:
        with st.expander("Research behind these drafts"):
            st.dataframe(pd.DataFrame(result.research_insights), hide_index=True, key="drafting_insights")


def usage_panel() -> None:
    used, rows = ui_voice.usage_today(services, actor)
    budget = services.settings.ai_daily_token_budget
    st.subheader("Your model usage today")
    st.progress(min(1.0, used / budget) if budget else 1.0,
                text=f"{used:,} of {budget:,} tokens of today's budget (the offline composer is free)")
    if rows:
        st.dataframe(pd.DataFrame([{"model": r.model, "offline": r.offline, "calls": r.calls,
                                    "prompt tokens": r.prompt_tokens, "completion tokens": r.completion_tokens,
                                    "estimated cost (USD)": r.estimated_cost_usd} for r in rows]),
                     hide_index=True, key="drafting_usage")
    else:
        st.caption("No model calls in the last 24 hours.")


st.title("Drafting")
st.caption("Model: " + (f"{services.llm.label} (offline)" if services.llm.offline else services.llm.label))
contact_id = contact_picker(services, actor, key="drafting_contact")
profiles = ui_voice.voice_profiles(services, actor)
names = [AUTO, *dict.fromkeys(p.name for p in profiles if p.owner_id == actor.user_id)]
left, right = st.columns([3, 1])
left.selectbox("Voice profile", names, key="drafting_profile",
               format_func=lambda n: n or "Automatic (your profile in the contact's language)")
right.number_input("Variants", min_value=1, max_value=5, value=3, key="drafting_variants")
if st.button("Propose emails", key="drafting_propose", type="primary",
             disabled=contact_id is None or not allowed(actor, "ai", CREATE)) and contact_id is not None:
    propose(contact_id)
if error := st.session_state.get("drafting_error"):
    st.error(error)
if (result := st.session_state.get(RESULT)) is not None:
    show_result(result)
usage_panel()
