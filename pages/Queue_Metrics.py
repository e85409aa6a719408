"""Queue metrics: size by status, average time in each status, research and proposal success rates, per rep;
plotly charts and CSV export. Logic lives in core.queue.metrics."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from core.queue.models import QueueStatus
from ui import data
from ui import queue as view
from ui.runtime import current_actor, start_rerun
from ui.widgets import csv_download, ensure_navigation, filter_select, label, pct

ensure_navigation()
services = start_rerun("Queue metrics")
actor = current_actor(services)
users = data.user_names(services, actor)

st.title("Queue metrics")
owner = filter_select("Rep", list(users), key="queue_metrics_owner", format_func=lambda u: users.get(u, str(u)))
m = view.metrics(services, actor, owner)

a, b, c, d = st.columns(4)
a.metric("Entries", f"{m.total:,}")
for col, name, rate in ((b, "Research success", m.research_success_rate),
                        (c, "Proposal success", m.proposal_success_rate), (d, "Approved", m.approval_rate)):
    col.metric(name, "–" if rate is None else f"{pct(rate)} %")

sizes = pd.DataFrame([{"status": label(s), "entries": m.by_status.get(s.value, 0)} for s in QueueStatus])
hours = pd.DataFrame([{"status": label(s), "average hours": round(m.avg_seconds_in_status[s.value] / 3600, 2)}
                      for s in QueueStatus if s.value in m.avg_seconds_in_status])
left, right = st.columns(2)
with left:
    st.subheader("Size by status")
    if sizes.empty:
        st.caption("The queue is empty.")
    else:
        st.plotly_chart(px.bar(sizes, x="status", y="entries"), key="queue_metrics_sizes")
    csv_download(sizes, "queue-size-by-status.csv", key="queue_metrics_sizes_csv")
with right:
    st.subheader("Average time in status")
    if hours.empty:
        st.caption("No entry has changed status yet.")
    else:
        st.plotly_chart(px.bar(hours, x="status", y="average hours"), key="queue_metrics_hours")
    csv_download(hours, "queue-time-in-status.csv", key="queue_metrics_hours_csv")

st.subheader("Per rep")
reps = pd.DataFrame([{"rep": users.get(r.owner_id, "unassigned") if r.owner_id else "unassigned", "entries": r.total,
                      "approved or sent": r.approved, "sent": r.sent,
                      **{label(s): r.by_status.get(s, 0) for s in r.by_status}} for r in m.per_rep])
if reps.empty:
    st.caption("The queue is empty.")
else:
    st.plotly_chart(px.bar(reps, x="rep", y=["entries", "approved or sent"], barmode="group"),
                    key="queue_metrics_reps")
    st.dataframe(reps, hide_index=True, key="queue_metrics_reps_table")
    csv_download(reps, "queue-per-rep.csv", key="queue_metrics_reps_csv")
