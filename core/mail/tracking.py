"""Open and click events: buffered on the request path, classified and written in batches.

Only ``human`` events count as engagement (rates, sequence exits, A/B winners); proxy and scanner fetches are
kept, labelled, so the numbers can be explained.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import threading
from collections import deque
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from core.audit import service as audit
from core.auth.actor import SYSTEM
from core.campaigns.models import CampaignMember
from core.db import utcnow
from core.mail.models import Classification, EventType, MessageEvent, SendLedgerEntry, TrackedLink
from core.uow import UnitOfWork

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,40}")
_GOOGLE_UA = re.compile(r"GoogleImageProxy|ggpht\.com", re.IGNORECASE)
_SCANNER_UA = re.compile(
    r"bot\b|crawler|spider|python-requests|python-urllib|curl/|wget|go-http-client|okhttp|java/|libwww|"
    r"barracuda|mimecast|proofpoint|symantec|forcepoint|trend ?micro|safelinks|urlscan|headlesschrome|"
    r"microsoft office|ms-office|outlook-ios-linkpreview|slackbot|preview", re.IGNORECASE)
# Apple owns 17.0.0.0/8; Mail Privacy Protection fetches images from there (and via partner CDNs, by UA).
_APPLE_NETS = [ipaddress.ip_network("17.0.0.0/8")]
_GOOGLE_NETS = [ipaddress.ip_network(n) for n in ("66.102.0.0/20", "66.249.80.0/20", "64.233.160.0/19",
                                                  "72.14.192.0/18", "74.125.0.0/16")]


def _in(nets: list[ipaddress.IPv4Network], ip: str | None) -> bool:
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(address in net for net in nets)


def classify(*, user_agent: str | None, ip: str | None, seconds_after_delivery: float | None,
             scanner_seconds: float) -> Classification:
    ua = user_agent or ""
    if _GOOGLE_UA.search(ua) or _in(_GOOGLE_NETS, ip):  # type: ignore[arg-type]
        return Classification.google_proxy
    if _in(_APPLE_NETS, ip):  # type: ignore[arg-type]
        return Classification.apple_proxy
    if not ua or _SCANNER_UA.search(ua):
        return Classification.scanner
    if seconds_after_delivery is not None and seconds_after_delivery < scanner_seconds:
        return Classification.scanner  # no person opens a message within seconds of its delivery
    return Classification.human


def ip_hash(secret: str, ip: str | None) -> str | None:
    if not ip:
        return None
    return hmac.new(secret.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]


# --- the buffer -------------------------------------------------------------------------------------------

class EventBuffer(Protocol):
    def push(self, event: dict[str, Any]) -> None: ...
    def drain(self, limit: int) -> list[dict[str, Any]]: ...
    def __len__(self) -> int: ...


class MemoryEventBuffer:
    """In-process buffer (embedded runs): events wait here until the app's flusher writes them."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def push(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._items.append(event)

    def drain(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return [self._items.popleft() for _ in range(min(limit, len(self._items)))]

    def __len__(self) -> int:
        return len(self._items)


class RedisEventBuffer:
    """A Redis list shared by every gunicorn worker and drained by any of them or the worker process."""

    KEY = "sales-agent:tracking-events"

    def __init__(self, url: str, *, key: str = KEY) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.key = key

    def push(self, event: dict[str, Any]) -> None:
        self._redis.rpush(self.key, json.dumps(event))

    def drain(self, limit: int) -> list[dict[str, Any]]:
        raw = self._redis.lpop(self.key, limit) or []
        return [json.loads(item) for item in raw]

    def __len__(self) -> int:
        return int(self._redis.llen(self.key))


def tracking_event(kind: EventType, token: str, *, user_agent: str | None, ip: str | None) -> dict[str, Any]:
    return {"t": kind.value, "tok": token, "ua": (user_agent or "")[:500], "ip": ip, "at": utcnow().isoformat()}


# --- writing a batch --------------------------------------------------------------------------------------

def record_tracking_events(uow: UnitOfWork, *, events: list[dict[str, Any]], secret: str,
                           scanner_seconds: float) -> int:
    """Write one batch; events whose token matches nothing are dropped. Returns the number stored."""
    if not events:
        return 0
    open_tokens = {e["tok"] for e in events if e.get("t") == EventType.open.value}
    click_tokens = {e["tok"] for e in events if e.get("t") == EventType.click.value}
    with uow:
        session = uow.session
        opened = {row.open_token: row for row in session.execute(
            select(SendLedgerEntry.id, SendLedgerEntry.open_token, SendLedgerEntry.sent_at,
                   SendLedgerEntry.campaign_id, SendLedgerEntry.contact_id)
            .where(SendLedgerEntry.open_token.in_(open_tokens)))} if open_tokens else {}
        clicked = {row.token: row for row in session.execute(
            select(TrackedLink.id, TrackedLink.token, SendLedgerEntry.id.label("entry_id"), SendLedgerEntry.sent_at,
                   SendLedgerEntry.campaign_id, SendLedgerEntry.contact_id)
            .join(SendLedgerEntry, SendLedgerEntry.id == TrackedLink.ledger_entry_id)
            .where(TrackedLink.token.in_(click_tokens)))} if click_tokens else {}
        stored = 0
        engaged: dict[tuple[int, int], dict[str, datetime]] = {}
        for event in events:
            at = datetime.fromisoformat(event["at"])
            row: Any
            if event.get("t") == EventType.open.value and event["tok"] in opened:
                row, kind, link_id, entry_id = opened[event["tok"]], EventType.open, None, opened[event["tok"]].id
            elif event.get("t") == EventType.click.value and event["tok"] in clicked:
                row = clicked[event["tok"]]
                kind, link_id, entry_id = EventType.click, row.id, row.entry_id
            else:
                continue
            after = (at - row.sent_at).total_seconds() if row.sent_at else None
            label = classify(user_agent=event.get("ua"), ip=event.get("ip"), seconds_after_delivery=after,
                             scanner_seconds=scanner_seconds)
            session.add(MessageEvent(ledger_entry_id=entry_id, type=kind, classification=label, link_id=link_id,
                                     user_agent=event.get("ua") or None, ip_hash=ip_hash(secret, event.get("ip")),
                                     occurred_at=at))
            stored += 1
            if label is Classification.human and row.campaign_id and row.contact_id:
                stamp = "opened_at" if kind is EventType.open else "clicked_at"
                engaged.setdefault((row.campaign_id, row.contact_id), {}).setdefault(stamp, at)
        for key, stamps in engaged.items():
            member = session.get(CampaignMember, key)
            for column, at in stamps.items():
                if member is not None and getattr(member, column) is None:
                    setattr(member, column, at)
        audit.record(session, SYSTEM, "create", "message_events", None, {"stored": stored, "received": len(events)})
        uow.commit()
    return stored
