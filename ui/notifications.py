"""Cached reads and writes of the Notifications page and the unread count on Home and in the menu.

Reads are registered under "notifications" and "sending": marking read clears them, and so does anything that
records mail coming back (the Outbox page's inject buttons write under "sending"). Notifications the worker or a
webhook creates show within TTL seconds.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from core.auth.actor import Actor
from core.auth.permissions import READ, allowed
from core.errors import SalesAgentError
from core.mail import notifications
from core.mail.building import text_to_html
from core.mail.notifications import NotificationPage
from core.mail.schemas import NotificationView
from core.services import Services
from ui import data, outbox
from ui.data import _cached
from ui.widgets import attempt

AREA = "notifications"
TTL = 15
PER_PAGE = 20
PAGE = "pages/Notifications.py"
CONTACT_OPEN_KEY = "contact_open_id"  # what pages/Contacts.py opens in its detail panel
_GO_TO_CONTACT = "notifications_go_to_contact"


@_cached(AREA, outbox.AREA, ttl=TTL)
def notifications_page(_services: Services, actor: Actor, unread_only: bool, page: int) -> NotificationPage:
    return notifications.list_notifications(_services.uow(), actor=actor, unread_only=unread_only, limit=PER_PAGE,
                                            offset=(max(page, 1) - 1) * PER_PAGE)


@_cached(AREA, outbox.AREA, ttl=TTL)
def _unread_count(_services: Services, actor: Actor) -> int:
    return notifications.unread_notification_count(_services.uow(), actor=actor)


def unread_count(services: Services, actor: Actor) -> int:
    """The actor's unread notifications; 0 for a role that may not read them (the menu must always render)."""
    if not allowed(actor, "sending", READ):
        return 0
    try:
        return _unread_count(services, actor)
    except SalesAgentError:
        return 0


def page_link(label: str) -> None:
    """A link to the Notifications page; a hint on the rerun before the menu knows the signed-in user."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.page_link(PAGE, label=label, icon=":material/notifications:")
    except StreamlitAPIException:
        st.caption(f"{label}: Notifications, in the menu under Pipeline.")


def menu_title(count: int) -> str:
    return f"Notifications ({count})" if count else "Notifications"


def reply_html(item: NotificationView) -> str:
    """The reply as text made into paragraphs (escaped, bare URLs linked), nh3-sanitised and boxed by framed()."""
    return outbox.framed(text_to_html(item.reply_text or item.body), 680)


def mark_read(services: Services, actor: Actor, notification_id: int) -> None:
    attempt("notifications", lambda: notifications.mark_notification_read(
        services.uow(), actor=actor, notification_id=notification_id), areas=[AREA],
        success=lambda v: f"Marked “{v.title}” read.")


def mark_all_read(services: Services, actor: Actor) -> None:
    attempt("notifications", lambda: notifications.mark_all_notifications_read(services.uow(), actor=actor),
            areas=[AREA], success=lambda n: f"Marked {n} notification{'s' if n != 1 else ''} read.")


def open_contact(services: Services, actor: Actor, item: NotificationView) -> None:
    """on_click of "Open contact": reads an unread notification and asks for the contact's page, which
    follow_to_contact() opens on the rerun (st.switch_page does nothing inside a callback)."""
    if item.read_at is None:
        with contextlib.suppress(SalesAgentError):  # looking at the contact matters more than the read mark
            notifications.mark_notification_read(services.uow(), actor=actor, notification_id=item.id)
        data.invalidate(AREA)
    st.session_state[CONTACT_OPEN_KEY] = item.contact_id
    st.session_state[_GO_TO_CONTACT] = True


def follow_to_contact() -> None:
    """Call near the top of the page: switches to Contacts (showing the contact) after open_contact()."""
    if st.session_state.pop(_GO_TO_CONTACT, False):
        st.switch_page("pages/Contacts.py")
