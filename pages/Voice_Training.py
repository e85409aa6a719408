"""Voice Training: samples (pasted text, files, YouTube videos, audio, HubSpot newsletters) → measured style → a
new or versioned voice profile; and the existing profiles with their version history and the context drafts are
written with."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.auth.permissions import CREATE, allowed
from core.errors import SalesAgentError
from core.integrations.transcription import AUDIO_SUFFIXES
from core.integrations.youtube import YouTubeTranscripts
from core.voice.training import SAMPLE_SUFFIXES, SourceResult, analyze_samples, collect_samples, save_trained_profile
from ui import voice as ui_voice
from ui.runtime import current_actor, start_rerun
from ui.widgets import attempt, csv_download, ensure_navigation, fmt_dt, show_flash
from ui.widgets import error_text as readable

LANGUAGES = {"en": "English", "es": "Spanish", "de": "German", "fr": "French"}
RESULT = "voice_training_result"  # session key: the last analysis, its ✅/❌ lines and the profile name

ensure_navigation()
services = start_rerun("Voice Training")
actor = current_actor(services)
profiles = ui_voice.voice_profiles(services, actor)
mine = {p.name: p for p in profiles if p.owner_id == actor.user_id}


def train() -> None:
    s = st.session_state
    name = (s.get("voice_profile_name") or "").strip()
    if not name:
        st.error("Give the profile a name first.")
        return
    uploads = [(f.name, f.getvalue()) for f in s.get("voice_files") or []]
    videos = [line.strip() for line in (s.get("voice_videos") or "").splitlines() if line.strip()]
    texts = [s["voice_text"]] if (s.get("voice_text") or "").strip() else []
    audio = [(f.name, f.getvalue()) for f in s.get("voice_audio") or []]
    newsletters = (s.get("voice_newsletters") or "").strip() or None
    total = len(texts) + len(uploads) + len(videos) + len(audio) + (1 if newsletters else 0)
    if total == 0:
        st.error("Paste some text, upload a file or give a YouTube URL.")
        return
    bar = st.progress(0.0, text="Reading samples…")
    lines: list[str] = []

    def report(result: SourceResult) -> None:
        lines.append(f"{'✅' if result.ok else '❌'} {result.source}: {result.detail}")
        bar.progress(min(1.0, len(lines) / total), text=f"{len(lines)} sources read")

    youtube: Any = services.connectors.get("youtube") or YouTubeTranscripts()
    samples, _results = collect_samples(texts=texts, uploads=uploads, videos=videos,
                                        transcripts=youtube.transcript, audio=audio,
                                        transcriber=services.connectors.get("transcriber"),
                                        newsletters=newsletters, crm=services.connectors.get("hubspot"),
                                        progress=report)
    try:
        analysis = analyze_samples(samples, services.llm)
    except SalesAgentError as exc:
        bar.empty()
        s[RESULT] = {"lines": lines, "analysis": None, "name": name, "error": readable(exc)}
        return
    bar.progress(1.0, text="Analysed")
    s[RESULT] = {"lines": lines, "analysis": analysis, "name": name, "error": None,
                 "language": s.get("voice_language", "en")}


def _save() -> None:
    result = st.session_state.get(RESULT) or {}
    if result.get("analysis") is None:
        return
    saved = attempt("voice_save", lambda: save_trained_profile(
        services, actor=actor, name=result["name"], analysis=result["analysis"], language=result["language"]),
        success=lambda p: f"Voice profile {p.name} saved as version {p.version}.")
    if saved is not None:
        ui_voice.invalidate()
        st.session_state["voice_pick"] = saved.id


def show_result() -> None:
    result = st.session_state.get(RESULT)
    if not result:
        return
    for line in result["lines"]:
        st.markdown(line)
    if result["error"]:
        st.error(result["error"])
        return
    analysis = result["analysis"]
    st.subheader("Analysis")
    a, b, c, d = st.columns(4)
    a.metric("Tone", analysis.tone.value, help="professional, casual or formal")
    b.metric("Formality", f"{analysis.formality:.2f}", help="0 casual … 1 formal")
    c.metric("Words per sentence", f"{analysis.average_sentence_length:.1f}")
    d.metric("Readability (Flesch)", f"{analysis.readability:.0f}")
    st.markdown(f"**Contractions:** {'yes' if analysis.uses_contractions else 'no'} "
                f"({analysis.contraction_rate} per 100 words) · **Samples:** {analysis.samples} "
                f"· **Words:** {analysis.words}")
    st.markdown("**Greetings:** " + (", ".join(analysis.greetings) or "none found"))
    st.markdown("**Sign-offs:** " + (", ".join(analysis.sign_offs) or "none found"))
    st.markdown("**Common phrases:** " + (", ".join(analysis.common_phrases) or "none repeated"))
    st.markdown("**Kept out of drafts:** " + (", ".join(analysis.prohibited_patterns) or "nothing"))
    with st.expander("Style notes"):
        for note in analysis.style_notes:
            st.markdown(f"- {note}")
    current = mine.get(result["name"]) or next((p for p in mine.values() if p.is_default), None)
    st.caption(f"Compared with {'your profile ' + repr(current.name) if current else 'no current profile'}.")
    st.plotly_chart(ui_voice.comparison_figure(analysis, current), key="voice_chart")
    existing = mine.get(result["name"])
    action = f"Save as version {existing.version + 1} of {existing.name}" if existing else \
        f"Create profile {result['name']}"
    st.button(action, key="voice_save_button", type="primary", on_click=_save,
              disabled=not allowed(actor, "voice_profiles", CREATE))


def training_form() -> None:
    st.text_input("Profile name", key="voice_profile_name", placeholder="e.g. Riley – direct")
    if (st.session_state.get("voice_profile_name") or "").strip() in mine:
        st.caption("A profile with this name exists: training adds a new version.")
    st.selectbox("Language of the samples", list(LANGUAGES), format_func=LANGUAGES.__getitem__,
                 key="voice_language")
    st.text_area("Paste emails or posts you wrote", key="voice_text", height=180)
    st.file_uploader("Upload samples", type=[s.lstrip(".") for s in SAMPLE_SUFFIXES], accept_multiple_files=True,
                     key="voice_files")
    st.text_area("YouTube URLs (one per line)", key="voice_videos", height=80)
    st.file_uploader("Audio to transcribe (e.g. a video without captions)", type=[a.lstrip(".") for a in
                     AUDIO_SUFFIXES], accept_multiple_files=True, key="voice_audio",
                     help="Transcribed by the OpenAI-compatible endpoint; needs OPENAI_BASE_URL or OPENAI_API_KEY.")
    st.text_input("HubSpot newsletters (search by name or subject)", key="voice_newsletters",
                  placeholder="e.g. Spring update")
    if "hubspot" not in services.connectors:
        st.caption("HubSpot is not connected: its marketing emails cannot be used until it is.")
    if st.button("Analyse samples", key="voice_analyse", type="primary"):
        train()
    show_flash("voice_save")
    show_result()


def profiles_tab() -> None:
    if not profiles:
        st.info("No voice profile yet: train one from your own writing.")
        return
    frame = pd.DataFrame([{"name": p.name, "language": p.language, "tone": p.tone.value, "version": p.version,
                           "default": p.is_default, "contractions": p.use_contractions, "max words": p.max_length,
                           "updated": fmt_dt(p.updated_at)} for p in profiles])
    st.dataframe(frame, hide_index=True, key="voice_profiles_table")
    csv_download(frame, "voice_profiles.csv", key="voice_profiles_csv")
    by_id = {p.id: p for p in profiles}
    if st.session_state.get("voice_pick") not in by_id:
        st.session_state["voice_pick"] = profiles[0].id
    pick = st.selectbox("Profile", list(by_id), key="voice_pick",
                        format_func=lambda i: f"{by_id[i].name} (v{by_id[i].version})")
    versions = ui_voice.profile_versions(services, actor, pick)
    st.markdown("**Version history**")
    st.dataframe(pd.DataFrame([{"version": v["version"], "saved": fmt_dt(v["created_at"]), "tone": v.get("tone"),
                                "max words": v.get("max_length"), "contractions": v.get("use_contractions"),
                                "greeting": v.get("greeting"), "sign-off": v.get("sign_off")} for v in versions]),
                 hide_index=True, key="voice_versions_table")
    st.markdown("**What drafts are told about this voice**")
    st.code(by_id[pick].prompt_context, language=None, wrap_lines=True)


st.title("Voice Training")
st.caption(f"Style notes by {services.llm.label}" + (" (offline: computed metrics only)" if services.llm.offline
                                                      else ""))
tab_train, tab_profiles = st.tabs(["Train", "Profiles"], key="voice_tabs")
with tab_train:
    training_form()
with tab_profiles:
    profiles_tab()
