"""From CSV bytes to contact values: decoding by physical line, the column aliases of common exports, and
records turned into columns of values. Pure code; importer.py does the database side."""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import compress, islice
from typing import Any, cast

from core.crm.emails import company_domain_for, match_valid_email, normalize_domain
from core.crm.models import Contact, LifecycleStage
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


# Fields fed by every matching column, the leftmost non-empty value winning (Apollo rows often carry only a
# mobile number); every other field takes its best-ranked column alone.
_FALLBACK_FIELDS = frozenset({"phone"})


def detect_mapping(headers: Sequence[str]) -> dict[str, str | None]:
    """CSV header -> Contact field, or None for columns to ignore."""
    best: dict[str, tuple[int, int]] = {}  # field -> (alias rank, column index)
    chosen: dict[int, str] = {}
    for index, header in enumerate(headers):
        hit = _RANK.get(_key(header))
        if hit is not None:
            field, rank = hit
            if field in _FALLBACK_FIELDS:
                chosen[index] = field
            elif field not in best or rank < best[field][0]:
                best[field] = (rank, index)
    chosen.update({index: field for field, (_rank, index) in best.items()})
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


# Reading the file: physical lines, then records ------------------------------------------------------


_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines also splits on these


def _split_lines(text: str) -> list[str]:
    if not any(c in text for c in _OTHER_BREAKS):
        return text.splitlines(keepends=True)  # C speed; ends lines at LF, CRLF or a lone CR (old Macs)
    lines = [line + "\n" for line in text.split("\n")]  # the rarer break characters stay inside a line
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


_BLANK = b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"  # whitespace, NULs and byte-order marks


def decode_lines(data: bytes, encoding: str | None) -> tuple[list[str], dict[int, str]]:
    """Physical lines (line ends kept) and {line index: reason} for lines that could not be decoded."""
    if not data[:4096].strip(_BLANK) and not data.strip(_BLANK):
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
        for index, raw in enumerate(data.splitlines(keepends=True)):
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


def _broken(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "broken quoting: a quoted value is never closed"
    if "expected after" in text:
        return "broken quoting: text after a closing quote"
    return f"unreadable row ({text})"


def _lines_from(lines: list[str], start: int) -> Iterator[str]:
    # A list iterator positioned without copying the list (an exhausted one cannot be rewound: a new one).
    source: Any = iter(lines)
    source.__setstate__(start)
    return cast(Iterator[str], source)


def record_chunks(lines: list[str], bad: dict[int, str], columns: int, size: int) -> Iterator[Chunk]:
    """The records after the header, `size` at a time: (records, the physical line each starts on,
    (line, reason) of the unusable ones, lines read so far)."""
    position, total = 1, len(lines)
    while position < total:
        # Fast path: `size` records of one line each with the right width, read by csv in one C call.
        reader = csv.reader(_lines_from(lines, position), strict=True)
        try:
            chunk = list(islice(reader, size))
        except csv.Error:
            chunk = []
        end = position + reader.line_num
        if (chunk and end - position == len(chunk) and set(map(len, chunk)) == {columns}
                and not any(position <= i < end for i in bad)):
            yield chunk, range(position + 1, end + 1), [], end
            position = end
            continue
        # Careful path, record by record, for a stretch holding a problem.
        chunk, starts, broken = [], [], []
        for line, span, record in records(lines, bad, columns, start=position):
            if isinstance(record, list):
                chunk.append(record)
                starts.append(line)
            else:
                broken.append((line, record))
            position = line - 1 + span
            if len(chunk) + len(broken) >= size:
                break
        else:
            position = total
        yield chunk, starts, broken, position


_Record = tuple[int, int, list[str] | str]
Chunk = tuple[list[list[str]], Sequence[int], list[tuple[int, str]], int]


def records(lines: list[str], bad: dict[int, str], columns: int, start: int = 1) -> Iterator[_Record]:
    """From line index start: (first physical line, lines consumed, fields or why the record is unusable)."""
    base = start  # index of the first line the current reader was given
    reader = csv.reader(_lines_from(lines, base), strict=True)
    while True:
        start = base + reader.line_num
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            fields, reason = [], _broken(exc)
        else:
            end = base + reader.line_num
            if bad and any(i in bad for i in range(start, end)):
                yield start + 1, end - start, next(bad[i] for i in range(start, end) if i in bad)
                continue
            if len(fields) == columns and end - start <= MAX_RECORD_LINES:
                yield start + 1, end - start, fields
                continue
            if not fields:
                continue  # a blank line is no row
            if end - start == 1:
                yield start + 1, 1, f"expected {columns} columns, found {len(fields)}"
                continue
            reason = "broken quoting: a quoted value runs over the following lines"
        yield start + 1, 1, reason
        # The record broke: start again on the physical line after its first one.
        base = start + 1
        reader = csv.reader(_lines_from(lines, base), strict=True)


def read_header(lines: list[str]) -> list[str]:
    try:
        header = next(csv.reader(lines[:1], strict=True), [])
    except csv.Error as exc:
        raise ValidationFailed(f"the header line cannot be read ({exc})") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise ValidationFailed("the first line holds no column names")
    return header


# Contact columns an import may write; company_name/company_domain feed the company instead.
CONTACT_COLUMNS = ("first_name", "last_name", "title", "phone", "linkedin_url", "timezone", "language",
                   "country", "lifecycle_stage", "industry", "company_size", "technologies", "notes")
# A parsed row is a list of values in FIELDS order ("" when empty; technologies as JSON text), then the
# company's domain (from the company_domain column, else the email's unless free mail, else ""):
SLOT = {name: index for index, name in enumerate(FIELDS)} | {"company": len(FIELDS)}
_MAX_LENGTH: dict[str, int] = {
    name: length for name in CONTACT_COLUMNS
    if name != "lifecycle_stage" and (length := getattr(Contact.__table__.c[name].type, "length", None))
} | {"company_name": 300}
_SEPARATORS = re.compile(r"[;,]")
MAX_RECORD_LINES = 50  # a quoted value running longer than this is an unclosed quote, not a long note


Columns = list[list[Any]]  # one list of values per SLOT, all of the same length
Problem = tuple[int, str | None, str | None]  # record index, reason (None: a blank record), raw email


class RowMapper:
    """Turns CSV records into columns of values, a chunk at a time so the per-row work runs in C.

    A row is a value per SLOT: FIELDS in order ("" when empty, technologies as JSON text), then the company's
    domain (the company_domain column, else the email's domain unless free mail, else "").
    """

    def __init__(self, mapping: Mapping[str, str | None], headers: Sequence[str]) -> None:
        sources: dict[str, list[int]] = {name: [] for name in FIELDS}
        for index, header in enumerate(headers):
            name = mapping.get(header)
            if name is not None:
                sources[name].append(index)
        self._sources = {SLOT[name]: found for name, found in sources.items() if found}
        self._domains: dict[str, str] = {"": ""}
        self._techs: dict[str, str] = {"": ""}

    def columns(self, records: list[list[str]]) -> tuple[Columns, list[Problem]]:
        """The usable records as columns, and the problems of the others."""
        count = len(records)
        if not count:
            return [[] for _ in SLOT], []
        cells = list(zip(*records, strict=True))  # the file's columns
        blank = [""] * count  # shared by unmapped slots: replaced, never changed in place
        cols: Columns = [blank] * len(SLOT)
        for slot, found in self._sources.items():
            cols[slot] = list(map(str.strip, cells[found[0]]))
            for index in found[1:]:  # several columns feed one field: the leftmost non-empty wins
                cols[slot] = [v or more.strip() for v, more in zip(cols[slot], cells[index], strict=True)]
        problems: dict[int, tuple[str | None, str | None]] = {}
        raw = cols[_EMAIL]
        cols[_EMAIL] = emails = list(map(str.lower, raw))
        for i, valid in enumerate(map(match_valid_email, emails)):
            if valid is None:
                if raw[i]:
                    problems[i] = (f"invalid email {raw[i][:80]!r}", raw[i])
                else:
                    empty_record = not any(map(str.strip, records[i]))
                    problems[i] = (None, None) if empty_record else ("missing email", None)
        for slot, limit in _LIMITS:
            if cols[slot] is not blank and max(map(len, cols[slot])) > limit:
                for i, value in enumerate(cols[slot]):
                    if len(value) > limit:
                        problems.setdefault(i, (f"{FIELDS[slot]} is longer than {limit} characters", raw[i]))
        if cols[_FULL] is not blank:
            _split_names(cols, problems, raw)
        if cols[_STAGE] is not blank:
            stages = {v: parse_stage(v) for v in set(cols[_STAGE])}
            for i, value in enumerate(cols[_STAGE]):
                if value and stages[value] is None:
                    problems.setdefault(i, (f"invalid lifecycle stage {value[:40]!r}", raw[i]))
            cols[_STAGE] = [v and (stage.value if (stage := stages[v]) else "") for v in cols[_STAGE]]
        if cols[_TECH] is not blank:
            cols[_TECH] = self._lookup(cols[_TECH], self._techs, _technologies)
        if cols[_DOMAIN] is not blank:
            cols[_DOMAIN] = self._lookup(cols[_DOMAIN], self._domains, _domain)
        if problems:
            keep = [i not in problems for i in range(count)]
            kept_blank = [""] * (count - len(problems))
            cols = [kept_blank if c is blank else list(compress(c, keep)) for c in cols]
        if all(cols[_DOMAIN]):  # every row names its company's website
            cols[_COMPANY] = cols[_DOMAIN]
        else:
            cols[_COMPANY] = [d or company_domain_for(e) or ""
                              for d, e in zip(cols[_DOMAIN], cols[_EMAIL], strict=True)]
        if cols[_COMPANY] and max(map(len, cols[_COMPANY])) > 253:
            cols[_COMPANY] = [d if len(d) <= 253 else "" for d in cols[_COMPANY]]
        return cols, [(i, reason, email) for i, (reason, email) in problems.items()]

    @staticmethod
    def _lookup(values: list[str], cache: dict[str, str], convert: Callable[[str], str]) -> list[str]:
        # Exports repeat websites and technology lists: convert each distinct value once.
        for value in set(values).difference(cache):
            cache[value] = convert(value)
        return list(map(cache.__getitem__, values))


def _technologies(raw: str) -> str:
    """The list as JSON text, ready for the database; "" when there is none."""
    names = list(dict.fromkeys(t for t in map(str.strip, _SEPARATORS.split(raw)) if t))
    return json.dumps(names) if names else ""


def _domain(raw: str) -> str:
    try:
        domain = normalize_domain(raw)
    except ValidationFailed:
        return ""  # an unusable website falls back to the email's domain
    return domain if len(domain) <= 253 else ""


_EMAIL, _FULL, _FIRST, _LAST = SLOT["email"], SLOT["full_name"], SLOT["first_name"], SLOT["last_name"]
_STAGE, _TECH, _DOMAIN = SLOT["lifecycle_stage"], SLOT["technologies"], SLOT["company_domain"]
_COMPANY = SLOT["company"]
_LIMITS = [(SLOT[name], limit) for name, limit in _MAX_LENGTH.items()]


def _split_names(cols: Columns, problems: dict[int, tuple[str | None, str | None]], raw: list[str]) -> None:
    """Fill first/last name from a full-name column ("Jane van Dijk" or "van Dijk, Jane")."""
    first_names, last_names = list(cols[_FIRST]), list(cols[_LAST])
    for i, full in enumerate(cols[_FULL]):
        if full and not (first_names[i] and last_names[i]):
            last, comma, first = full.partition(",")
            first, last = (first.strip(), last.strip()) if comma else [*full.split(None, 1), ""][:2]
            first_names[i], last_names[i] = first_names[i] or first, last_names[i] or last
            for name, value in (("first_name", first_names[i]), ("last_name", last_names[i])):
                if len(value) > _MAX_LENGTH[name]:
                    problems.setdefault(i, (f"{name} is longer than {_MAX_LENGTH[name]} characters", raw[i]))
    cols[_FIRST], cols[_LAST] = first_names, last_names
