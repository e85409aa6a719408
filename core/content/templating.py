"""The user-written email template engine ("seed" syntax, handlebars-like).

Supported tags, and nothing else (anything else is a ``TemplateSyntaxError`` with line/column):

* ``{{contact.first_name}}`` -- dotted identifier paths; a segment starting with ``_`` is refused.
* filters ``default:"x"``, ``titlecase``, ``upper``, ``lower``, ``date`` / ``date:"%d %B %Y"``, chainable.
* ``{{#if path}}…{{else}}…{{/if}}`` and ``{{#unless path}}…{{else}}…{{/unless}}``, nestable.
* ``{{> snippet_name}}`` inserts a content-library snippet (one level: snippets cannot include snippets).
* ``\\{{`` is a literal ``{{``; single braces are plain text.

Raw Jinja syntax (``{%``, ``%}``, ``{#``, ``#}``) in the text is never executed: it is plain literal
text and renders exactly as written, because all literal text reaches Jinja only as escaped string
constants. The Jinja template never touches the user's context either: every variable path is
resolved by this module against a plain-data copy of the context and handed to Jinja as a flat slot
(``v0``, ``v1``…), so the sandboxed template contains no attribute access at all.

Rendering rules: missing and ``None`` values render as ``""``; lists render comma-separated;
mappings render as ``""``. ``check_variables`` treats a prefix of a known path (``contact.company``)
as known so that ``{{#if contact.company}}`` passes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from core.errors import ValidationFailed

MAX_SOURCE_CHARS = 20_000
MAX_OUTPUT_CHARS = 100_000
MAX_RENDER_SECONDS = 1.0
# Python refuses more than ~100 indentation levels in Jinja's generated code; stay far below.
_MAX_NESTING = 20
# Deeper contexts are either mistakes or cycles; both must stop the copy.
_MAX_CONTEXT_DEPTH = 32

_CONTACT = "first_name last_name full_name email title job_title phone linkedin_url timezone language"
_CONTACT_MORE = "lifecycle_stage industry company_size technologies owner_name"
_COMPANY = "name domain industry size employee_count revenue website"
_SENDER = "first_name last_name full_name email title company signature postal_address"
KNOWN_VARIABLES: frozenset[str] = frozenset(
    [f"contact.{n}" for n in f"{_CONTACT} {_CONTACT_MORE}".split()]
    + [f"contact.company.{n}" for n in _COMPANY.split()]
    + [f"sender.{n}" for n in _SENDER.split()]
    + ["campaign.name", "campaign.type", "today"]
)


class TemplateSyntaxError(ValidationFailed):
    """The template source is not valid seed syntax."""

    code = "template_syntax_error"

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(message + where, details={"line": line, "column": column})
        self.reason = message
        self.line = line
        self.column = column


class UnknownVariablesError(ValidationFailed):
    """The template uses variables the caller does not provide."""

    code = "unknown_variables"

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))
        super().__init__(f"Unknown variable(s): {', '.join(self.names)}", details={"names": self.names})


class TemplateRenderError(ValidationFailed):
    """Rendering failed: bad context, unknown snippet, output too long or too slow."""

    code = "template_render_error"


_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH_RE = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
_BLOCK_RE = re.compile(r"#(\w*)\s*(.*)", re.S)
_SNIPPET_RE = re.compile(r">\s*([A-Za-z0-9_\-]+)")
_FILTER_RE = re.compile(r"""\s*\|\s*(\w+)(?:\s*:\s*("[^"]*"|'[^']*'|-?\d+))?\s*""")
_TAG_START_RE = re.compile(r"\\\{\{|\{\{")
# Characters that can go into a Jinja string constant verbatim; everything else is \u-escaped.
_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.;:!?()@/'-_")
_QUOTES = "\"'"
_DEFAULT_DATE_FORMAT = "%B %d, %Y"
# Filter name -> (min args, max args, whether an integer argument is acceptable).
_FILTER_ARITY: dict[str, tuple[int, int, bool]] = {
    "default": (1, 1, True),
    "date": (0, 1, False),
    "titlecase": (0, 0, False),
    "upper": (0, 0, False),
    "lower": (0, 0, False),
}


def _jinja_string(text: str) -> str:
    """Quote text as a Jinja string constant made only of safe ASCII, so the lexer cannot misread it."""
    out = []
    for char in text:
        if char in _SAFE_CHARS:
            out.append(char)
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


@dataclass(frozen=True)
class _Program:
    jinja_source: str
    paths: tuple[str, ...]  # slot vN holds the value of paths[N]
    snippets: tuple[str, ...]  # slot sN holds the rendered snippets[N]


@dataclass
class _Block:
    kind: str  # "if" or "unless"
    line: int
    column: int
    has_else: bool = False


class _Translator:
    """Single pass over the seed source that emits the equivalent Jinja source."""

    def __init__(self, source: str, *, allow_snippets: bool) -> None:
        self.source = source
        self.allow_snippets = allow_snippets
        self.out: list[str] = []
        self.paths: dict[str, int] = {}
        self.snippets: dict[str, int] = {}
        self.stack: list[_Block] = []
        self.literal: list[str] = []

    def position(self, offset: int) -> tuple[int, int]:
        line = self.source.count("\n", 0, offset) + 1
        return line, offset - self.source.rfind("\n", 0, offset)

    def fail(self, message: str, offset: int) -> TemplateSyntaxError:
        line, column = self.position(offset)
        return TemplateSyntaxError(message, line=line, column=column)

    def flush_literal(self) -> None:
        if self.literal:
            self.out.append("{{ " + _jinja_string("".join(self.literal)) + " }}")
            self.literal = []

    def run(self) -> _Program:
        pos = 0
        for match in _TAG_START_RE.finditer(self.source):
            if match.start() < pos:
                continue  # this "{{" sits inside a tag we already consumed
            self.literal.append(self.source[pos : match.start()])
            if match.group() != "{{":
                self.literal.append("{{")
                pos = match.end()
                continue
            end = self.source.find("}}", match.end())
            if end < 0:
                raise self.fail("Unclosed tag: '{{' has no matching '}}'", match.start())
            self.flush_literal()
            self.tag(self.source[match.end() : end].strip(), match.start())
            pos = end + 2
        self.literal.append(self.source[pos:])
        self.flush_literal()
        if self.stack:
            block = self.stack[-1]
            message = f"{{{{#{block.kind}}}}} is never closed; add {{{{/{block.kind}}}}}"
            raise TemplateSyntaxError(message, line=block.line, column=block.column)
        return _Program("".join(self.out), tuple(self.paths), tuple(self.snippets))

    def tag(self, body: str, offset: int) -> None:
        if not body:
            raise self.fail("Empty tag '{{}}'", offset)
        if body.startswith("#"):
            self.open_block(body, offset)
        elif body.startswith("/"):
            self.close_block(body[1:].strip(), offset)
        elif body == "else":
            self.else_branch(offset)
        elif body.startswith(">"):
            self.snippet(body, offset)
        else:
            self.out.append("{{ " + self.expression(body, offset) + " }}")

    def slot(self, path: str, offset: int) -> str:
        if not _PATH_RE.fullmatch(path):
            hint = "use a dotted name such as contact.first_name"
            raise self.fail(f"Invalid variable {path[:40]!r}: {hint}", offset)
        if any(segment.startswith("_") for segment in path.split(".")):
            raise self.fail(f"Invalid variable {path!r}: names may not start with '_'", offset)
        return f"v{self.paths.setdefault(path, len(self.paths))}"

    def expression(self, body: str, offset: int) -> str:
        bar = body.find("|")
        path = (body if bar < 0 else body[:bar]).strip()
        jinja = self.slot(path, offset)
        pos = len(body) if bar < 0 else bar
        while pos < len(body):
            match = _FILTER_RE.match(body, pos)
            if not match:
                raise self.fail(f"Invalid filter syntax near {body[pos : pos + 20]!r}", offset)
            jinja += self.filter(match.group(1), match.group(2), offset)
            pos = match.end()
        return jinja

    def filter(self, name: str, arg: str | None, offset: int) -> str:
        if name not in _FILTER_ARITY:
            known = ", ".join(sorted(_FILTER_ARITY))
            raise self.fail(f"Unknown filter {name!r}; available filters: {known}", offset)
        low, high, int_ok = _FILTER_ARITY[name]
        count = 0 if arg is None else 1
        if not low <= count <= high:
            raise self.fail(f"Filter {name!r} takes {'no' if high == 0 else 'an'} argument", offset)
        if arg is None:
            return f"|{name}"
        if arg[0] not in _QUOTES and not int_ok:
            raise self.fail(f"Filter {name!r} needs a quoted string argument", offset)
        # Integers are passed as their text: the only filter accepting one just renders it.
        return f"|{name}({_jinja_string(arg[1:-1] if arg[0] in _QUOTES else arg)})"

    def open_block(self, body: str, offset: int) -> None:
        match = _BLOCK_RE.fullmatch(body)
        kind, arg = (match.group(1), match.group(2).strip()) if match else ("", "")
        if kind not in ("if", "unless"):
            raise self.fail(f"Unknown block '#{kind}'; supported blocks: #if, #unless", offset)
        if not arg:
            raise self.fail(f"'{{{{#{kind}}}}}' needs a variable, e.g. {{{{#{kind} contact.title}}}}", offset)
        if len(self.stack) >= _MAX_NESTING:
            raise self.fail(f"Blocks are nested more than {_MAX_NESTING} deep", offset)
        line, column = self.position(offset)
        self.stack.append(_Block(kind, line, column))
        self.out.append(f"{{% if {'not ' if kind == 'unless' else ''}{self.slot(arg, offset)} %}}")

    def else_branch(self, offset: int) -> None:
        if not self.stack:
            raise self.fail("'{{else}}' outside of {{#if}} or {{#unless}}", offset)
        if self.stack[-1].has_else:
            raise self.fail(f"Second '{{{{else}}}}' in one {{{{#{self.stack[-1].kind}}}}}", offset)
        self.stack[-1].has_else = True
        self.out.append("{% else %}")

    def close_block(self, kind: str, offset: int) -> None:
        if not self.stack:
            raise self.fail(f"'{{{{/{kind}}}}}' has no matching opening block", offset)
        block = self.stack[-1]
        if kind != block.kind:
            opened = f"{{{{#{block.kind}}}}} opened at line {block.line}"
            raise self.fail(f"'{{{{/{kind}}}}}' does not close {opened}", offset)
        self.stack.pop()
        self.out.append("{% endif %}")

    def snippet(self, body: str, offset: int) -> None:
        if not self.allow_snippets:
            raise self.fail("Snippets cannot include other snippets", offset)
        match = _SNIPPET_RE.fullmatch(body)
        if not match:
            raise self.fail("Invalid snippet name: use letters, digits, '_' or '-'", offset)
        name = match.group(1).lower()
        self.out.append(f"{{{{ s{self.snippets.setdefault(name, len(self.snippets))} }}}}")


@lru_cache(maxsize=512)
def _translate(source: str, allow_snippets: bool) -> _Program:
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateSyntaxError(f"Template is longer than {MAX_SOURCE_CHARS} characters")
    return _Translator(source, allow_snippets=allow_snippets).run()


def _text(value: object) -> str:
    """How any context value appears in an email: no 'None', no reprs of containers."""
    if value is None or isinstance(value, dict):
        return ""
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _filter_default(value: object, fallback: str) -> object:
    return fallback if value is None or value == "" else value


def _filter_upper(value: object) -> str:
    return _text(value).upper()


def _filter_lower(value: object) -> str:
    return _text(value).lower()


def _capitalize(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def _title_word(match: re.Match[str]) -> str:
    parts = re.split(r"(['\u2019])", match.group())
    # o'neil / d'arcy capitalise after the apostrophe; don't / it's do not.
    if len(parts) == 3 and len(parts[0]) == 1:
        return _capitalize(parts[0]) + parts[1] + _capitalize(parts[2])
    return _capitalize(match.group())


def _filter_titlecase(value: object) -> str:
    return re.sub(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*", _title_word, _text(value))


def _filter_date(value: object, fmt: str = _DEFAULT_DATE_FORMAT) -> str:
    moment: date | None = value if isinstance(value, date) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        return _text(value)
    try:
        return moment.strftime(fmt)
    except ValueError:  # also covers UnicodeEncodeError from odd format characters
        return _text(value)


def _make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=False,  # plain-text email bodies; HTML escaping happens later, elsewhere
        undefined=StrictUndefined,  # every slot is always supplied, so undefined means a bug
        finalize=_text,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals.clear()
    env.tests.clear()
    env.filters.clear()
    env.filters.update(
        default=_filter_default,
        titlecase=_filter_titlecase,
        upper=_filter_upper,
        lower=_filter_lower,
        date=_filter_date,
    )
    return env


_ENV = _make_environment()


@lru_cache(maxsize=512)
def _jinja_template(jinja_source: str) -> Template:
    return _ENV.from_string(jinja_source)


def _plain(value: object, where: str, depth: int = 0) -> object:
    """Deep-copy the context into plain data so nothing but data is reachable from a template."""
    if depth > _MAX_CONTEXT_DEPTH:
        raise TemplateRenderError(f"Context is nested too deeply (or cyclic) at {where!r}")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # drops str subclasses (enums etc.) to a plain str
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Decimal):
        return Decimal(value)
    if isinstance(value, datetime):
        return datetime.fromisoformat(value.isoformat())
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    if isinstance(value, Mapping):
        copied: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TemplateRenderError(f"Context keys must be strings; got {key!r} in {where!r}")
            copied[str.__str__(key)] = _plain(item, f"{where}.{key}" if where else key, depth + 1)
        return copied
    if isinstance(value, list | tuple):
        return [_plain(item, where, depth + 1) for item in value]
    kind = type(value).__name__
    message = f"Context value {where!r} has unsupported type {kind!r}; only plain data is allowed"
    raise TemplateRenderError(message, details={"path": where, "type": kind})


def _lookup(data: Mapping[str, object], path: str) -> object:
    current: object = data
    for segment in path.split("."):
        if not isinstance(current, dict) or segment not in current:
            return None
        current = current[segment]
    return current


def _run(program: _Program, data: dict[str, object], slots: dict[str, object]) -> str:
    values = {f"v{i}": _lookup(data, path) for i, path in enumerate(program.paths)}
    try:
        output = _jinja_template(program.jinja_source).render({**values, **slots})
    except TemplateError as exc:
        raise TemplateRenderError(f"Template could not be rendered: {exc}") from exc
    if len(output) > MAX_OUTPUT_CHARS:
        raise TemplateRenderError(f"Rendered output is longer than {MAX_OUTPUT_CHARS} characters")
    return output


@dataclass(frozen=True)
class CompiledTemplate:
    """A validated template; render it once per contact."""

    source: str
    variables: frozenset[str]
    snippets: frozenset[str]

    def render(self, context: Mapping[str, object], *, snippets: Mapping[str, str] | None = None) -> str:
        started = time.monotonic()
        if not isinstance(context, Mapping):
            raise TemplateRenderError("Template context must be a mapping")
        data = _plain(context, "")
        assert isinstance(data, dict)  # a Mapping always copies to a dict
        program = _translate(self.source, True)
        library = {name.lower(): text for name, text in (snippets or {}).items()}
        slots: dict[str, object] = {}
        for index, name in enumerate(program.snippets):
            if name not in library:
                raise TemplateRenderError(f"Unknown snippet: {name}", details={"snippet": name})
            try:
                snippet_program = _translate(library[name], False)
            except TemplateSyntaxError as exc:
                message = f"In snippet {name!r}: {exc.reason}"
                raise TemplateSyntaxError(message, line=exc.line, column=exc.column) from exc
            slots[f"s{index}"] = _run(snippet_program, data, {})
        output = _run(program, data, slots)
        if time.monotonic() - started > MAX_RENDER_SECONDS:
            raise TemplateRenderError(f"Rendering took longer than {MAX_RENDER_SECONDS} seconds")
        return output


def compile_template(source: str) -> CompiledTemplate:
    """Validate ``source``; raises TemplateSyntaxError with line and column on any mistake."""
    program = _translate(source, True)
    _jinja_template(program.jinja_source)  # compile now so the first contact does not pay for it
    return CompiledTemplate(source, frozenset(program.paths), frozenset(program.snippets))


def check_variables(compiled: CompiledTemplate, known: Iterable[str]) -> None:
    """Raise UnknownVariablesError for every used path that is neither known nor a prefix of one."""
    known_set = set(known)
    prefixes = {path.rsplit(".", i)[0] for path in known_set for i in range(1, path.count(".") + 1)}
    unknown = sorted(compiled.variables - known_set - prefixes)
    if unknown:
        raise UnknownVariablesError(unknown)


def render_template(
    source: str, context: Mapping[str, object], *, snippets: Mapping[str, str] | None = None
) -> str:
    return compile_template(source).render(context, snippets=snippets)
