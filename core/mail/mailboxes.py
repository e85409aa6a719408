"""Mailbox use cases: connect, list, and the per-campaign tracking switches."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, READ, UPDATE, require
from core.config import Settings
from core.errors import Conflict, NotFound, ValidationFailed
from core.mail.models import CampaignTracking, Mailbox, MailboxKind
from core.mail.schemas import MailboxInput, MailboxView, TrackingSwitchesView
from core.mail.secrets import encrypt_credentials
from core.uow import UnitOfWork


def create_mailbox(uow: UnitOfWork, *, actor: Actor, settings: Settings, data: MailboxInput) -> MailboxView:
    require(actor, "mailboxes", CREATE)
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown time zone {data.timezone!r}") from None
    if data.window_start_hour >= data.window_end_hour:
        raise ValidationFailed("the send window must start before it ends")
    if data.kind is MailboxKind.smtp and not (data.smtp_host or settings.smtp_host):
        raise ValidationFailed("an SMTP mailbox needs a host (or SMTP_HOST in the settings)")
    if data.kind is MailboxKind.gmail and not data.credentials.get("token") and not data.credentials.get(
            "refresh_token"):
        raise ValidationFailed("a Gmail mailbox needs OAuth tokens: connect it through Google first")
    with uow:
        if uow.session.scalar(select(Mailbox.id).where(Mailbox.email == data.email)) is not None:
            raise Conflict(f"a mailbox for {data.email} exists already")
        values = data.model_dump(exclude={"credentials"})
        mailbox = Mailbox(**values, owner_id=actor.user_id,
                          credentials_encrypted=encrypt_credentials(settings, data.credentials)
                          if data.credentials else None)
        uow.session.add(mailbox)
        uow.session.flush()
        snapshot = audit.snapshot_of(mailbox)
        snapshot["credentials_encrypted"] = "***" if mailbox.credentials_encrypted else None
        audit.record(uow.session, actor, "create", "mailbox", mailbox.id, snapshot)
        view = MailboxView.model_validate(mailbox)
        uow.commit()
    return view


def list_mailboxes(uow: UnitOfWork, *, actor: Actor) -> list[MailboxView]:
    require(actor, "mailboxes", READ)
    with uow:
        return [MailboxView.model_validate(m) for m in uow.session.scalars(select(Mailbox).order_by(Mailbox.id))]


def set_mailbox_active(uow: UnitOfWork, *, actor: Actor, mailbox_id: int, active: bool) -> MailboxView:
    require(actor, "mailboxes", UPDATE)
    with uow:
        mailbox = uow.session.get(Mailbox, mailbox_id)
        if mailbox is None:
            raise NotFound(f"mailbox {mailbox_id} not found")
        mailbox.active = active
        audit.record(uow.session, actor, "update", "mailbox", mailbox.id, audit.changes_of(mailbox))
        uow.session.flush()
        view = MailboxView.model_validate(mailbox)
        uow.commit()
    return view


def set_campaign_tracking(uow: UnitOfWork, *, actor: Actor, campaign_id: int, track_opens: bool,
                          track_clicks: bool, plain_text_only: bool = False) -> TrackingSwitchesView:
    """Switch the open pixel and link rewriting for a campaign; plain text turns both off."""
    require(actor, "campaigns", UPDATE)
    with uow:
        row = uow.session.get(CampaignTracking, campaign_id)
        if row is None:
            row = CampaignTracking(campaign_id=campaign_id)
            uow.session.add(row)
        row.track_opens, row.track_clicks, row.plain_text_only = (
            track_opens and not plain_text_only, track_clicks and not plain_text_only, plain_text_only)
        uow.session.flush()
        audit.record(uow.session, actor, "update", "campaign_tracking", campaign_id,
                     {"track_opens": row.track_opens, "track_clicks": row.track_clicks,
                      "plain_text_only": plain_text_only})
        view = TrackingSwitchesView(campaign_id=campaign_id, track_opens=row.track_opens,
                                    track_clicks=row.track_clicks, plain_text_only=row.plain_text_only)
        uow.commit()
    return view
