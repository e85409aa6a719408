"""Notifications: what needs the signed-in user now (an interested reply arrived), unread first, with the
reply's text, a way to the contact, and mark read / mark all read. Logic lives in core.mail.notifications."""

from __future__ import annotations

import streamlit as st

from core.auth.permissions import READ, UPDATE, allowed
from ui import notifications
from ui.queue import safe_markdown
from ui.runtime import current_actor, start_rerun
from ui.widgets import current_page, ensure_navigation, fmt_dt, label, page_controls, show_flash, to_first_page

ensure_navigation()
services = start_rerun("Notifications")
actor = current_actor(services)
may_mark = allowed(actor, "sending", UPDATE)
notifications.follow_to_contact()

st.title("Notifications")
if not allowed(actor, "sending", READ):
    st.info("Notifications come with the right to read sending; ask an administrator if you need them.")
    st.stop()
show_flash("notifications")

left, middle, right = st.columns([1, 2, 2], vertical_alignment="bottom")
unread_only = middle.toggle("Unread only", key="notifications_unread_only", on_change=to_first_page,
                            args=("notifications_page",))
listing = notifications.notifications_page(services, actor, unread_only, current_page("notifications_page"))
left.metric("Unread", listing.unread, border=True)
right.button("Mark all read", key="notifications_mark_all", icon=":material/done_all:",
             disabled=not may_mark or listing.unread == 0, on_click=notifications.mark_all_read,
             args=(services, actor))

if listing.total == 0:
    st.info("Nothing unread." if unread_only else
            "No notifications yet. When a contact you own replies with interest, it shows up here.")
    st.stop()

for item in listing.items:
    with st.container(border=True, key=f"notification_{item.id}"):
        marker = ":blue-badge[New] " if item.read_at is None else ""
        st.markdown(f"{marker}**{safe_markdown(item.title)}**")
        details = [fmt_dt(item.created_at), label(item.kind)]
        if item.reply_from:
            details.append(f"from {item.reply_from}")
        if item.reply_subject:
            details.append(f"“{item.reply_subject}”")
        if item.read_at is not None:
            details.append(f"read {fmt_dt(item.read_at)}")
        st.caption(safe_markdown(" · ".join(details)))
        if item.reply_text or item.body:
            st.html(notifications.reply_html(item))  # escaped text, nh3-sanitised in framed()
        open_col, read_col, _ = st.columns([1, 1, 3])
        if item.contact_id is not None:
            open_col.button("Open contact", key=f"notification_contact_{item.id}", icon=":material/person:",
                            on_click=notifications.open_contact, args=(services, actor, item))
        if item.read_at is None and may_mark:
            read_col.button("Mark read", key=f"notification_read_{item.id}", icon=":material/done:",
                            on_click=notifications.mark_read, args=(services, actor, item.id))

page_controls(listing.total, notifications.PER_PAGE, key="notifications_page")
