"""/api/v1/notifications: the caller's notifications for programs (scopes read:sending and write:sending).

Its own blueprint under /api/v1 with the same authentication, activity records and rate limits as api.py; each
view calls one use case of core.mail.notifications, which shows a caller only their own notifications.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.mail import notifications
from core.mail.notifications import MAX_LIMIT, NotificationPage
from core.mail.schemas import NotificationView
from public_endpoints import current_services
from public_endpoints.api_auth import SECURITY, api_blueprint, current_actor

bp = api_blueprint("api_v1_notifications", __name__, url_prefix="/api/v1", tag="Notifications")


class NotificationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unread_only: bool = False
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0)


class MarkedRead(BaseModel):
    marked_read: int


@bp.get("/notifications")
@bp.input(NotificationQuery, location="query", arg_name="query")
@bp.output(NotificationPage)
@bp.doc(summary="The caller's notifications, unread first, newest first (with the unread count)",
        security=SECURITY)
def list_notifications(query: NotificationQuery) -> Any:
    return notifications.list_notifications(current_services().uow(), actor=current_actor(), **query.model_dump())


@bp.post("/notifications/<int:notification_id>/read")
@bp.output(NotificationView)
@bp.doc(summary="Mark one of the caller's notifications read (404 for anyone else's)", security=SECURITY)
def mark_read(notification_id: int) -> Any:
    return notifications.mark_notification_read(current_services().uow(), actor=current_actor(),
                                                notification_id=notification_id)


@bp.post("/notifications/read-all")
@bp.output(MarkedRead)
@bp.doc(summary="Mark every unread notification of the caller read", security=SECURITY)
def mark_all_read() -> Any:
    return MarkedRead(marked_read=notifications.mark_all_notifications_read(current_services().uow(),
                                                                            actor=current_actor()))
