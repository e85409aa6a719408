"""Email performance: sent, delivered, human and machine opens, clicks, replies, bounces and their rates,
per day and by campaign, mailbox or sender, with CSV export. Logic lives in core.mail.analytics."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from ui import outbox
from ui.runtime import current_actor, start_rerun
from ui.widgets import csv_download, ensure_navigation

ensure_navigation()
services = start_rerun("Email performance")
actor = current_actor(services)

st.title("Email performance")
st.caption("Rates are over delivered messages. Only human opens and clicks count; machine opens (Apple and "
           "Google image proxies, security scanners) are shown beside them.")
days = st.selectbox("Period", [7, 30, 90, 365], index=1, key="perf_days", format_func=lambda d: f"Last {d} days")
group_by = st.selectbox("Break down by", ["campaign", "mailbox", "sender"], key="perf_group_by")
report = outbox.email_performance(services, actor, days, group_by)
totals = report.totals
for column, (title, value) in zip(st.columns(7), [
        ("Sent", totals.sent), ("Delivered", totals.delivered), ("Human opens", totals.human_opens),
        ("Machine opens", totals.machine_opens), ("Clicks", totals.clicks), ("Replies", totals.replies),
        ("Bounces", totals.bounces)], strict=True):
    column.metric(title, value)
rates = totals.rates
st.markdown(" · ".join(f"**{name.replace('_', ' ')}** {value * 100:.1f}%" for name, value in rates.items()))

if not report.by_day:
    st.info("Nothing was sent in this period.")
    st.stop()
daily = outbox.performance_frame(report.by_day)
figure = go.Figure([go.Scatter(x=daily["key"], y=daily[col], name=col.replace("_", " "), mode="lines+markers")
                    for col in ("sent", "human_opens", "clicks", "replies", "bounces")])
figure.update_layout(title="Per day", height=320, margin={"t": 40, "b": 20})
st.plotly_chart(figure, key="perf_daily_chart")

groups = outbox.performance_frame(report.groups)
bars = go.Figure([go.Bar(x=groups["key"], y=groups[col] * 100, name=col.replace("_", " "))
                  for col in ("open_rate", "click_rate", "reply_rate", "bounce_rate")])
bars.update_layout(title=f"Rates by {group_by} (%)", barmode="group", height=320, margin={"t": 40, "b": 20})
st.plotly_chart(bars, key="perf_group_chart")
st.dataframe(groups, key="perf_groups_table", hide_index=True)
csv_download(groups, f"email_performance_by_{group_by}.csv", key="perf_csv")
csv_download(daily, "email_performance_by_day.csv", key="perf_daily_csv", label="Download daily CSV")
