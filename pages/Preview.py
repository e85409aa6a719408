"""Preview: a draft (or unsaved text) for one contact as it would leave — subject, HTML at desktop and phone
widths, plain text, compliance, content warnings, SpamAssassin's score on request — and a test send to
oneself. Logic lives in core.mail.preview."""

from __future__ import annotations

import streamlit as st

from core.content import drafts as drafts_service
from core.errors import SalesAgentError
from core.mail.preview import preview_email, send_test_to_self
from ui import outbox
from ui.runtime import current_actor, start_rerun
from ui.widgets import attempt, contact_picker, ensure_navigation, error_text, show_flash

ensure_navigation()
services = start_rerun("Preview")
actor = current_actor(services)

st.title("Preview")
show_flash("preview_test_send")
contact_id = contact_picker(services, actor, key="preview_contact")
if contact_id is None:
    st.stop()
drafts = {d.id: d for d in drafts_service.list_drafts(services.uow(), actor=actor, contact_id=contact_id)}
draft_id = st.selectbox("Draft", [None, *drafts], key="preview_draft",
                        format_func=lambda i: "Write text here" if i is None else f"#{i} {drafts[i].subject}")
subject = body = None
if draft_id is None:
    subject = st.text_input("Subject", key="preview_subject", value="Quick idea for you, {{ contact.first_name }}")
    body = st.text_area("Body", key="preview_body", value="Hi {{ contact.first_name }},\n\nWorth a chat?")
score = st.button("Score with SpamAssassin", key="preview_spam")

try:
    shown = preview_email(services, actor=actor, contact_id=contact_id, draft_id=draft_id, subject=subject,
                          body=body, score_spam=score)
except SalesAgentError as exc:
    st.error(error_text(exc))
    st.stop()

st.markdown(f"**From:** {shown.from_email}  \n**To:** {shown.to_email}  \n**Subject:** {shown.subject}")
if shown.compliance.compliant:
    st.success("Compliance: postal address, unsubscribe link, honest subject — all present.")
for problem in shown.compliance.problems:
    st.error(f"Compliance: {problem}")
for warning in shown.warnings:
    st.warning(f"Content: {warning}")
if shown.spam.available:
    verdict = "likely spam" if (shown.spam.score or 0) >= (shown.spam.required or 5) else "passes"
    st.info(f"SpamAssassin score {shown.spam.score} (spam from {shown.spam.required}): {verdict}.")
    st.dataframe([{"points": r.points, "rule": r.name, "description": r.description} for r in shown.spam.rules],
                 key="preview_spam_rules", hide_index=True)
elif score:
    st.info(f"SpamAssassin: {shown.spam.note}")

st.caption(shown.tracking_note, help="Links open in a new tab. The unsubscribe link gets the recipient's own "
           "signed address when the message is sent, so it leads nowhere here.")
desktop, phone, text = st.tabs(["Desktop", "Phone", "Plain text"])
with desktop:
    if shown.body_html:
        st.html(outbox.framed(shown.body_html, 680))  # nh3-sanitised in framed()
    else:
        st.info("This campaign sends plain text only: see the Plain text tab.")
with phone:
    if shown.body_html:
        st.html(outbox.framed(shown.body_html, 375))
with text:
    st.text(shown.body_text)

def _send_test() -> None:
    if contact_id is None:
        return
    attempt("preview_test_send", lambda: send_test_to_self(services, actor=actor, contact_id=contact_id,
                                                           draft_id=draft_id, subject=subject, body=body),
            success=f"Test sent to {actor.email}.")


st.button("Send a test to me", key="preview_test_send_button", on_click=_send_test, disabled=contact_id is None)
