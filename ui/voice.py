"""Voice training and drafting in the dashboard: cached reads, the comparison chart, safe rendering of bodies."""

from __future__ import annotations

from typing import Any

import nh3
import plotly.graph_objects as go
import streamlit as st
from markdown_it import MarkdownIt
from plotly.subplots import make_subplots

from core.ai.usage import UsageRow, tokens_used_today, usage_summary
from core.auth.actor import Actor
from core.services import Services
from core.voice import service as voice_service
from core.voice.models import Tone
from core.voice.schemas import VoiceProfileView
from core.voice.training import VoiceAnalysis
from ui.caching import HASH_FUNCS

TTL = 60
# Where each tone sits on the 0 (casual) – 1 (formal) scale that training measures.
TONE_FORMALITY = {Tone.casual: 0.2, Tone.friendly: 0.35, Tone.professional: 0.5, Tone.formal: 0.85}
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True})


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def voice_profiles(_services: Services, actor: Actor) -> list[VoiceProfileView]:
    """The signed-in user's profiles (managers and admins see everyone's)."""
    owner = None if actor.has_role_name("admin", "manager") else actor.user_id
    return voice_service.list_voice_profiles(_services.uow(), actor=actor, owner_id=owner)


@st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)
def profile_versions(_services: Services, actor: Actor, profile_id: int) -> list[dict[str, Any]]:
    return voice_service.voice_profile_versions(_services.uow(), actor=actor, profile_id=profile_id)


@st.cache_data(ttl=10, show_spinner=False, hash_funcs=HASH_FUNCS)
def usage_today(_services: Services, actor: Actor) -> tuple[int, list[UsageRow]]:
    """(tokens counted against today's budget, usage per model over the last day)."""
    now = _services.clock()
    return (tokens_used_today(_services.uow(), actor=actor, now=now),
            usage_summary(_services.uow(), actor=actor, now=now, days=1))


def invalidate() -> None:
    for cached in (voice_profiles, profile_versions, usage_today):
        cached.clear()


def safe_body_html(body: str) -> str:
    """Model output as HTML: markdown with raw HTML disabled, then nh3 keeps only harmless tags and links."""
    return nh3.clean(_MARKDOWN.render(body), url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")


def comparison_figure(analysis: VoiceAnalysis, current: VoiceProfileView | None) -> go.Figure:
    """The new samples' metrics beside what the current profile holds, one panel per metric (own scale)."""
    proposed_length = max(60, min(250, int(analysis.average_sentence_length * 8)))
    panels = [
        ("Formality (0–1)", analysis.formality, TONE_FORMALITY[current.tone] if current else None),
        ("Contractions (1 = uses)", float(analysis.uses_contractions),
         float(current.use_contractions) if current else None),
        ("Max words", float(proposed_length), float(current.max_length) if current and current.max_length else None),
        ("Banned phrases", float(len(analysis.prohibited_patterns)),
         float(len(current.prohibited_phrases)) if current else None),
    ]
    figure = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[0] for p in panels])
    for col, (_title, new, old) in enumerate(panels, 1):
        figure.add_trace(go.Bar(x=["new samples"], y=[new], name="new samples", marker_color="#2E86AB",
                                showlegend=col == 1), row=1, col=col)
        if old is not None:
            figure.add_trace(go.Bar(x=["current profile"], y=[old], name="current profile", marker_color="#A23B72",
                                    showlegend=col == 1), row=1, col=col)
    figure.update_layout(height=320, margin={"t": 60, "b": 20, "l": 20, "r": 20}, barmode="group")
    return figure
