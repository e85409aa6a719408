"""Which CSV column feeds which Contact field: aliases from common CRM and prospecting-tool exports."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from core.crm.models import LifecycleStage
from core.errors import ValidationFailed

FIELDS: tuple[str, ...] = (
    "email", "first_name", "last_name", "full_name", "title", "phone", "linkedin_url", "timezone",
    "language", "country", "lifecycle_stage", "industry", "company_size", "technologies", "company_name",
    "company_domain", "notes",
)

# Aliases per field, best first: when several columns could feed one field, the earliest alias wins.
# HubSpot, Apollo, LinkedIn Sales Navigator (and its scrapers) and Outlook contact exports.
_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "email address", "e-mail address", "e-mail", "work email", "business email",
              "primary email", "email 1", "mail"),
    "first_name": ("first name", "firstname", "given name", "first"),
    "last_name": ("last name", "lastname", "surname", "family name", "last"),
    "full_name": ("full name", "name", "contact name", "person name", "contact"),
    # Outlook's "Title" is the honorific (Mr., Dr.); Apollo's is the job title, so it ranks last.
    "title": ("job title", "jobtitle", "position", "current title", "current position", "role", "title"),
    "phone": ("phone", "phone number", "work direct phone", "direct phone", "business phone", "work phone",
              "first phone", "mobile phone", "mobile", "mobile phone number", "telephone",
              "corporate phone"),
    "linkedin_url": ("linkedin url", "person linkedin url", "linkedin profile url", "linkedin profile",
                     "linkedin", "public profile url", "profile url"),
    "timezone": ("time zone", "timezone", "tz"),
    "language": ("language", "preferred language"),
    "country": ("country", "country/region", "business country/region", "person country",
                "company country"),
    "lifecycle_stage": ("lifecycle stage", "lifecyclestage", "lifecycle"),
    "industry": ("industry", "company industry"),
    "company_size": ("company size", "# employees", "number of employees", "employees", "employee count",
                     "headcount", "company headcount", "employee range", "size"),
    "technologies": ("technologies", "technology", "tech stack", "technographics"),
    "company_name": ("company name for emails", "company name", "company", "account name", "organization",
                     "organisation", "employer", "current company"),
    "company_domain": ("company domain", "domain", "website", "company website", "website url",
                       "company website url", "web page", "webpage"),
    "notes": ("notes", "note", "comments"),
}


def _key(text: str) -> str:
    # "E-mail Address", "email_address" and "EmailAddress" are the same column; "#" keeps its meaning.
    return re.sub(r"[^0-9a-z#]+", "", text.strip().lstrip("\ufeff").lower())


_RANK: dict[str, tuple[str, int]] = {}
for _field, _names in _ALIASES.items():
    for _rank, _name in enumerate(_names):
        _RANK.setdefault(_key(_name), (_field, _rank))

# HubSpot's lifecycle stages (labels and internal values) folded onto ours.
_STAGES: dict[str, LifecycleStage] = {
    **{stage.value: stage for stage in LifecycleStage},
    "lead": LifecycleStage.prospect, "subscriber": LifecycleStage.prospect, "new": LifecycleStage.prospect,
    "marketingqualifiedlead": LifecycleStage.prospect, "mql": LifecycleStage.prospect,
    "salesqualifiedlead": LifecycleStage.engaged, "sql": LifecycleStage.engaged,
    "evangelist": LifecycleStage.customer,
}


def parse_stage(raw: str) -> LifecycleStage | None:
    """Our stage for a CSV value ("Sales Qualified Lead" -> engaged), or None when unknown."""
    return _STAGES.get(re.sub(r"[^a-z]+", "", raw.lower()))


def detect_mapping(headers: Sequence[str]) -> dict[str, str | None]:
    """CSV header -> Contact field, or None for columns to ignore; each field is fed by one column."""
    best: dict[str, tuple[int, int]] = {}  # field -> (alias rank, column index)
    for index, header in enumerate(headers):
        hit = _RANK.get(_key(header))
        if hit is not None:
            field, rank = hit
            if field not in best or rank < best[field][0]:
                best[field] = (rank, index)
    chosen = {index: field for field, (_rank, index) in best.items()}
    mapping: dict[str, str | None] = {}
    for index, header in enumerate(headers):
        # A repeated header name keeps the first column's answer.
        if header not in mapping or mapping[header] is None:
            mapping[header] = chosen.get(index)
    return mapping


def check_mapping(mapping: Mapping[str, str | None], headers: Sequence[str]) -> dict[str, str | None]:
    """A user-adjusted mapping, validated: known fields only, an email column required."""
    unknown_fields = sorted({f for f in mapping.values() if f is not None and f not in FIELDS})
    if unknown_fields:
        raise ValidationFailed(f"unknown field(s) {', '.join(unknown_fields)}; "
                               f"choose from {', '.join(FIELDS)}")
    missing = [h for h in mapping if h not in headers]
    if missing:
        raise ValidationFailed(f"column(s) not in the file: {', '.join(repr(h) for h in missing)}")
    checked = {header: mapping.get(header) for header in headers}
    if "email" not in checked.values():
        raise ValidationFailed(
            "no column is mapped to email, so contacts cannot be matched; "
            f"columns found: {', '.join(repr(h) for h in headers)}"
        )
    return checked
