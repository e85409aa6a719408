"""Sending: the send ledger by status (pending, claimed, sending, sent, failed, unknown), the review of unknown
outcomes a provider cannot be searched for, and CSV exports of the ledger and the suppression list.
Logic lives in core.mail (queries, ledger.review_unknown_send, recipients.export_suppressions_csv)."""

from __future__ import annotations

import streamlit as st

from core.auth.permissions import UPDATE, allowed
from core.mail.ledger import review_unknown_send
from core.mail.models import SendStatus
from core.mail.recipients import export_suppressions_csv
from core.services import Services
from ui import outbox
from ui.runtime import current_actor, start_rerun
from ui.widgets import ALL, attempt, csv_download, ensure_navigation, label, show_flash

ensure_navigation()
services = start_rerun("Sending")
actor = current_actor(services)

st.title("Sending")
show_flash("sending_review")
counts = outbox.status_counts(services, actor)
for column, status in zip(st.columns(len(SendStatus)), SendStatus, strict=True):
    column.metric(label(status), counts.get(status.value, 0))

status_filter = st.selectbox("Status", [ALL, *(s.value for s in SendStatus)], key="sending_status", format_func=label)
entries = outbox.ledger_entries(services, actor, None if status_filter == ALL else status_filter)
frame = outbox.ledger_frame(entries)
st.dataframe(frame, key="sending_table", hide_index=True)
csv_download(frame, "send_ledger.csv", key="sending_csv")

st.subheader("Unknown outcomes")
unknown = outbox.ledger_entries(services, actor, SendStatus.unknown.value)
if not unknown:
    st.caption("None: every hand-over to a provider has a known outcome.")
else:
    st.caption("The provider may or may not have taken these. Gmail and the outbox are searched automatically; "
               "for SMTP check the mailbox's Sent folder, then say what you found. Never resend blindly.")
    by_id = {e.id: e for e in unknown}
    chosen = st.selectbox("Message", list(by_id), key="sending_unknown",
                          format_func=lambda i: f"#{i} {by_id[i].to_email} — {by_id[i].subject}")

    def _review(services: Services, entry_id: int, delivered: bool) -> None:
        attempt("sending_review", lambda: review_unknown_send(services.uow(), actor=actor, settings=services.settings,
                                                              entry_id=entry_id, delivered=delivered),
                areas=[outbox.AREA], success=lambda v: f"Send #{v.id} is now {label(v.status).lower()}.")

    can_review = allowed(actor, "sending", UPDATE)
    left, right = st.columns(2)
    left.button("It was delivered", key="sending_unknown_delivered", on_click=_review,
                args=(services, chosen, True), disabled=not can_review)
    right.button("Not delivered: send again", key="sending_unknown_resend", on_click=_review,
                 args=(services, chosen, False), disabled=not can_review)

st.subheader("Suppression list")
st.download_button("Download suppression list (CSV)", data=export_suppressions_csv(services.uow(), actor=actor),
                   file_name="suppressions.csv", mime="text/csv", key="sending_suppressions_csv", on_click="ignore")
