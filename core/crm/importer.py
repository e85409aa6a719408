"""Contact import from CSV exports: bulk reads and writes, bad rows reported with their physical line."""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import IMPORT, require
from core.crm.companies import _name_from_domain
from core.crm.emails import company_domain_for, is_valid_email, normalize_domain
from core.crm.import_mapping import FIELDS, check_mapping, detect_mapping, parse_stage
from core.crm.models import Company, Contact, LawfulBasis, LifecycleStage
from core.crm.service import ENRICHMENT_WEIGHTS
from core.db import utcnow
from core.errors import ValidationFailed
from core.uow import UnitOfWork

__all__ = ["FIELDS", "ImportOptions", "ImportReport", "RowError", "detect_mapping", "enrichment_score_of",
           "import_contacts", "read_csv_headers"]

CHUNK_ROWS = 5_000  # rows per existing-email lookup and per bulk write
PROGRESS_EVERY = 1_000
MAX_RECORD_LINES = 50  # a quoted value running longer than this is an unclosed quote, not a long note

# Contact columns an import may write; company_name/company_domain feed the company instead.
_CONTACT_FIELDS = ("first_name", "last_name", "title", "phone", "linkedin_url", "timezone", "language",
                   "country", "lifecycle_stage", "industry", "company_size", "technologies", "notes")
_INSERT_COLUMNS = ("email", *_CONTACT_FIELDS, "company_id", "owner_id", "created_by_id", "lawful_basis",
                   "data_source", "enrichment_score", "created_at", "updated_at")
_MAX_LENGTH: dict[str, int] = {
    name: length for name in _CONTACT_FIELDS
    if name != "lifecycle_stage" and (length := getattr(Contact.__table__.c[name].type, "length", None))
} | {"company_name": 300}


@dataclass
class ImportOptions:
    on_duplicate: Literal["update", "skip"] = "update"
    mapping: Mapping[str, str | None] | None = None  # None: detect_mapping(headers)
    encoding: str | None = None  # None: UTF-8 (BOM or not), or UTF-16 when the file starts with its BOM
    source: str = "csv import"


@dataclass
class RowError:
    line: int
    reason: str
    email: str | None = None


@dataclass
class ImportReport:
    rows: int
    created: int
    updated: int
    skipped: int
    failed: int
    companies_created: int
    errors: list[RowError] = field(default_factory=list)
    mapping: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def enrichment_score_of(row: Mapping[str, Any], company: tuple[str | None, str | None] | None = None) -> int:
    """calculate_enrichment_score for a plain row; company is the linked company's (industry, size)."""
    industry, size = company or (None, None)
    present = {
        "name": bool(row.get("first_name") and row.get("last_name")),
        "title": bool(row.get("title")),
        "phone": bool(row.get("phone")),
        "linkedin_url": bool(row.get("linkedin_url")),
        "industry": bool(row.get("industry") or industry),
        "company_size": bool(row.get("company_size") or size),
        "technologies": bool(row.get("technologies")),
        "company": row.get("company_id") is not None,
        "timezone": bool(row.get("timezone")),
    }
    return sum(weight for key, weight in ENRICHMENT_WEIGHTS.items() if present[key])


# Reading the file -------------------------------------------------------------------------------------


def _split_lines(text: str) -> list[str]:
    sep = "\n" if "\n" in text or "\r" not in text else "\r"  # classic-Mac files end lines with CR only
    parts = text.split(sep)
    last = parts.pop()
    lines = [part + sep for part in parts]
    if last:
        lines.append(last)
    return lines


def _decode(data: bytes, encoding: str | None) -> tuple[list[str], dict[int, str]]:
    """Physical lines (line ends kept) and {line index: reason} for lines that could not be decoded."""
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ValidationFailed("the file is empty")
    if encoding is None:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        name = encoding or "utf-8"
    else:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise ValidationFailed(f"unknown encoding {encoding!r}") from None
    if name.startswith(("utf-16", "utf-32")):
        try:
            return _split_lines(data.decode(name)), {}
        except UnicodeDecodeError:
            raise ValidationFailed(f"the file is not valid {name}") from None
    if name.startswith("utf-8"):
        data, name = data.removeprefix(codecs.BOM_UTF8), "utf-8"
    bad: dict[int, str] = {}
    try:
        lines = _split_lines(data.decode(name))
    except UnicodeDecodeError:
        # Decode line by line so one bad byte costs one row, not the file.
        hint = "invalid UTF-8" if encoding is None else f"bytes not valid in {encoding}"
        tip = "; try --encoding cp1252" if encoding is None else ""
        lines = []
        sep = b"\n" if b"\n" in data or b"\r" not in data else b"\r"
        raw_lines = data.split(sep)
        last = raw_lines.pop()
        for index, raw in enumerate(raw_lines + ([last] if last else [])):
            raw += sep if index < len(raw_lines) else b""
            try:
                lines.append(raw.decode(name))
            except UnicodeDecodeError:
                lines.append(raw.decode(name, errors="replace"))
                bad[index] = f"{hint} at line {index + 1}{tip}"
    if lines and "\x00" in lines[0]:
        raise ValidationFailed("the header contains NUL bytes: the file looks like UTF-16 without a "
                               "byte-order mark; try --encoding utf-16")
    if any("\x00" in line for line in lines):
        bad.update({i: f"NUL byte at line {i + 1}" for i, line in enumerate(lines) if "\x00" in line})
    return lines, bad


class _LineFeed:
    """The line iterator under csv.reader, rewindable so a broken record can be re-read from its next line."""

    __slots__ = ("lines", "pos", "stop")

    def __init__(self, lines: list[str]) -> None:
        self.lines, self.pos, self.stop = lines, 0, len(lines)

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        pos = self.pos
        if pos >= self.stop:
            raise StopIteration
        self.pos = pos + 1
        return self.lines[pos]


def _broken(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "broken quoting: a quoted value is never closed"
    if "expected after" in text:
        return "broken quoting: text after a closing quote"
    return f"unreadable row ({text})"


_Record = tuple[int, int, list[str] | str]


def _records(lines: list[str], bad: dict[int, str], columns: int) -> Iterator[_Record]:
    """(first physical line, lines consumed, fields or the reason the record is unusable)."""
    feed = _LineFeed(lines)
    feed.pos = 1  # the header was read by _header
    reader = csv.reader(feed, strict=True)
    total = len(lines)
    while feed.pos < total:
        start = feed.pos
        feed.stop = min(total, start + MAX_RECORD_LINES)
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            feed.pos = start + 1  # the record broke: resume on the physical line after its start
            yield start + 1, 1, _broken(exc)
            continue
        span = feed.pos - start
        if bad and any(i in bad for i in range(start, feed.pos)):
            yield start + 1, span, next(bad[i] for i in range(start, feed.pos) if i in bad)
        elif len(fields) == columns:
            yield start + 1, span, fields
        elif not fields:
            continue  # a blank line is no row
        elif span > 1:
            feed.pos = start + 1
            yield start + 1, 1, "broken quoting: a quoted value runs over the following lines"
        else:
            yield start + 1, span, f"expected {columns} columns, found {len(fields)}"


def _header(lines: list[str]) -> list[str]:
    try:
        header = next(csv.reader(lines[:1], strict=True), [])
    except csv.Error as exc:
        raise ValidationFailed(f"the header line cannot be read ({exc})") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise ValidationFailed("the first line holds no column names")
    return header


def read_csv_headers(data: bytes, *, encoding: str | None = None) -> list[str]:
    """Column names of a CSV file, for showing and adjusting the mapping before the import."""
    first = data[: 64 * 1024]
    cut = max(first.rfind(b"\n"), first.rfind(b"\r"))
    if len(data) > len(first) and cut > 0:
        first = first[: cut + 1]  # never split a multi-byte UTF-8 character
    try:
        return _header(_decode(first, encoding)[0])
    except ValidationFailed:
        return _header(_decode(data, encoding)[0])  # UTF-16 cannot be cut at a newline byte


# Turning a record into a row -------------------------------------------------------------------------


_SEPARATORS = re.compile(r"[;,]")


class _RowParser:
    def __init__(self, mapping: Mapping[str, str | None], headers: Sequence[str]) -> None:
        self.columns = [(i, f) for i, h in enumerate(headers) if (f := mapping.get(h)) is not None]
        self.domains: dict[str, str | None] = {}

    def _domain(self, raw: str) -> str | None:
        if raw not in self.domains:
            try:
                domain: str | None = normalize_domain(raw)
            except ValidationFailed:
                domain = None  # an unusable website falls back to the email's domain
            self.domains[raw] = domain if domain is None or len(domain) <= 253 else None
        return self.domains[raw]

    def parse(self, cells: list[str]) -> tuple[str, dict[str, Any]] | tuple[str | None, str] | None:
        """(email, values); (raw email or None, reason) for a bad row; None for an empty one."""
        values: dict[str, Any] = {}
        for index, name in self.columns:
            value = cells[index]
            if value and name not in values:
                value = value.strip()
                if value:
                    values[name] = value
        raw = values.pop("email", None)
        if raw is None:
            return None if not any(c.strip() for c in cells) else (None, "missing email")
        email = raw.lower()
        if not is_valid_email(email):
            return raw, f"invalid email {raw[:80]!r}"
        full = values.pop("full_name", None)
        if full is not None and ("first_name" not in values or "last_name" not in values):
            last, comma, first = full.partition(",")
            first, last = (first.strip(), last.strip()) if comma else [*full.split(None, 1), ""][:2]
            if first:
                values.setdefault("first_name", first)
            if last:
                values.setdefault("last_name", last)
        for name, value in values.items():
            limit = _MAX_LENGTH.get(name)
            if limit is not None and len(value) > limit:
                return raw, f"{name} is longer than {limit} characters"
        if "lifecycle_stage" in values:
            stage = parse_stage(values["lifecycle_stage"])
            if stage is None:
                return raw, f"invalid lifecycle stage {values['lifecycle_stage'][:40]!r}"
            values["lifecycle_stage"] = stage.value
        if "technologies" in values:
            techs = (t.strip() for t in _SEPARATORS.split(values["technologies"]))
            values["technologies"] = list(dict.fromkeys(t for t in techs if t))
        if "company_domain" in values:
            domain = self._domain(values.pop("company_domain"))
            if domain is not None:
                values["company_domain"] = domain
        return email, values


# Writing a chunk -----------------------------------------------------------------------------------


_Existing = dict[str, dict[str, Any]]


class _Writer:
    def __init__(self, session: Session, actor: Actor, options: ImportOptions, report: ImportReport) -> None:
        self.session, self.actor, self.options, self.report = session, actor, options, report
        self.now = utcnow()
        self.companies: dict[str, tuple[int, str | None, str | None]] = {}  # domain -> (id, industry, size)
        dialect = session.get_bind().dialect
        self.postgres = dialect.name == "postgresql"
        # Values as the driver wants them, prepared once instead of per row by the column types.
        process = Contact.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        self.stamp: Any = self.now if process is None else process(self.now)
        self.prospect, self.not_recorded = LifecycleStage.prospect.value, LawfulBasis.not_recorded.value

    def write(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        merged: dict[str, dict[str, Any]] = {}
        seen: dict[str, int] = {}
        for email, values in rows:
            seen[email] = seen.get(email, 0) + 1
            if email not in merged:
                merged[email] = values
            elif self.options.on_duplicate == "update":
                merged[email].update(values)  # the later row wins, but empty cells were never in values
        existing = self._existing(list(merged))
        report, update_mode = self.report, self.options.on_duplicate == "update"
        for email, count in seen.items():
            repeats = count if email in existing else count - 1
            report.created += 0 if email in existing else 1
            if update_mode:
                report.updated += repeats
            else:
                report.skipped += repeats
        wanted: dict[str, dict[str, Any]] = {}  # domain -> the row that names the company
        for email, values in merged.items():
            old = existing.get(email)
            keeps_company = old is not None and "company_domain" not in values and old["company_id"]
            if old is not None and (not update_mode or keeps_company):
                continue
            domain = values.get("company_domain") or company_domain_for(email)
            if domain is not None and len(domain) <= 253:
                wanted.setdefault(domain, values)
        self._resolve_companies(wanted)
        new = [self._new_row(e, v) for e, v in merged.items() if e not in existing]
        if new:
            self._insert_contacts(new)
        if existing and update_mode:
            changed = [self._changed_row(existing[e], v) for e, v in merged.items() if e in existing]
            self.session.execute(update(Contact), changed)

    def _existing(self, emails: list[str]) -> _Existing:
        if self.options.on_duplicate == "skip":
            found = self.session.scalars(select(Contact.email).where(Contact.email.in_(emails)))
            return {email: {} for email in found}
        columns = [Contact.id, Contact.email, Contact.company_id,
                   *(Contact.__table__.c[name] for name in _CONTACT_FIELDS),
                   Company.industry.label("company_industry"), Company.size.label("company_size_")]
        query = select(*columns).outerjoin(Company, Company.id == Contact.company_id)
        return {row.email: dict(row._mapping) for row in self.session.execute(
            query.where(Contact.email.in_(emails)))}

    def _resolve_companies(self, wanted: dict[str, dict[str, Any]]) -> None:
        missing = [d for d in wanted if d not in self.companies]
        if not missing:
            return
        query = select(Company.id, Company.domain, Company.industry, Company.size)
        for row in self.session.execute(query.where(Company.domain.in_(missing))):
            self.companies[row.domain] = (row.id, row.industry, row.size)
        rows = [{
            "domain": domain, "name": wanted[domain].get("company_name") or _name_from_domain(domain),
            "industry": wanted[domain].get("industry"), "size": wanted[domain].get("company_size"),
            "score": 0, "created_by_id": self.actor.user_id, "created_at": self.now, "updated_at": self.now,
        } for domain in missing if domain not in self.companies]
        if rows:
            created = self.session.execute(insert(Company).returning(Company.id, Company.domain), rows)
            for company_id, domain in created:
                source = wanted[domain]
                self.companies[domain] = (company_id, source.get("industry"), source.get("company_size"))
            self.report.companies_created += len(rows)

    def _company_for(self, email: str, values: dict[str, Any]) -> tuple[int, str | None, str | None] | None:
        domain = values.get("company_domain") or company_domain_for(email)
        return None if domain is None else self.companies.get(domain)

    def _new_row(self, email: str, values: dict[str, Any]) -> tuple[Any, ...]:
        company = self._company_for(email, values)
        get = values.get
        score = enrichment_score_of(values, None if company is None else company[1:])
        if company is not None:
            score += ENRICHMENT_WEIGHTS["company"]  # values has no company_id; the link counts too
        # In _INSERT_COLUMNS order.
        return (
            email, get("first_name"), get("last_name"), get("title"), get("phone"), get("linkedin_url"),
            get("timezone"), get("language"), get("country"), get("lifecycle_stage") or self.prospect,
            get("industry"), get("company_size"), json.dumps(get("technologies") or []), get("notes"),
            None if company is None else company[0], self.actor.user_id, self.actor.user_id,
            self.not_recorded, self.options.source, score, self.stamp, self.stamp,
        )

    def _changed_row(self, old: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        row = {name: old[name] for name in _CONTACT_FIELDS}
        row.update((k, v) for k, v in values.items() if k in row)
        company: tuple[Any, ...] | None = (old["company_id"], old["company_industry"], old["company_size_"])
        if "company_domain" in values or old["company_id"] is None:
            company = self._company_for(old["email"], values)
        row["company_id"] = None if company is None else company[0]
        row.update(id=old["id"], updated_at=self.now, enrichment_score=enrichment_score_of(
            row, None if company is None else company[1:]))
        return row

    def _insert_contacts(self, rows: list[tuple[Any, ...]]) -> None:
        # Plain executemany / COPY of ready values: the ORM's per-row bookkeeping would triple the import time.
        names = ", ".join(_INSERT_COLUMNS)
        if not self.postgres:
            marks = ", ".join("?" * len(_INSERT_COLUMNS))
            self.session.connection().exec_driver_sql(f"INSERT INTO contacts ({names}) VALUES ({marks})", rows)
            return
        # COPY is several times faster than multi-row INSERT on PostgreSQL, in the same transaction.
        driver: Any = self.session.connection().connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY contacts ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


# The use case ----------------------------------------------------------------------------------------


def import_contacts(
    uow: UnitOfWork,
    *,
    actor: Actor,
    data: bytes,
    options: ImportOptions = ImportOptions(),
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a CSV export; bad rows are reported and skipped, the rest go in as one transaction."""
    require(actor, "contacts", IMPORT)
    if options.on_duplicate not in ("update", "skip"):
        raise ValidationFailed("on_duplicate must be 'update' or 'skip'")
    lines, bad = _decode(data, options.encoding)
    headers = _header(lines)
    mapping = check_mapping(detect_mapping(headers) if options.mapping is None else options.mapping, headers)
    report = ImportReport(rows=0, created=0, updated=0, skipped=0, failed=0, companies_created=0,
                          mapping=mapping)
    parser, total = _RowParser(mapping, headers), len(lines) - 1
    if total < 1:
        raise ValidationFailed("the file has a header line but no rows")
    with uow:
        writer = _Writer(uow.session, actor, options, report)
        pending: list[tuple[str, dict[str, Any]]] = []
        next_report = PROGRESS_EVERY
        for line, span, record in _records(lines, bad, len(headers)):
            parsed = (None, record) if isinstance(record, str) else parser.parse(record)
            if parsed is not None:
                report.rows += 1
                email, outcome = parsed
                if isinstance(outcome, str):
                    report.failed += 1
                    report.errors.append(RowError(line=line, reason=outcome, email=email))
                else:
                    assert email is not None
                    pending.append((email, outcome))
                    if len(pending) >= CHUNK_ROWS:
                        writer.write(pending)
                        pending = []
            if on_progress is not None and line + span - 2 >= next_report:
                next_report += PROGRESS_EVERY
                on_progress(min(line + span - 2, total), total)
        if pending:
            writer.write(pending)
        # One audit row for the whole import: 100,000 per-contact rows would double its cost and bury the log.
        audit.record(uow.session, actor, "import", "contact", None, {
            "rows": report.rows, "created": report.created, "updated": report.updated,
            "skipped": report.skipped, "failed": report.failed, "companies_created": report.companies_created,
            "source": options.source, "on_duplicate": options.on_duplicate,
        })
        uow.commit()
    if on_progress is not None:
        on_progress(total, total)
    return report
