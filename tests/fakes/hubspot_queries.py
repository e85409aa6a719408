"""Search, v4 associations and marketing emails of the fake HubSpot (a mixin of FakeHubSpot)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request

from tests.fakes.hubspot_model import (
    DEFAULT_ASSOCIATION,
    OBJECT_TYPE_ALIASES,
    SINGULAR,
    HubSpotError,
    StoredObject,
    iso,
)


class SearchAndAssociations:
    objects: dict[str, dict[str, StoredObject]]
    associations: set[tuple[str, str, str, str, int]]
    marketing_emails: list[dict[str, Any]]
    search_ceiling: int
    _lock: threading.RLock

    def _now_ms(self) -> int:
        raise NotImplementedError

    def _matches(self, obj: StoredObject, flt: dict[str, Any]) -> bool:
        name, op = flt["propertyName"], flt["operator"]
        raw = obj.properties.get(name)
        if op == "HAS_PROPERTY":
            return raw not in (None, "")
        if op == "NOT_HAS_PROPERTY":
            return raw in (None, "")
        if raw is None:
            return False

        def num(v: Any) -> Any:
            text = str(v)
            if text.isdigit():
                return int(text)
            try:
                return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                return text.lower()

        value = obj.updated_ms if name in ("lastmodifieddate", "hs_lastmodifieddate") else num(raw)
        if op == "EQ":
            return bool(value == num(flt["value"]))
        if op == "NEQ":
            return bool(value != num(flt["value"]))
        if op == "IN":
            return value in [num(v) for v in flt["values"]]
        if op == "CONTAINS_TOKEN":
            return str(flt["value"]).lower().strip("*") in str(raw).lower()
        bounds = {"GT": lambda: value > num(flt["value"]), "GTE": lambda: value >= num(flt["value"]),
                  "LT": lambda: value < num(flt["value"]), "LTE": lambda: value <= num(flt["value"]),
                  "BETWEEN": lambda: num(flt["value"]) <= value <= num(flt["highValue"])}
        if op not in bounds:
            raise HubSpotError(400, f"Unsupported operator {op}", "VALIDATION_ERROR")
        return bool(bounds[op]())

    def _search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        limit = int(body.get("limit") or 10)
        after = int(body.get("after") or 0)
        if limit > 200:
            raise HubSpotError(400, "limit must be at most 200", "VALIDATION_ERROR")
        if after + limit > self.search_ceiling:
            # What the real search API answers when paging reaches its 10,000-result ceiling.
            raise HubSpotError(400, "There was a problem with the request.", "VALIDATION_ERROR",
                               subCategory="crm-search.PAGINATION_LIMIT_EXCEEDED")
        groups = body.get("filterGroups") or []
        found = [o for o in self.objects[object_type].values()
                 if not groups or any(all(self._matches(o, f) for f in g.get("filters", [])) for g in groups)]
        for sort in reversed(body.get("sorts") or []):
            name, desc = (sort["propertyName"], sort.get("direction") == "DESCENDING") if isinstance(sort, dict) \
                else (sort.lstrip("-"), sort.startswith("-"))
            key_name = name
            found.sort(key=lambda o: (o.updated_ms if key_name in ("lastmodifieddate", "hs_lastmodifieddate")
                                      else (o.properties.get(key_name) or "")), reverse=desc)
        if not body.get("sorts"):
            found.sort(key=lambda o: int(o.id))
        chunk = found[after:after + limit]
        page: dict[str, Any] = {"total": len(found),
                                "results": [o.view(body.get("properties"), object_type) for o in chunk]}
        if after + limit < len(found):
            page["paging"] = {"next": {"after": str(after + limit)}}
        return page

    def _associate_inputs(self, object_type: str, object_id: str, associations: list[dict[str, Any]]) -> None:
        for assoc in associations:
            to_id = str(assoc["to"]["id"])
            to_type = next((t for t in self.objects if to_id in self.objects[t] and t != object_type), "contacts")
            for spec in assoc.get("types", []):
                self._link(object_type, object_id, to_type, to_id, int(spec["associationTypeId"]))

    def _link(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> None:
        for t, i in ((from_type, from_id), (to_type, to_id)):
            if i not in self.objects[t]:
                raise HubSpotError(404, f"{SINGULAR[t]} {i} does not exist", "OBJECT_NOT_FOUND")
        self.associations.add((from_type, from_id, to_type, to_id, type_id))
        reverse = DEFAULT_ASSOCIATION.get((to_type, from_type), type_id)
        self.associations.add((to_type, to_id, from_type, from_id, reverse))

    def _associations_v4(self, request: Request, rest: list[str]) -> tuple[int, Any]:
        from_type = OBJECT_TYPE_ALIASES.get(rest[0], rest[0])
        from_id = rest[1]
        if len(rest) == 6 and rest[3] == "default" and request.method == "PUT":
            to_type = OBJECT_TYPE_ALIASES.get(rest[4], rest[4])
            type_id = DEFAULT_ASSOCIATION.get((from_type, to_type), 1)
            self._link(from_type, from_id, to_type, rest[5], type_id)
            now = iso(self._now_ms())
            spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
            return 200, {"status": "COMPLETE", "startedAt": now, "completedAt": now,
                         "results": [{"from": {"id": from_id}, "to": {"id": rest[5]}, "associationSpec": spec}]}
        if len(rest) == 4 and request.method == "GET":
            to_type = OBJECT_TYPE_ALIASES.get(rest[3], rest[3])
            rows = sorted((int(a[3]), a[4]) for a in self.associations
                          if a[0] == from_type and a[1] == from_id and a[2] == to_type)
            return 200, {"results": [{"toObjectId": to_id, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]} for to_id, type_id in rows]}
        raise HubSpotError(404, "Not found", "OBJECT_NOT_FOUND")

    def _associations_v4_batch(self, from_name: str, to_name: str, action: str, body: dict[str, Any]) -> tuple[int, Any]:
        from_type = OBJECT_TYPE_ALIASES.get(from_name, from_name)
        to_type = OBJECT_TYPE_ALIASES.get(to_name, to_name)
        inputs = body.get("inputs", [])
        if len(inputs) > 1000:
            raise HubSpotError(400, "Batch input cannot exceed 1000 inputs.", "VALIDATION_ERROR")
        started = iso(self._now_ms())
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        if action == "read":
            for item in inputs:
                from_id = str(item["id"])
                rows = sorted((int(a[3]), a[4]) for a in self.associations
                              if a[0] == from_type and a[1] == from_id and a[2] == to_type)
                if not rows:
                    missing.append(from_id)
                    continue
                results.append({"from": {"id": from_id}, "to": [
                    {"toObjectId": to_id, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id,
                                                                 "label": None}]} for to_id, type_id in rows]})
        elif action == "associate/default":
            for item in inputs:
                from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
                type_id = DEFAULT_ASSOCIATION.get((from_type, to_type), 1)
                self._link(from_type, from_id, to_type, to_id, type_id)
                results.append({"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": {
                    "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}})
        else:
            raise HubSpotError(404, "Not found", "OBJECT_NOT_FOUND")
        out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                               "completedAt": iso(self._now_ms())}
        if missing:  # what the real API answers for objects without associations of that type
            out["numErrors"] = len(missing)
            out["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "subCategory":
                              "crm.associations.NO_ASSOCIATIONS_FOUND", "message": f"No {to_type} is associated "
                              f"with {SINGULAR.get(from_type, from_type)} {i}.", "context": {"fromObjectId": [i]}}
                             for i in missing]
            return 207, out
        return 200, out

    def _emails(self, request: Request, rest: list[str]) -> tuple[int, Any]:
        if rest:
            email = next((e for e in self.marketing_emails if e["id"] == rest[0]), None)
            if email is None:
                raise HubSpotError(404, "Email not found", "OBJECT_NOT_FOUND")
            return 200, email
        limit = int(request.args.get("limit", 10))
        start = int(request.args.get("after") or 0)
        chunk = self.marketing_emails[start:start + limit]
        page: dict[str, Any] = {"total": len(self.marketing_emails), "results": chunk}
        if start + limit < len(self.marketing_emails):
            page["paging"] = {"next": {"after": str(start + limit)}}
        return 200, page
