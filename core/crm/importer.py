"""Contact import from CSV exports: bulk reads and writes, bad rows reported with their physical line."""

from __future__ import annotations

import csv
import gc
import io
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, Literal, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import IMPORT, require
from core.crm.companies import company_name_from_domain
from core.crm.enrichment import ENRICHMENT_WEIGHTS
from core.crm.import_mapping import (
    CONTACT_COLUMNS,
    FIELDS,
    SLOT,
    Columns,
    RowMapper,
    check_mapping,
    decode_lines,
    detect_mapping,
    read_header,
    record_chunks,
)
from core.crm.models import Company, Contact, LawfulBasis, LifecycleStage
from core.db import utcnow
from core.errors import Conflict, ValidationFailed
from core.uow import UnitOfWork

__all__ = ["FIELDS", "ImportOptions", "ImportReport", "RowError", "detect_mapping", "enrichment_score_of",
           "import_contacts", "read_csv_headers"]

CHUNK_ROWS = 5_000  # rows per existing-email lookup and per bulk write
PROGRESS_EVERY = 1_000  # records read and mapped between two progress reports


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


def read_csv_headers(data: bytes, *, encoding: str | None = None) -> list[str]:
    """Column names of a CSV file, for showing and adjusting the mapping before the import."""
    first = data[: 64 * 1024]
    cut = max(first.rfind(b"\n"), first.rfind(b"\r"))
    if len(data) > len(first) and cut > 0:
        first = first[: cut + 1]  # never split a multi-byte UTF-8 character
    try:
        return read_header(decode_lines(first, encoding)[0])
    except ValidationFailed:
        return read_header(decode_lines(data, encoding)[0])  # UTF-16 cannot be cut at a newline byte


_W = ENRICHMENT_WEIGHTS
(_E, _FIRST, _LAST, _TITLE, _PHONE, _LINKEDIN, _TZ, _STAGE, _INDUSTRY, _SIZE, _TECH, _NAME, _DOMAIN,
 _COMPANY) = (SLOT[f] for f in (
    "email", "first_name", "last_name", "title", "phone", "linkedin_url", "timezone", "lifecycle_stage",
    "industry", "company_size", "technologies", "company_name", "company_domain", "company"))
_Company = tuple[int, str | None, str | None]  # id, industry, size


def _score(first: Any, last: Any, title: Any, phone: Any, linkedin: Any, industry: Any, size: Any,
           technologies: Any, timezone: Any, company: _Company | None) -> int:
    # calculate_enrichment_score, spelled out on plain values because it runs for every imported row.
    company_industry, company_size = (None, None) if company is None else company[1:]
    return ((_W["name"] if first and last else 0) + (_W["title"] if title else 0)
            + (_W["phone"] if phone else 0) + (_W["linkedin_url"] if linkedin else 0)
            + (_W["industry"] if industry or company_industry else 0)
            + (_W["company_size"] if size or company_size else 0)
            + (_W["technologies"] if technologies else 0)
            + (_W["company"] if company is not None else 0) + (_W["timezone"] if timezone else 0))


def enrichment_score_of(values: Mapping[str, Any], company: _Company | None = None) -> int:
    """calculate_enrichment_score for plain values; company is the linked (id, industry, size) or None."""
    get = values.get
    return _score(get("first_name"), get("last_name"), get("title"), get("phone"), get("linkedin_url"),
                  get("industry"), get("company_size"), get("technologies"), get("timezone"), company)


# Writing a chunk -----------------------------------------------------------------------------------


class _Background:
    """One worker thread running the database calls handed to it, one at a time, while the caller goes on.

    The caller hands over a call only after settle(), and touches the session again only after settle():
    the session is never used by two threads at once. The driver releases the GIL while the server works.
    """

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._idle = threading.Event()
        self._idle.set()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="contact-import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (call := self._calls.get()) is not None:
            try:
                call()
            except BaseException as exc:  # raised again in the caller by settle()
                self._error = exc
            finally:
                self._idle.set()

    def submit(self, call: Callable[[], object]) -> None:
        self.settle()
        self._idle.clear()
        self._calls.put(call)

    def settle(self) -> None:
        """Wait for the call in progress; its exception is raised here, as it was raised there."""
        self._idle.wait()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        """Let the thread finish its call and end; a Ctrl-C while waiting is raised once it has."""
        self._calls.put(None)
        interrupted: KeyboardInterrupt | None = None
        while self._thread.is_alive():
            try:
                self._thread.join()
            except KeyboardInterrupt as exc:
                interrupted = exc
        if interrupted is not None:
            raise interrupted


class _Writer:
    """Writes CHUNK_ROWS rows at a time: one lookup of existing emails and companies, then bulk statements.

    On PostgreSQL the last statement of a chunk, the INSERT into contacts, runs in a _Background thread while
    the caller reads and maps the next chunk; every other use of the session waits for it first.
    """

    def __init__(self, session: Session, actor: Actor, options: ImportOptions, report: ImportReport) -> None:
        self._session, self.actor, self.options, self.report = session, actor, options, report
        self.update_mode = options.on_duplicate == "update"
        self.companies: dict[str, _Company] = {}  # by domain
        self.now = utcnow()
        dialect = session.get_bind().dialect
        self.postgres = dialect.name == "postgresql"
        # Timestamps as the driver wants them, prepared once instead of per row by the column type.
        process = Contact.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
        self.stamp: Any = self.now if process is None else process(self.now)
        # An empty table at the start needs no lookups, except for emails this import already wrote.
        self.had_contacts = session.scalar(select(Contact.id).limit(1)) is not None
        self.written: set[str] = set()
        self.staged = False  # PostgreSQL: the temporary table for COPY exists
        self.buffer: Columns = [[] for _ in SLOT]
        self.background = _Background() if self.postgres else None

    @property
    def session(self) -> Session:
        """The session, once the statement running in the background (if any) is done."""
        if self.background is not None:
            self.background.settle()
        return self._session

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.background is not None:
            self.background.close()

    def add(self, cols: Columns) -> None:
        """Buffer a chunk of rows; the database sees CHUNK_ROWS at a time."""
        for buffered, values in zip(self.buffer, cols, strict=True):
            buffered.extend(values)
        if len(self.buffer[_E]) >= CHUNK_ROWS:
            self._write_buffer()

    def flush(self) -> None:
        """Write what is buffered and wait until it is written."""
        self._write_buffer()
        if self.background is not None:
            self.background.settle()

    def _write_buffer(self) -> None:
        cols, self.buffer = self.buffer, [[] for _ in SLOT]
        if cols[_E]:
            self._write(cols)

    def _write(self, cols: Columns) -> None:
        emails, rows = cols[_E], len(cols[_E])
        if self.had_contacts:
            existing = self._existing(emails)
        else:
            existing = {} if self.written.isdisjoint(emails) else self._existing(
                [e for e in emails if e in self.written])
        self.written.update(emails)
        changed: dict[str, list[Any]] = {}
        if existing or len(set(emails)) < rows:
            cols, changed = self._merge(cols, existing)
        created = len(cols[_E])
        self.report.created += created
        if self.update_mode:
            self.report.updated += rows - created
        else:
            self.report.skipped += rows - created
        self._resolve_companies(cols, changed, existing)
        if created:
            self._insert_contacts(cols)
        if changed:
            updates = [self._changed_row(existing[email], row) for email, row in changed.items()]
            self.session.execute(update(Contact), updates)  # ORM bulk UPDATE by primary key

    def _merge(self, cols: Columns, existing: dict[str, Any]) -> tuple[Columns, dict[str, list[Any]]]:
        """Duplicates folded: (columns of the new contacts, {email: row} of existing ones to update)."""
        merged: dict[str, list[Any]] = {}
        for row in zip(*cols, strict=True):
            before = merged.get(row[_E])
            if before is None:
                merged[row[_E]] = list(row)
            elif self.update_mode:  # the later row wins; its empty cells keep the earlier values
                merged[row[_E]] = [new or old for old, new in zip(before, row, strict=True)]
        new = [row for email, row in merged.items() if email not in existing]
        new_cols = [list(c) for c in zip(*new, strict=True)] if new else [[] for _ in SLOT]
        changed = {e: merged[e] for e in existing} if self.update_mode else {}
        return new_cols, changed

    def _existing(self, emails: list[str]) -> dict[str, dict[str, Any]]:
        if not emails:
            return {}
        if not self.update_mode:
            found_emails = self.session.scalars(select(Contact.email).where(Contact.email.in_(emails)))
            return {email: {} for email in found_emails}
        columns = [Contact.id, Contact.email, Contact.company_id,
                   *(Contact.__table__.c[name] for name in CONTACT_COLUMNS),
                   Company.industry.label("company_industry"), Company.size.label("company_size_")]
        query = select(*columns).outerjoin(Company, Company.id == Contact.company_id)
        found = self.session.execute(query.where(Contact.email.in_(emails)))
        return {row.email: dict(row._mapping) for row in found}

    def _resolve_companies(self, cols: Columns, changed: dict[str, list[Any]],
                           existing: dict[str, dict[str, Any]]) -> None:
        """Find or create (in bulk) the companies of new rows, and of updated ones that name or lack one."""
        known = self.companies
        wanted: dict[str, tuple[str, str, str]] = {}  # domain -> (name, industry, size) from its first row
        if set(cols[_COMPANY]).difference(known, [""]):
            for domain, name, industry, size in zip(cols[_COMPANY], cols[_NAME], cols[_INDUSTRY], cols[_SIZE],
                                                    strict=True):
                if domain and domain not in known and domain not in wanted:
                    wanted[domain] = (name, industry, size)
        for email, row in changed.items():
            names_one = row[_DOMAIN] or not existing[email]["company_id"]  # else its company stays
            if row[_COMPANY] and row[_COMPANY] not in known and names_one:
                wanted.setdefault(row[_COMPANY], (row[_NAME], row[_INDUSTRY], row[_SIZE]))
        if not wanted:
            return
        query = select(Company.id, Company.domain, Company.industry, Company.size)
        for found in self.session.execute(query.where(Company.domain.in_(list(wanted)))):
            known[found.domain] = (found.id, found.industry, found.size)
        rows = [{"domain": domain, "name": name or company_name_from_domain(domain), "industry": industry or None,
                 "size": size or None, "score": 0, "created_by_id": self.actor.user_id,
                 "created_at": self.now, "updated_at": self.now}
                for domain, (name, industry, size) in wanted.items() if domain not in known]
        if rows:
            table = cast(Table, Company.__table__)
            created = self.session.execute(insert(table).returning(table.c.id, table.c.domain), rows)
            for company_id, domain in created:
                known[domain] = (company_id, wanted[domain][1] or None, wanted[domain][2] or None)
            self.report.companies_created += len(rows)

    def _changed_row(self, old: dict[str, Any], row: list[Any]) -> dict[str, Any]:
        values = {name: row[SLOT[name]] or old[name] for name in CONTACT_COLUMNS}
        values["technologies"] = json.loads(row[_TECH]) if row[_TECH] else (old["technologies"] or [])
        company: _Company | None = None
        if old["company_id"] is not None:
            company = (old["company_id"], old["company_industry"], old["company_size_"])
        if row[_DOMAIN] or company is None:  # a company column overrides; the email's domain only fills
            company = self.companies.get(row[_COMPANY])
        values.update(id=old["id"], company_id=None if company is None else company[0], updated_at=self.now,
                      enrichment_score=enrichment_score_of(values, company))
        return values

    def _insert_contacts(self, cols: Columns) -> None:
        companies = list(map(self.companies.get, cols[_COMPANY]))
        scored = (_FIRST, _LAST, _TITLE, _PHONE, _LINKEDIN, _INDUSTRY, _SIZE, _TECH, _TZ)
        scores = list(map(_score, *(cols[slot] for slot in scored), companies))
        ids = [c and c[0] for c in companies]
        if not self.postgres:
            names, exprs, params = self._insert_plan(cols, ids, scores, lambda _index, _cast: "?")
            rows = list(zip(*params, strict=False))  # data_source repeats endlessly
            rows.sort()  # by email: neighbouring index pages stay cached, a quarter off the insert time
            self.session.connection().exec_driver_sql(f"INSERT INTO contacts ({names}) VALUES ({exprs})", rows)
            return
        # COPY into a temporary table, then one INSERT ... SELECT: several times faster than INSERT batches.
        names, exprs, params = self._insert_plan(
            cols, ids, scores, lambda index, cast: f"c{index}::{cast}" if cast else f"c{index}")
        staged_names = ", ".join(f"c{i}" for i in range(len(params)))
        # In email order (code point order: what COLLATE "C" compares), so the unique index is filled page by page.
        rows = sorted(zip(*params, strict=False), key=itemgetter(0))
        text = io.StringIO()  # csv.writer formats in C, many times faster than copy.write_row()
        csv.writer(text, lineterminator="\n").writerows(rows)
        connection = self.session.connection()  # waits for the previous chunk's INSERT
        if not self.staged:
            staged = ", ".join(f"c{i} text" for i in range(len(CONTACT_COLUMNS) + 4))
            connection.exec_driver_sql(f"CREATE TEMPORARY TABLE import_rows ({staged}) ON COMMIT DROP")
            self.staged = True
        driver: Any = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(
                f"COPY import_rows ({staged_names}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(text.getvalue())
        # The table was emptied by TRUNCATE, so it is read in the order written. Both statements in one round
        # trip, run by the background thread while this one maps the next chunk.
        statements = f"INSERT INTO contacts ({names}) SELECT {exprs} FROM import_rows; TRUNCATE import_rows"

        def insert() -> None:
            with driver.cursor() as cursor:
                cursor.execute(statements)

        if self.background is None:
            insert()
        else:
            self.background.submit(insert)

    def _insert_plan(self, cols: Columns, ids: list[int | None], scores: list[int],
                     ref: Callable[[int, str], str]) -> tuple[str, str, list[Iterable[Any]]]:
        """INSERT column names, value expressions and the parameter columns they read.

        Only columns holding a value in this chunk are written and constants are SQL literals: SQLite's cost
        grows with every value bound. ref(index, PostgreSQL cast) spells the index-th parameter.
        """
        params: list[Iterable[Any]] = []

        def param(values: Iterable[Any], cast: str = "") -> str:
            params.append(values)
            return ref(len(params) - 1, cast)

        json_cast = "::jsonb" if self.postgres else ""
        defaults = {"lifecycle_stage": f"'{LifecycleStage.prospect.value}'",
                    "technologies": f"'[]'{json_cast}"}
        values = {"email": param(cols[_E])}
        for name in CONTACT_COLUMNS:
            if any(cols[SLOT[name]]):
                text = f"NULLIF({param(cols[SLOT[name]])}, '')"
                values[name] = f"COALESCE({text}, '[]'){json_cast}" if name == "technologies" else (
                    f"COALESCE({text}, {defaults[name]})" if name in defaults else text)
            elif name in defaults:
                values[name] = defaults[name]
        owner = "NULL" if self.actor.user_id is None else str(int(self.actor.user_id))
        stamp = f"'{self.now.isoformat()}'::timestamptz" if self.postgres else f"'{self.stamp}'"
        values.update(
            company_id=param(ids, "integer"), enrichment_score=param(scores, "integer"),
            data_source=param(repeat(self.options.source)), owner_id=owner, created_by_id=owner,
            lawful_basis=f"'{LawfulBasis.not_recorded.value}'", created_at=stamp, updated_at=stamp,
        )
        return ", ".join(values), ", ".join(values.values()), params


# The use case ----------------------------------------------------------------------------------------


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    # An import allocates millions of acyclic lists and tuples; the cycle collector would spend a fifth of
    # the time walking them and find nothing. Reference counting still frees everything as usual.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _concurrent_edits_as_conflict(session: Session) -> Iterator[None]:
    # SQLAlchemy wraps the driver's errors; the raw driver cursor used for COPY raises them unwrapped.
    driver_error: type[Exception] = session.get_bind().dialect.loaded_dbapi.IntegrityError
    try:
        yield
    except (IntegrityError, driver_error):
        # Someone added one of these emails or domains since we looked; the transaction rolls back whole.
        raise Conflict("contacts or companies in this file were added by someone else meanwhile; "
                       "nothing was imported, please run the import again") from None


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
    lines, bad = decode_lines(data, options.encoding)
    headers = read_header(lines)
    mapping = check_mapping(detect_mapping(headers) if options.mapping is None else options.mapping, headers)
    report = ImportReport(rows=0, created=0, updated=0, skipped=0, failed=0, companies_created=0,
                          mapping=mapping)
    mapper, total = RowMapper(mapping, headers), len(lines) - 1
    if total < 1:
        raise ValidationFailed("the file has a header line but no rows")
    with uow, _without_cyclic_gc(), _concurrent_edits_as_conflict(uow.session), \
            _Writer(uow.session, actor, options, report) as writer:
        for chunk, starts, broken, position in record_chunks(lines, bad, len(headers), PROGRESS_EVERY):
            report.errors.extend(RowError(line, reason) for line, reason in broken)
            cols, problems = mapper.columns(chunk)
            report.errors.extend(RowError(starts[i], why, email) for i, why, email in problems if why)
            writer.add(cols)
            if on_progress is not None:
                on_progress(position - 1, total)
        writer.flush()
        report.errors.sort(key=lambda e: e.line)
        report.failed = len(report.errors)
        report.rows = report.created + report.updated + report.skipped + report.failed
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
