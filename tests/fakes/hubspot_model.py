"""What the fake HubSpot stores and answers with: object JSON, its rolling request window, its error type."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.serving import WSGIRequestHandler

SEARCH_CEILING = 10_000
DEFAULT_PROPERTIES = {
    "contacts": ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "deals": ["amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id",
              "pipeline"],
    "notes": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    "tasks": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
}
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate"}  # every other object type uses hs_lastmodifieddate
TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "notes": "0-46", "tasks": "0-27"}
# HUBSPOT_DEFINED default association type ids (contact→company 279, note→contact 202, task→contact 204 …).
DEFAULT_ASSOCIATION = {("contacts", "companies"): 279, ("companies", "contacts"): 280, ("notes", "contacts"): 202,
                       ("contacts", "notes"): 201, ("tasks", "contacts"): 204, ("contacts", "tasks"): 203,
                       ("deals", "contacts"): 3, ("contacts", "deals"): 4}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal", "notes": "note", "tasks": "task"}
OBJECT_TYPE_ALIASES = {"contact": "contacts", "company": "companies", "deal": "deals", "note": "notes",
                       "task": "tasks", **{v: k for k, v in TYPE_IDS.items()}}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class StoredObject:
    id: str
    properties: dict[str, str | None]
    created_ms: int
    updated_ms: int
    archived: bool = False

    def view(self, wanted: list[str] | None, object_type: str) -> dict[str, Any]:
        names = (wanted or []) + DEFAULT_PROPERTIES.get(object_type, [])
        props = {name: self.properties.get(name) for name in dict.fromkeys(names)}
        return {"id": self.id, "properties": props, "createdAt": iso(self.created_ms),
                "updatedAt": iso(self.updated_ms), "archived": self.archived}


@dataclass
class RollingWindow:
    limit: int
    seconds: float
    hits: deque[float] = field(default_factory=deque)

    def admit(self, now: float) -> bool:
        while self.hits and now - self.hits[0] >= self.seconds:
            self.hits.popleft()
        if len(self.hits) >= self.limit:
            return False
        self.hits.append(now)
        return True

    def remaining(self) -> int:
        return max(0, self.limit - len(self.hits))


class QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as HubSpot's edge does: no new connection per request

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # the test log stays readable
        pass


class HubSpotError(Exception):
    def __init__(self, status: int, message: str, category: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.category, self.extra = status, message, category, extra
