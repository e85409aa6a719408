"""Field mapping between our contacts/companies and HubSpot properties, with transforms both ways."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from core.crm.models import Company, Contact, LifecycleStage
from core.hubspot.models import Direction, ObjectType


class FieldMap(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ours: str
    theirs: str
    transform: str = "text"
    direction: Direction = Direction.both

    def pulls(self) -> bool:
        return self.direction in (Direction.both, Direction.from_hubspot)

    def pushes(self) -> bool:
        return self.direction in (Direction.both, Direction.to_hubspot)


# HubSpot's lifecycle stages are coarser than ours: several of ours map onto one of theirs.
_STAGE_TO_HUBSPOT = {
    LifecycleStage.prospect: "lead", LifecycleStage.contacted: "lead",
    LifecycleStage.engaged: "marketingqualifiedlead", LifecycleStage.meeting: "salesqualifiedlead",
    LifecycleStage.opportunity: "opportunity", LifecycleStage.customer: "customer",
    LifecycleStage.disqualified: "other",
}
_STAGE_FROM_HUBSPOT = {"subscriber": LifecycleStage.prospect, "lead": LifecycleStage.prospect,
                       "marketingqualifiedlead": LifecycleStage.engaged,
                       "salesqualifiedlead": LifecycleStage.meeting, "opportunity": LifecycleStage.opportunity,
                       "customer": LifecycleStage.customer, "evangelist": LifecycleStage.customer,
                       "other": LifecycleStage.disqualified}


def _text_out(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _text_in(value: str | None) -> Any:
    return None if value in (None, "") else value


def _int_in(value: str | None) -> Any:
    if value in (None, ""):
        return None
    try:
        return int(float(str(value)))
    except ValueError:
        return None


def _stage_out(value: Any) -> str | None:
    return None if value is None else _STAGE_TO_HUBSPOT[LifecycleStage(value)]


def _stage_in(value: str | None) -> Any:
    return _STAGE_FROM_HUBSPOT.get((value or "").lower(), LifecycleStage.prospect)


@dataclass(frozen=True)
class Transform:
    to_hubspot: Callable[[Any], str | None]
    from_hubspot: Callable[[str | None], Any]


TRANSFORMS: dict[str, Transform] = {
    "text": Transform(_text_out, _text_in),
    "lower": Transform(lambda v: None if v in (None, "") else str(v).strip().lower(),
                       lambda v: None if v in (None, "") else v.strip().lower()),
    "int": Transform(lambda v: None if v is None else str(int(v)), _int_in),
    "lifecycle": Transform(_stage_out, _stage_in),
}

MODELS: dict[ObjectType, type[Contact] | type[Company]] = {ObjectType.contact: Contact,
                                                           ObjectType.company: Company}
HUBSPOT_TYPE = {ObjectType.contact: "contacts", ObjectType.company: "companies"}
# The property that identifies a new record on both sides before it has a link.
KEY_FIELD = {ObjectType.contact: FieldMap(ours="email", theirs="email", transform="lower"),
             ObjectType.company: FieldMap(ours="domain", theirs="domain", transform="lower")}
SYNCABLE_FIELDS = {
    ObjectType.contact: ("email", "first_name", "last_name", "title", "phone", "linkedin_url", "country",
                         "timezone", "language", "industry", "company_size", "lifecycle_stage", "notes"),
    ObjectType.company: ("domain", "name", "industry", "size", "employee_count", "revenue", "website"),
}
DEFAULT_MAPPING: dict[ObjectType, list[FieldMap]] = {
    ObjectType.contact: [
        KEY_FIELD[ObjectType.contact],
        FieldMap(ours="first_name", theirs="firstname"), FieldMap(ours="last_name", theirs="lastname"),
        FieldMap(ours="title", theirs="jobtitle"), FieldMap(ours="phone", theirs="phone"),
        FieldMap(ours="country", theirs="country"),
        FieldMap(ours="lifecycle_stage", theirs="lifecyclestage", transform="lifecycle"),
    ],
    ObjectType.company: [
        KEY_FIELD[ObjectType.company],
        FieldMap(ours="name", theirs="name"), FieldMap(ours="industry", theirs="industry"),
        FieldMap(ours="website", theirs="website"),
        FieldMap(ours="employee_count", theirs="numberofemployees", transform="int"),
        FieldMap(ours="revenue", theirs="annualrevenue", transform="int"),
    ],
}


def load_local(session: Session, object_type: ObjectType, local_id: int) -> Contact | Company | None:
    if object_type is ObjectType.contact:
        return session.get(Contact, local_id)
    return session.get(Company, local_id)


def value_hash(value: str | None) -> str:
    """Short fingerprint of a property value as HubSpot holds it (what both sides last agreed on)."""
    return hashlib.sha256((value or "").encode("utf-8")).hexdigest()[:16]


def outgoing(field: FieldMap, obj: object) -> str | None:
    return TRANSFORMS[field.transform].to_hubspot(getattr(obj, field.ours))


def incoming(field: FieldMap, value: str | None, current: Any) -> Any:
    """Our value for a HubSpot value; keeps ours when it already maps to the same HubSpot value (lossy maps)."""
    transform = TRANSFORMS[field.transform]
    if current is not None and transform.to_hubspot(current) == (value or None):
        return current
    return transform.from_hubspot(value)


def problems_in(object_type: ObjectType, mapping: list[FieldMap]) -> list[str]:
    """Why a mapping cannot be saved (empty when it can)."""
    problems = []
    allowed = SYNCABLE_FIELDS[object_type]
    seen: set[str] = set()
    for field in mapping:
        if field.ours not in allowed:
            problems.append(f"{field.ours}: not a syncable {object_type.value} field")
        if field.transform not in TRANSFORMS:
            problems.append(f"{field.ours}: unknown transform {field.transform!r}")
        if not field.theirs.strip():
            problems.append(f"{field.ours}: HubSpot property is empty")
        if field.theirs in seen:
            problems.append(f"{field.theirs}: mapped twice")
        seen.add(field.theirs)
    if KEY_FIELD[object_type].theirs not in seen:
        problems.append(f"{KEY_FIELD[object_type].theirs} must stay mapped: new records are matched on it once")
    return problems
