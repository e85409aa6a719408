"""Outbox: each message the embedded outbox 'sent', as its recipient sees it (the pixel and the links go
through the public endpoints, so the demo tracks for real), with buttons that make the recipient answer.
Logic lives in core.mail (queries, simulated → inbound)."""

from __future__ import annotations

import streamlit as st

from core.auth.permissions import UPDATE, allowed
from core.mail.simulated import inject_outbox_response
from core.services import Services
from ui import outbox
from ui.runtime import current_actor, start_rerun
from ui.widgets import attempt, ensure_navigation, fmt_dt, label, show_flash

ACTIONS = [("reply", "Reply"), ("auto_reply", "Auto-reply"), ("bounce", "Hard bounce"),
           ("soft_bounce", "Soft bounce"), ("complaint", "Spam complaint")]

ensure_navigation()
services = start_rerun("Outbox")
actor = current_actor(services)

st.title("Outbox")
st.caption(f"Mail sent through the embedded outbox transport. Opening a message loads its tracking pixel from "
           f"{services.settings.public_base_url}; its links go through the click endpoint.")
show_flash("outbox_action")

messages = outbox.outbox_messages(services, actor)
if not messages:
    st.info("The outbox is empty: approve a draft with an outbox mailbox to see it here.")
    st.stop()

by_id = {m.id: m for m in messages}
chosen = st.selectbox("Message", list(by_id), key="outbox_message",
                      format_func=lambda i: f"{by_id[i].to_email} — {by_id[i].subject} ({fmt_dt(by_id[i].created_at)})")
message = by_id[chosen]
st.markdown(f"**From:** {message.from_header}  \n**To:** {message.to_email}  \n**Subject:** {message.subject}")
width = st.radio("Width", ["Desktop", "Phone"], key="outbox_width", horizontal=True)
if message.html:
    st.html(outbox.framed(message.html, 680 if width == "Desktop" else 375))  # nh3-sanitised in framed()
else:
    st.text(message.text)


def _inject(services: Services, entry_id: int, kind: str) -> None:
    text = st.session_state.get("outbox_reply_text", "") if kind == "reply" else ""
    attempt("outbox_action", lambda: inject_outbox_response(services, actor=actor, ledger_entry_id=entry_id,
                                                             kind=kind, text=text), areas=[outbox.AREA],
            success=lambda v: f"Injected {label(kind).lower()}: recorded as {label(v.kind).lower()}"
                              + (f", intent {label(v.intent).lower()}" if v.intent else "")
                              + (f", suppressed {', '.join(v.suppressed)}" if v.suppressed else "") + ".")


st.subheader("Make the recipient answer")
if message.ledger_entry_id is None:
    st.caption("This message has no send-ledger entry, so nothing can answer it.")
elif not allowed(actor, "sending", UPDATE):
    st.caption("You may look at the outbox but not answer as a recipient.")
else:
    st.text_area("Reply text", key="outbox_reply_text", placeholder="Sounds interesting, can we talk on Thursday?")
    for column, (kind, title) in zip(st.columns(len(ACTIONS)), ACTIONS, strict=True):
        column.button(title, key=f"outbox_inject_{kind}", on_click=_inject,
                      args=(services, message.ledger_entry_id, kind))

st.subheader("What came back")
came_back = outbox.inbound_for(services, actor, message.ledger_entry_id) if message.ledger_entry_id else []
if came_back:
    st.dataframe(outbox.inbound_frame(came_back), key="outbox_inbound_table", hide_index=True)
else:
    st.caption("Nothing yet.")
