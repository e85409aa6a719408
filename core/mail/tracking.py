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
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import Table, insert, select, tuple_

from core.audit import service as audit
from core.auth.actor import SYSTEM
from core.campaigns.models import CampaignMember
from core.db import utcnow
from core.logging import get_logger
from core.mail.models import Classification, EventType, MessageEvent, SendLedgerEntry, TrackedLink
from core.uow import UnitOfWork

if TYPE_CHECKING:
    from core.config import Settings
    from core.services import Services

log = get_logger("core.mail.tracking")

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


@lru_cache(maxsize=16384)
def _network_kind(ip: str) -> Classification | None:
    # Parsed once per address: opens come back from the same proxies and offices again and again.
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if any(address in net for net in _GOOGLE_NETS):
        return Classification.google_proxy
    if any(address in net for net in _APPLE_NETS):
        return Classification.apple_proxy
    return None


@lru_cache(maxsize=4096)
def _agent_kind(user_agent: str) -> Classification | None:
    # Mail clients send a handful of distinct user agents: each is matched against the patterns once.
    if _GOOGLE_UA.search(user_agent):
        return Classification.google_proxy
    if not user_agent or _SCANNER_UA.search(user_agent):
        return Classification.scanner
    return None


def classify(*, user_agent: str | None, ip: str | None, seconds_after_delivery: float | None,
             scanner_seconds: float) -> Classification:
    by_agent, by_network = _agent_kind(user_agent or ""), _network_kind(ip or "")
    if Classification.google_proxy in (by_agent, by_network):
        return Classification.google_proxy
    if by_network is Classification.apple_proxy:
        return Classification.apple_proxy
    if by_agent is Classification.scanner:
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
    def requeue(self, events: list[dict[str, Any]]) -> None: ...
    def close(self) -> None: ...
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

    def requeue(self, events: list[dict[str, Any]]) -> None:
        """Put a batch that could not be written back at the front, in its order, for the next flush."""
        with self._lock:
            self._items.extendleft(reversed(events))

    def close(self) -> None:
        """Nothing to hand over: what is left here is written by the owner's last flush."""

    def __len__(self) -> int:
        return len(self._items)


class RedisEventBuffer:
    """A Redis list shared by every web worker, written to the database by the worker process.

    A request only appends to a local list; a background thread moves what gathered to Redis every
    ``push_seconds`` in one RPUSH, so the request path never waits for the network. While Redis is away the
    events stay in the local list (up to ``max_pending``, oldest dropped with an error) and go out once it is
    back. ``push_pending()`` sends what is left, and runs at exit.
    """

    KEY = "sales-agent:tracking-events"

    def __init__(self, url: str, *, key: str = KEY, push_seconds: float = 0.05, max_pending: int = 100_000) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.key, self.push_seconds = key, push_seconds
        self._pending: deque[dict[str, Any]] = deque(maxlen=max_pending)
        self._lock = threading.Lock()
        self._pusher: threading.Thread | None = None
        self._failing = False
        self._closed = threading.Event()

    def push(self, event: dict[str, Any]) -> None:
        self._pending.append(event)  # deque.append is atomic: no lock on the request path
        if self._pusher is None and not self._closed.is_set():
            with self._lock:
                if self._pusher is None:
                    self._pusher = threading.Thread(target=self._push_forever, name="tracking-pusher", daemon=True)
                    self._pusher.start()

    def _push_forever(self) -> None:
        while not self._closed.wait(self.push_seconds):
            self.push_pending()

    def close(self) -> None:
        """Send what gathered and stop the sending thread (a later push starts none)."""
        self._closed.set()
        self.push_pending()

    def push_pending(self) -> int:
        """Send the locally gathered events to Redis now; returns how many went."""
        sent = 0
        with self._lock:  # one sender at a time keeps the events in order
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(1000, len(self._pending)))]
                try:
                    self._redis.rpush(self.key, *[json.dumps(e) for e in batch])
                except Exception as exc:  # Redis away: keep them, in order, for the next round
                    self._pending.extendleft(reversed(batch))
                    if not self._failing:
                        log.error("tracking events wait for Redis", error=type(exc).__name__,
                                  waiting=len(self._pending))
                    self._failing = True
                    return sent
                sent += len(batch)
            if self._failing:
                log.info("tracking events reach Redis again")
            self._failing = False
        return sent

    def drain(self, limit: int) -> list[dict[str, Any]]:
        self.push_pending()
        raw = self._redis.lpop(self.key, limit) or []
        return [json.loads(item) for item in raw]

    def requeue(self, events: list[dict[str, Any]]) -> None:
        if events:
            self._redis.lpush(self.key, *[json.dumps(e) for e in reversed(events)])

    @property
    def pending(self) -> int:
        """Events gathered here and not yet in Redis."""
        return len(self._pending)

    def __len__(self) -> int:
        """Events not yet written: gathered here and waiting in Redis."""
        return len(self._pending) + int(self._redis.llen(self.key))


def event_buffer(settings: Settings) -> EventBuffer:
    """The shared Redis list when REDIS_URL is set (the worker writes it), else an in-process buffer."""
    if settings.redis_url:
        return RedisEventBuffer(settings.redis_url, key=settings.tracking_redis_key)
    return MemoryEventBuffer()


def tracking_event(kind: EventType, token: str, *, user_agent: str | None, ip: str | None) -> dict[str, Any]:
    return {"t": kind.value, "tok": token, "ua": (user_agent or "")[:500], "ip": ip, "at": utcnow().isoformat()}


# --- writing a batch --------------------------------------------------------------------------------------

def record_tracking_events(uow: UnitOfWork, *, events: list[dict[str, Any]], secret: str,
                           scanner_seconds: float) -> int:
    """Write one batch; events whose token matches nothing are dropped. Returns the number stored.

    One multi-row INSERT of plain rows (no ORM object per event): the flusher shares its process with the
    request threads, so every microsecond it holds the GIL shows up in their latency.
    """
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
        rows: list[dict[str, Any]] = []
        engaged: dict[tuple[int, int], dict[str, datetime]] = {}
        hashes: dict[str | None, str | None] = {}
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
            ua, ip = event.get("ua") or None, event.get("ip")
            label = classify(user_agent=ua, ip=ip, seconds_after_delivery=after, scanner_seconds=scanner_seconds)
            if ip not in hashes:
                hashes[ip] = ip_hash(secret, ip)
            rows.append({"ledger_entry_id": entry_id, "type": kind, "classification": label, "link_id": link_id,
                         "user_agent": ua, "ip_hash": hashes[ip], "detail": None, "occurred_at": at})
            if label is Classification.human and row.campaign_id and row.contact_id:
                stamp = "opened_at" if kind is EventType.open else "clicked_at"
                engaged.setdefault((row.campaign_id, row.contact_id), {}).setdefault(stamp, at)
        if rows:
            session.execute(insert(cast(Table, MessageEvent.__table__)), rows)  # one executemany
        members: list[CampaignMember] = list(session.scalars(select(CampaignMember).where(
            tuple_(CampaignMember.campaign_id, CampaignMember.contact_id).in_(list(engaged))))) if engaged else []
        for member in members:  # one query for the batch, not one per engaged contact
            for column, at in engaged[(member.campaign_id, member.contact_id)].items():
                if getattr(member, column) is None:
                    setattr(member, column, at)
        audit.record(session, SYSTEM, "create", "message_events", None,
                     {"stored": len(rows), "received": len(events)})
        uow.commit()
    return len(rows)


def flush_buffer(services: Services, buffer: EventBuffer) -> int:
    """Write everything buffered now, batch by batch; returns how many events were stored.

    A batch the database refuses goes back to the front of the buffer for the next flush: no event is lost
    to a locked or unreachable database.
    """
    settings, stored = services.settings, 0
    while True:
        batch = buffer.drain(settings.tracking_batch_size)
        if not batch:
            return stored
        try:
            stored += record_tracking_events(services.uow(), events=batch, secret=settings.effective_secret_key,
                                             scanner_seconds=settings.tracking_scanner_seconds)
        except Exception as exc:
            buffer.requeue(batch)
            log.error("tracking batch not written, kept for the next flush", error=type(exc).__name__,
                      size=len(batch), waiting=len(buffer))
            return stored
