"""A fake HubSpot on 127.0.0.1 speaking CRM v3/v4 JSON the way hubspot-api-client expects it.

What it models, because our connector depends on it: bearer auth, camelCase objects with string ids and
ISO timestamps, `after` paging, batch endpoints capped at 100 inputs, search with filterGroups/sorts and its
10,000-result ceiling (400), v4 associations, notes/tasks/deals, marketing emails, a rolling 190 req/10 s
window plus 4 searches/s answered with 429 + `X-HubSpot-RateLimit-*` headers and the real error body, and
injectable faults (429 storms, 5xx, slow answers that make the client time out). Every write is also
recorded as the webhook event HubSpot would send, so tests can deliver them (echoes included).
"""

from __future__ import annotations

import bisect
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.hubspot_model import (
    MODIFIED_PROPERTY,
    OBJECT_TYPE_ALIASES,
    SEARCH_CEILING,
    SINGULAR,
    TYPE_IDS,
    HubSpotError,
    QuietHandler,
    RollingWindow,
    StoredObject,
    iso,
)
from tests.fakes.hubspot_queries import SearchAndAssociations


class FakeHubSpot(SearchAndAssociations):
    """Start with ``with FakeHubSpot() as hub:``; ``hub.base_url`` goes into HUBSPOT_API_BASE."""

    def __init__(self, *, token: str = "pat-test-token", max_requests: int = 190, window_seconds: float = 10.0,
                 searches_per_second: int = 4, send_retry_after: bool = False) -> None:
        self.token = token
        self.window = RollingWindow(max_requests, window_seconds)
        self.search_window = RollingWindow(searches_per_second, 1.0)
        self.send_retry_after = send_retry_after
        self.objects: dict[str, dict[str, StoredObject]] = {t: {} for t in TYPE_IDS}
        self.associations: set[tuple[str, str, str, str, int]] = set()
        self.marketing_emails: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.faults: deque[str] = deque()
        self.slow_seconds = 1.0
        self.search_ceiling = SEARCH_CEILING  # tests lower it to cross the ceiling with fewer records
        self._lock = threading.RLock()
        self._next_id = 1000
        self._last_ms = 0
        self._event_id = 0
        self._sorted_ids: dict[str, list[int]] = {}
        self._server: BaseWSGIServer | None = None

    # Lifecycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> FakeHubSpot:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=QuietHandler)
        # A short poll interval: shutdown() waits up to one interval, and tests start many fakes.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake with `with FakeHubSpot() as hub:`"
        return f"http://127.0.0.1:{self._server.server_port}"

    # Test controls ---------------------------------------------------------------------------------------

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Queue faults for the next requests: "429", "500", "502", "503" or "timeout" (answers too slowly)."""
        with self._lock:
            self.faults.extend([kind] * times)

    @contextmanager
    def unlimited(self) -> Iterator[None]:
        saved = (self.window.limit, self.search_window.limit)
        self.window.limit = self.search_window.limit = 10**9
        try:
            yield
        finally:
            self.window.limit, self.search_window.limit = saved

    def writes(self) -> list[tuple[str, str, int]]:
        return [r for r in self.requests if r[0] in ("PATCH", "PUT", "DELETE")
                or (r[0] == "POST" and not r[1].endswith(("/search", "/batch/read")))]

    def seed(self, object_type: str, properties: dict[str, str | None], *, source: str = "IMPORT") -> str:
        """Create an object as if a HubSpot user did (no request counted); returns its id."""
        with self._lock:
            return self._create(object_type, properties, source=source).id

    def user_edit(self, object_type: str, object_id: str, properties: dict[str, str | None]) -> list[dict[str, Any]]:
        """Change properties as a HubSpot user would; returns the webhook events HubSpot would send."""
        with self._lock:
            before = len(self.events)
            self._update(object_type, object_id, properties, source="CRM_UI")
            return self.events[before:]

    def merge(self, object_type: str, primary_id: str, merged_id: str) -> dict[str, Any]:
        with self._lock:
            primary, merged = self.objects[object_type][primary_id], self.objects[object_type].pop(merged_id)
            self._sorted_ids.pop(object_type, None)
            for key, value in merged.properties.items():
                if primary.properties.get(key) in (None, ""):
                    primary.properties[key] = value
            primary.updated_ms = self._now_ms()
            event = self._event(object_type, "merge", primary_id, primaryObjectId=int(primary_id),
                                mergedObjectIds=[int(merged_id)], newObjectId=int(primary_id),
                                numberOfPropertiesMoved=0)
            return event

    def delete(self, object_type: str, object_id: str) -> dict[str, Any]:
        with self._lock:
            self.objects[object_type].pop(object_id)
            self._sorted_ids.pop(object_type, None)
            return self._event(object_type, "deletion", object_id)

    def add_marketing_email(self, name: str, subject: str, html: str) -> str:
        with self._lock:
            email_id = str(self._new_id())
            now = iso(self._now_ms())
            self.marketing_emails.append({
                "id": email_id, "name": name, "subject": subject, "state": "PUBLISHED", "type": "BATCH_EMAIL",
                "subcategory": "batch", "sendOnPublish": True, "isPublished": True, "archived": False,
                "createdAt": now, "updatedAt": now, "publishedAt": now,
                "from": {"fromName": "Ada", "replyTo": "ada@example.com"},
                "to": {"contactIds": {}, "contactLists": {}, "suppressGraymail": False},
                "content": {"widgets": {"module-0-0-0": {"body": {"html": html}, "type": "module"}},
                            "flexAreas": {}, "plainTextVersion": ""},
            })
            return email_id

    # Storage ---------------------------------------------------------------------------------------------

    def _now_ms(self) -> int:
        # Strictly increasing, so "newer" is always well defined in tests that write in a tight loop.
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return self._last_ms

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _event(self, object_type: str, kind: str, object_id: str, **extra: Any) -> dict[str, Any]:
        self._event_id += 1
        event = {"eventId": self._event_id, "subscriptionId": 4242, "portalId": 62515, "appId": 54321,
                 "occurredAt": self._last_ms or self._now_ms(),
                 "subscriptionType": f"{SINGULAR.get(object_type, object_type)}.{kind}", "attemptNumber": 0,
                 "objectId": int(object_id), "changeSource": extra.pop("changeSource", "CRM_UI"), **extra}
        if object_type in ("contacts", "companies"):
            self.events.append(event)
        return event

    def _create(self, object_type: str, properties: dict[str, Any], *, source: str) -> StoredObject:
        ms = self._now_ms()
        object_id = str(self._new_id())
        props = {k: (None if v is None else str(v)) for k, v in properties.items()}
        stamp = iso(ms)
        props.update(hs_object_id=object_id, createdate=stamp, hs_createdate=stamp)
        props[MODIFIED_PROPERTY.get(object_type, "hs_lastmodifieddate")] = stamp
        obj = StoredObject(object_id, props, ms, ms)
        self.objects[object_type][object_id] = obj
        self._sorted_ids.pop(object_type, None)
        self._event(object_type, "creation", object_id, changeSource=source)
        return obj

    def _update(self, object_type: str, object_id: str, properties: dict[str, Any], *, source: str) -> StoredObject:
        obj = self.objects[object_type].get(object_id)
        if obj is None:
            raise HubSpotError(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
        ms = self._now_ms()
        for name, value in properties.items():
            value = None if value is None else str(value)
            if obj.properties.get(name) != value:
                obj.properties[name] = value
                self._event(object_type, "propertyChange", object_id, propertyName=name, propertyValue=value or "",
                            changeSource=source)
        obj.updated_ms = ms
        obj.properties[MODIFIED_PROPERTY.get(object_type, "hs_lastmodifieddate")] = iso(ms)
        return obj

    # HTTP ------------------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._handle(request)
        with self._lock:
            self.requests.append((request.method, request.path, response.status_code))
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        with self._lock:
            fault = self.faults.popleft() if self.faults else None
        if fault == "timeout":
            time.sleep(self.slow_seconds)
        elif fault == "429":
            return self._rate_limited("TEN_SECONDLY_ROLLING", self.window)
        elif fault in ("500", "502", "503"):
            return self._error(int(fault), "internal error", "INTERNAL_ERROR" if fault == "500" else "UNAVAILABLE")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(401, "Authentication credentials not found. This API supports OAuth 2.0 "
                                    "authentication and you can find more details at "
                                    "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                               "INVALID_AUTHENTICATION")
        now = time.monotonic()
        with self._lock:
            if request.path.endswith("/search") and not self.search_window.admit(now):
                return self._rate_limited("SECONDLY", self.search_window)
            if not self.window.admit(now):
                return self._rate_limited("TEN_SECONDLY_ROLLING", self.window)
            try:
                status, body = self._route(request)
            except HubSpotError as exc:
                return self._error(exc.status, exc.message, exc.category, **exc.extra)
        response = Response(b"" if body is None else json.dumps(body), status=status, mimetype="application/json")
        self._limit_headers(response, self.window)
        return response

    def _limit_headers(self, response: Response, window: RollingWindow) -> None:
        response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(int(window.seconds * 1000))
        response.headers["X-HubSpot-RateLimit-Max"] = str(window.limit)
        response.headers["X-HubSpot-RateLimit-Remaining"] = str(window.remaining())
        response.headers["X-HubSpot-RateLimit-Daily"] = "500000"
        response.headers["X-HubSpot-RateLimit-Daily-Remaining"] = "499000"

    def _rate_limited(self, policy: str, window: RollingWindow) -> Response:
        response = self._error(429, f"You have reached your {policy.lower()} limit.", "RATE_LIMITS",
                               errorType="RATE_LIMIT", policyName=policy)
        self._limit_headers(response, window)
        response.headers["X-HubSpot-RateLimit-Remaining"] = "0"
        if self.send_retry_after:
            response.headers["Retry-After"] = "1"
        return response

    def _error(self, status: int, message: str, category: str, **extra: Any) -> Response:
        body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category,
                **extra}
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def _route(self, request: Request) -> tuple[int, Any]:
        parts = [p for p in request.path.split("/") if p]
        body = request.get_json(silent=True) if request.data else None
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) >= 4:
            object_type = OBJECT_TYPE_ALIASES.get(parts[3], parts[3])
            if object_type not in self.objects:
                raise HubSpotError(400, f"Unable to infer object type from: {parts[3]}", "VALIDATION_ERROR")
            return self._objects(request, object_type, parts[4:], body)
        if parts[:3] == ["crm", "v4", "objects"]:
            return self._associations_v4(request, parts[3:])
        if parts[:3] == ["crm", "v4", "associations"] and len(parts) >= 6 and parts[5] == "batch":
            return self._associations_v4_batch(parts[3], parts[4], "/".join(parts[6:]), body or {})
        if parts[:3] == ["marketing", "v3", "emails"]:
            return self._emails(request, parts[3:])
        raise HubSpotError(404, "Not found", "OBJECT_NOT_FOUND")

    def _wanted(self, request: Request) -> list[str]:
        return [name for value in request.args.getlist("properties") for name in value.split(",") if name]

    def _objects(self, request: Request, object_type: str, rest: list[str], body: Any) -> tuple[int, Any]:
        store = self.objects[object_type]
        method = request.method
        if not rest and method == "GET":
            limit = min(int(request.args.get("limit", 10)), 100)
            ids = self._ids_in_order(object_type)
            start = bisect.bisect_right(ids, int(request.args["after"])) if request.args.get("after") else 0
            chunk = [str(i) for i in ids[start:start + limit]]
            page: dict[str, Any] = {"results": [store[i].view(self._wanted(request), object_type) for i in chunk]}
            if start + limit < len(ids):
                page["paging"] = {"next": {"after": chunk[-1], "link": f"?after={chunk[-1]}"}}
            return 200, page
        if not rest and method == "POST":
            created = self._create(object_type, body.get("properties", {}), source="INTEGRATION")
            self._associate_inputs(object_type, created.id, body.get("associations") or [])
            return 201, created.view(list(body.get("properties", {})), object_type)
        if rest == ["search"]:
            return 200, self._search(object_type, body)
        if rest[:1] == ["batch"]:
            return self._batch(object_type, rest[1], body)
        object_id = rest[0]
        if request.args.get("idProperty"):
            object_id = self._find_by(object_type, request.args["idProperty"], object_id) or "-"
        obj = store.get(object_id)
        if obj is None:
            raise HubSpotError(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
        if method == "GET":
            return 200, obj.view(self._wanted(request), object_type)
        if method == "PATCH":
            self._update(object_type, object_id, body.get("properties", {}), source="INTEGRATION")
            return 200, obj.view(list(body.get("properties", {})), object_type)
        if method == "DELETE":
            store.pop(object_id)
            self._sorted_ids.pop(object_type, None)
            self._event(object_type, "deletion", object_id, changeSource="INTEGRATION")
            return 204, None
        raise HubSpotError(405, "Method not allowed", "VALIDATION_ERROR")

    def _ids_in_order(self, object_type: str) -> list[int]:
        # Sorted once per change of the store, not per page: a 100,000-record import pages 1,000 times.
        store = self.objects[object_type]
        cached = self._sorted_ids.get(object_type)
        if cached is None:
            cached = self._sorted_ids[object_type] = sorted(int(k) for k in store)
        return cached

    def _find_by(self, object_type: str, prop: str, value: str) -> str | None:
        value = value.lower() if prop == "email" else value
        for obj in self.objects[object_type].values():
            if (obj.properties.get(prop) or "").lower() == value.lower():
                return obj.id
        return None

    def _batch(self, object_type: str, action: str, body: Any) -> tuple[int, Any]:
        inputs = body.get("inputs", [])
        if len(inputs) > 100:
            raise HubSpotError(400, "Batch input cannot exceed 100 inputs.", "VALIDATION_ERROR")
        started = iso(self._now_ms())
        results, missing = [], []
        if action == "read":
            prop = body.get("idProperty")
            for item in inputs:
                object_id = self._find_by(object_type, prop, item["id"]) if prop else item["id"]
                obj = self.objects[object_type].get(object_id or "-")
                if obj is None:
                    missing.append(item["id"])
                else:
                    results.append(obj.view(body.get("properties"), object_type))
            status = 200
        elif action == "create":
            if object_type == "contacts":
                for item in inputs:
                    existing = self._find_by(object_type, "email", item["properties"].get("email") or "\0")
                    if existing:
                        raise HubSpotError(409, f"Contact already exists. Existing ID: {existing}", "CONFLICT")
            for item in inputs:
                obj = self._create(object_type, item.get("properties", {}), source="INTEGRATION")
                self._associate_inputs(object_type, obj.id, item.get("associations") or [])
                results.append(obj.view(list(item.get("properties", {})), object_type))
            status = 201
        elif action == "update":
            for item in inputs:
                if item["id"] not in self.objects[object_type]:
                    missing.append(item["id"])
                    continue
                obj = self._update(object_type, item["id"], item.get("properties", {}), source="INTEGRATION")
                results.append(obj.view(list(item.get("properties", {})), object_type))
            status = 200
        else:
            raise HubSpotError(404, "Not found", "OBJECT_NOT_FOUND")
        out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                               "completedAt": iso(self._now_ms())}
        if missing:
            out["numErrors"] = 1
            out["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get some "
                              f"{object_type} objects, they may be deleted or not exist.",
                              "context": {"ids": missing}}]
            status = 207
        return status, out
