"""HubSpot CRM through the official hubspot-api-client, pointed at HUBSPOT_API_BASE.

Rate limits are ours to keep: the client's own retries are off, every call waits for room in a rolling
190-per-10-s window (search also 4 per second), a 429 pauses everyone for its Retry-After, and retryable
failures (429, 5xx, timeouts, dropped connections) are retried with backoff before becoming ConnectorError.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from hubspot import HubSpot
from urllib3.exceptions import HTTPError as TransportError
from urllib3.util.retry import Retry

from core.errors import ConnectorError
from core.integrations.base import CRMPage, CRMRecord, MarketingEmail
from core.integrations.ratelimit import RollingWindowLimiter

CONNECTOR = "hubspot"
PRIVATE_APP_LIMIT = (190, 10.0)  # requests per seconds, private-app burst quota
SEARCH_LIMIT = (4, 1.0)
SEARCH_CEILING = 10_000  # the search API will not page past this many results
BATCH_SIZE = 100
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate"}
# HUBSPOT_DEFINED association type ids for engagements on a contact.
NOTE_TO_CONTACT, TASK_TO_CONTACT = 202, 204


def modified_property(object_type: str) -> str:
    return MODIFIED_PROPERTY.get(object_type, "hs_lastmodifieddate")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


class _TextOf(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an email body: tags and styles dropped, one blank line between paragraphs."""
    parser = _TextOf()
    parser.feed(html)
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


class HubSpotConnector:
    """The CRMConnector for HubSpot. One instance per process; its limiter is shared by every caller."""

    label = "HubSpot"

    def __init__(self, access_token: str, *, api_base: str = "https://api.hubapi.com", timeout: float = 30.0,
                 max_retries: int = 5, backoff: float = 0.5, max_backoff: float = 30.0, rate_limit_pause: float = 1.0,
                 rate_limit: tuple[int, float] = PRIVATE_APP_LIMIT, search_limit: tuple[int, float] = SEARCH_LIMIT,
                 search_ceiling: int = SEARCH_CEILING, sleep: Callable[[float], None] = time.sleep) -> None:
        # retry=0: the generated client must not retry behind our back (it cannot see our budget).
        self._client = HubSpot(access_token=access_token, host=api_base.rstrip("/"),
                               retry=Retry(total=0, redirect=0, raise_on_status=False))
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.rate_limit_pause = rate_limit_pause
        self.search_ceiling = search_ceiling
        self._sleep = sleep
        self.limiter = RollingWindowLimiter(*rate_limit, sleep=sleep)
        self.search_limiter = RollingWindowLimiter(*search_limit, sleep=sleep)
        self._apis: dict[str, Any] = {}
        self.requests_sent = 0
        self.rate_limited = 0  # 429s received (each was retried, never shown to the user)

    # Plumbing --------------------------------------------------------------------------------------------

    def _api(self, object_type: str, kind: str) -> Any:
        """Cached generated API object (each builds its own connection pool, so build it once)."""
        key = f"{object_type}.{kind}"
        if key not in self._apis:
            crm = self._client.crm
            group: Any = {"contacts": lambda: crm.contacts, "companies": lambda: crm.companies,
                          "deals": lambda: crm.deals, "notes": lambda: crm.objects.notes,
                          "tasks": lambda: crm.objects.tasks, "associations": lambda: crm.associations.v4,
                          "emails": lambda: self._client.marketing.emails}[object_type]()
            self._apis[key] = getattr(group, kind)
        return self._apis[key]

    def _call(self, fn: Callable[..., Any], *args: Any, search: bool = False, resend_on_timeout: bool = True,
              **kwargs: Any) -> Any:
        """One API call within our budget, retried on 429/5xx; ``resend_on_timeout=False`` for creations that
        HubSpot may have applied before the answer was lost (a blind resend would double them)."""
        attempt = 0
        while True:
            search_slot = self.search_limiter.acquire() if search else None
            slot = self.limiter.acquire()
            self.requests_sent += 1
            try:
                return fn(*args, _request_timeout=self.timeout, **kwargs)
            except TransportError as exc:
                error = ConnectorError(f"HubSpot did not answer: {type(exc).__name__}", connector=CONNECTOR,
                                       retryable=True)
                if not resend_on_timeout:
                    raise error from None
            except Exception as exc:
                status = getattr(exc, "status", None)
                if not isinstance(status, int):
                    raise
                error = self._error_from(status, exc)
            finally:
                self.limiter.done(slot)
                if search_slot is not None:
                    self.search_limiter.done(search_slot)
            attempt += 1
            if not error.retryable or attempt > self.max_retries:
                raise error
            wait = error.retry_after if error.retry_after is not None else min(
                self.max_backoff, self.backoff * 2 ** (attempt - 1))
            if error.status == 429:
                self.rate_limited += 1
                (self.search_limiter if search else self.limiter).pause(wait)
            else:
                self._sleep(wait)

    def _error_from(self, status: int, exc: Any) -> ConnectorError:
        try:
            body = json.loads(getattr(exc, "body", None) or "{}")
        except (TypeError, ValueError):
            body = {}
        message = body.get("message") or getattr(exc, "reason", "") or "error"
        category = body.get("category", "")
        headers = getattr(exc, "headers", None) or {}
        retry_after: float | None = None
        if status == 429:
            raw = headers.get("Retry-After")
            # Without Retry-After, HubSpot's rolling window frees a slot within about a second.
            retry_after = float(raw) if raw and raw.replace(".", "", 1).isdigit() else self.rate_limit_pause
        retryable = status in (408, 423, 429) or status >= 500
        return ConnectorError(f"HubSpot {status} {category}: {message}".strip(), connector=CONNECTOR,
                              retryable=retryable, status=status, retry_after=retry_after,
                              details={"category": category, "correlationId": body.get("correlationId")})

    @staticmethod
    def _record(obj: Any) -> CRMRecord:
        created = (obj.created_at or datetime.now(UTC)).astimezone(UTC)
        return CRMRecord(id=str(obj.id), properties=dict(obj.properties or {}), created_at=created,
                         updated_at=obj.updated_at.astimezone(UTC) if obj.updated_at else created,
                         archived=bool(getattr(obj, "archived", False)))

    @staticmethod
    def _next_after(page: Any) -> str | None:
        paging = getattr(page, "paging", None)
        nxt = getattr(paging, "next", None) if paging is not None else None
        return str(nxt.after) if nxt is not None and nxt.after is not None else None

    # Objects ---------------------------------------------------------------------------------------------

    def test_connection(self) -> str:
        page = self._call(self._api("contacts", "basic_api").get_page, limit=1)
        return f"Connected: HubSpot answered ({len(page.results)} sample contact)"

    def list_page(self, object_type: str, *, properties: list[str], after: str | None = None,
                  limit: int = BATCH_SIZE) -> CRMPage:
        kwargs: dict[str, Any] = {"limit": limit, "properties": properties, "archived": False}
        if after:
            kwargs["after"] = after
        # The raw JSON: the generated models parse each timestamp with dateutil, too slow for bulk imports.
        raw = self._call(self._api(object_type, "basic_api").get_page, _preload_content=False, **kwargs)
        page = json.loads(raw.data)
        records = [CRMRecord(id=str(o["id"]), properties=o.get("properties") or {},
                             created_at=_parse_time(o["createdAt"]), updated_at=_parse_time(o["updatedAt"]),
                             archived=bool(o.get("archived"))) for o in page.get("results", [])]
        nxt = (page.get("paging") or {}).get("next") or {}
        return CRMPage(records=records, after=str(nxt["after"]) if nxt.get("after") else None)

    def get(self, object_type: str, object_id: str, *, properties: list[str]) -> CRMRecord | None:
        try:
            obj = self._call(self._api(object_type, "basic_api").get_by_id, object_id, properties=properties)
        except ConnectorError as exc:
            if exc.status == 404:
                return None
            raise
        return self._record(obj)

    def create(self, object_type: str, properties: dict[str, str | None]) -> CRMRecord:
        return self._record(self._call(self._api(object_type, "basic_api").create, {"properties": properties}))

    def update(self, object_type: str, object_id: str, properties: dict[str, str | None]) -> CRMRecord:
        return self._record(self._call(self._api(object_type, "basic_api").update, object_id,
                                       {"properties": properties}))

    def batch_read(self, object_type: str, ids: list[str], *, properties: list[str],
                   id_property: str | None = None) -> list[CRMRecord]:
        """Records found (missing ids are skipped); ``id_property`` reads by e.g. email instead of id."""
        out: list[CRMRecord] = []
        for start in range(0, len(ids), BATCH_SIZE):
            body: dict[str, Any] = {"inputs": [{"id": i} for i in ids[start:start + BATCH_SIZE]],
                                    "properties": properties, "propertiesWithHistory": []}
            if id_property:
                body["idProperty"] = id_property
            result = self._call(self._api(object_type, "batch_api").read, body)
            out.extend(self._record(o) for o in result.results)
        return out

    def batch_create(self, object_type: str, inputs: list[dict[str, str | None]]) -> list[CRMRecord]:
        out: list[CRMRecord] = []
        for start in range(0, len(inputs), BATCH_SIZE):
            body = {"inputs": [{"properties": p, "associations": []} for p in inputs[start:start + BATCH_SIZE]]}
            out.extend(self._record(o) for o in self._call(self._api(object_type, "batch_api").create, body).results)
        return out

    def batch_update(self, object_type: str, updates: dict[str, dict[str, str | None]]) -> list[CRMRecord]:
        items = list(updates.items())
        out: list[CRMRecord] = []
        for start in range(0, len(items), BATCH_SIZE):
            body = {"inputs": [{"id": i, "properties": p} for i, p in items[start:start + BATCH_SIZE]]}
            out.extend(self._record(o) for o in self._call(self._api(object_type, "batch_api").update, body).results)
        return out

    def search(self, object_type: str, *, filters: list[dict[str, Any]], properties: list[str],
               sorts: list[dict[str, str]] | None = None, after: str | None = None, limit: int = 100) -> CRMPage:
        body: dict[str, Any] = {"filterGroups": [{"filters": filters}] if filters else [], "properties": properties,
                                "sorts": sorts or [], "limit": limit}
        if after:
            body["after"] = after
        page = self._call(self._api(object_type, "search_api").do_search, body, search=True)
        return CRMPage(records=[self._record(o) for o in page.results], after=self._next_after(page), total=page.total)

    def count(self, object_type: str) -> int:
        """How many records HubSpot holds (the search total), for an import's progress bar."""
        return self.search(object_type, filters=[], properties=[], limit=1).total or 0

    def find_contact_by_email(self, email: str, *, properties: list[str]) -> CRMRecord | None:
        page = self.search("contacts", filters=[{"propertyName": "email", "operator": "EQ", "value": email}],
                           properties=properties, limit=1)
        return page.records[0] if page.records else None

    def find_company_by_domain(self, domain: str, *, properties: list[str]) -> CRMRecord | None:
        page = self.search("companies", filters=[{"propertyName": "domain", "operator": "EQ", "value": domain}],
                           properties=properties, limit=1)
        return page.records[0] if page.records else None

    def modified_since(self, object_type: str, since: datetime, *, properties: list[str],
                       page_size: int = 100) -> Iterator[CRMRecord]:
        """Every record modified at or after ``since``, oldest first, past the 10,000-result ceiling.

        Search stops paging at 10,000 results, so when a window fills up a new search starts at the last
        modification time seen; records sharing that millisecond are skipped by id so none repeats.
        """
        prop = modified_property(object_type)
        cursor_ms, seen_at_cursor = _ms(since), set[str]()
        while True:
            after: str | None = None
            fetched = 0
            last_ms = cursor_ms
            ids_at_last: set[str] = set()
            yielded = 0
            while True:
                page = self.search(object_type, properties=properties, after=after, limit=page_size,
                                   filters=[{"propertyName": prop, "operator": "GTE", "value": str(cursor_ms)}],
                                   sorts=[{"propertyName": prop, "direction": "ASCENDING"}])
                for record in page.records:
                    record_ms = _ms(record.updated_at)
                    if record_ms == cursor_ms and record.id in seen_at_cursor:
                        continue
                    if record_ms != last_ms:
                        last_ms, ids_at_last = record_ms, set()
                    ids_at_last.add(record.id)
                    yielded += 1
                    yield record
                fetched += len(page.records)
                after = page.after
                if after is None:
                    return
                if fetched + page_size > self.search_ceiling:
                    break  # the next page would cross the ceiling: start a new window
            if not yielded:
                return  # over 10,000 records in one millisecond: nothing more can be reached by search
            if last_ms == cursor_ms:
                seen_at_cursor |= ids_at_last
            else:
                cursor_ms, seen_at_cursor = last_ms, ids_at_last

    # Associations and engagements ------------------------------------------------------------------------

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self._call(self._api("associations", "basic_api").create_default, from_type, from_id, to_type, to_id)

    def associated_ids(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        ids: list[str] = []
        after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": 500}
            if after:
                kwargs["after"] = after
            page = self._call(self._api("associations", "basic_api").get_page, from_type, from_id, to_type, **kwargs)
            ids.extend(str(r.to_object_id) for r in page.results)
            after = self._next_after(page)
            if after is None:
                return ids

    def companies_of_contacts(self, contact_ids: list[str]) -> dict[str, list[str]]:
        """Contact id -> its associated company ids (v4 batch read); contacts without one are left out."""
        out: dict[str, list[str]] = {}
        api = self._api("associations", "batch_api")
        for start in range(0, len(contact_ids), BATCH_SIZE):
            body = {"inputs": [{"id": i} for i in contact_ids[start:start + BATCH_SIZE]]}
            # Raw JSON: a 207 (some contacts have no company) is an answer here, not a failure.
            raw = self._call(api.get_page, "contacts", "companies", body, _preload_content=False)
            for row in json.loads(raw.data).get("results", []):
                out[str(row["from"]["id"])] = [str(to["toObjectId"]) for to in row.get("to", [])]
        return out

    def associate_contacts_with_companies(self, pairs: list[tuple[str, str]]) -> None:
        """Default (primary-free) contact→company associations, 100 per request; repeating one is harmless."""
        api = self._api("associations", "batch_api")
        for start in range(0, len(pairs), BATCH_SIZE):
            body = {"inputs": [{"from": {"id": c}, "to": {"id": co}} for c, co in pairs[start:start + BATCH_SIZE]]}
            self._call(api.create_default, "contacts", "companies", body)

    def _engagement(self, object_type: str, type_id: int, contact_id: str, properties: dict[str, str]) -> str:
        body = {"properties": properties, "associations": [
            {"to": {"id": contact_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                  "associationTypeId": type_id}]}]}
        return str(self._call(self._api(object_type, "basic_api").create, body, resend_on_timeout=False).id)

    def create_note(self, contact_id: str, body_html: str, at: datetime) -> str:
        """A note on the contact's timeline (how our sent emails appear in HubSpot)."""
        return self._engagement("notes", NOTE_TO_CONTACT, contact_id,
                                {"hs_note_body": body_html, "hs_timestamp": str(_ms(at))})

    def create_task(self, contact_id: str, subject: str, body: str, due: datetime, *, completed: bool = False,
                    priority: str = "MEDIUM", task_type: str = "TODO") -> str:
        return self._engagement("tasks", TASK_TO_CONTACT, contact_id, {
            "hs_task_subject": subject, "hs_task_body": body, "hs_timestamp": str(_ms(due)),
            "hs_task_status": "COMPLETED" if completed else "NOT_STARTED", "hs_task_priority": priority,
            "hs_task_type": task_type})

    def engagements_for_contact(self, object_type: str, contact_id: str, *, properties: list[str]) -> list[CRMRecord]:
        ids = self.associated_ids("contacts", contact_id, object_type)
        return self.batch_read(object_type, ids, properties=properties) if ids else []

    def get_deal(self, deal_id: str) -> CRMRecord | None:
        return self.get("deals", deal_id, properties=["dealname", "dealstage", "amount", "closedate", "pipeline"])

    # Marketing emails (voice training) -------------------------------------------------------------------

    def marketing_emails(self, *, limit: int = 50) -> list[MarketingEmail]:
        out: list[MarketingEmail] = []
        after: str | None = None
        api = self._api("emails", "marketing_emails_api")
        while len(out) < limit:
            kwargs: dict[str, Any] = {"limit": min(100, limit - len(out)), "include_stats": False}
            if after:
                kwargs["after"] = after
            page = self._call(api.get_page, **kwargs)
            for email in page.results:
                widgets = (email.content.widgets if email.content is not None else None) or {}
                html = "\n".join(str((w.get("body") or {}).get("html", "")) for w in widgets.values()
                                 if isinstance(w, dict))
                out.append(MarketingEmail(id=str(email.id), name=email.name, subject=email.subject,
                                          text=html_to_text(html)))
            after = self._next_after(page)
            if after is None:
                break
        return out
