"""The user-written email template engine ("seed" syntax, handlebars-like).

Tags: ``{{contact.first_name}}`` (dotted paths, no ``_``-prefixed segment), chainable filters
``default:"x"``, ``titlecase``, ``upper``, ``lower``, ``date[:"%d %B %Y"]``; ``{{#if x}}…{{else}}…{{/if}}``,
``{{#unless x}}…{{/unless}}``; ``{{> snippet}}`` (one level only); ``\\{{`` is a literal ``{{``.
Anything else inside ``{{ }}`` is a ``TemplateSyntaxError`` with line and column.

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
import string
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

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(message + where, details={"line": line, "column": column})
        self.reason = message
        self.line = line
        self.column = column


class UnknownVariablesError(ValidationFailed):
    """The template uses variables the caller does not provide."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))
        super().__init__(f"Unknown variable(s): {', '.join(self.names)}", details={"names": self.names})


class TemplateRenderError(ValidationFailed):
    """Rendering failed: bad context, unknown snippet, output too long or too slow."""


_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH_RE = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
_BLOCK_RE = re.compile(r"#(\w*)\s*(.*)", re.S)
_SNIPPET_RE = re.compile(r">\s*([A-Za-z0-9_\-]+)")
_FILTER_RE = re.compile(r"""\s*\|\s*(\w+)(?:\s*:\s*("[^"]*"|'[^']*'|-?\d+))?\s*""")
_TAG_START_RE = re.compile(r"\\\{\{|\{\{")
# Characters that can go into a Jinja string constant verbatim; everything else is \U-escaped.
_SAFE_CHARS = frozenset(string.ascii_letters + string.digits + " ,.;:!?()@/'-_")
# Immutable value types that are safe to hand over as they are.
_SCALARS = (str, int, float, bool, Decimal, date, datetime)
_QUOTES = "\"'"
# Filter name -> allowed argument counts; only ``default`` also accepts an integer argument.
_FILTER_ARGS = {"default": (1,), "date": (0, 1), "titlecase": (0,), "upper": (0,), "lower": (0,)}


def _jinja_string(text: str) -> str:
    """Quote text as a Jinja string constant made only of safe ASCII, so the lexer cannot misread it."""
    return '"' + "".join(c if c in _SAFE_CHARS else f"\\U{ord(c):08x}" for c in text) + '"'


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

    def position(self, offset: int) -> tuple[int, int]:
        line = self.source.count("\n", 0, offset) + 1
        return line, offset - self.source.rfind("\n", 0, offset)

    def fail(self, message: str, offset: int) -> TemplateSyntaxError:
        line, column = self.position(offset)
        return TemplateSyntaxError(message, line=line, column=column)

    def literal(self, text: str) -> None:
        if text:
            self.out.append("{{ " + _jinja_string(text) + " }}")

    def run(self) -> _Program:
        pos = 0
        for match in _TAG_START_RE.finditer(self.source):
            if match.start() < pos:
                continue  # this "{{" sits inside a tag we already consumed
            self.literal(self.source[pos : match.start()])
            if match.group() != "{{":
                self.literal("{{")
                pos = match.end()
                continue
            end = self.source.find("}}", match.end())
            if end < 0:
                raise self.fail("Unclosed tag: '{{' has no matching '}}'", match.start())
            self.tag(self.source[match.end() : end].strip(), match.start())
            pos = end + 2
        self.literal(self.source[pos:])
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
        if name not in _FILTER_ARGS:
            known = ", ".join(sorted(_FILTER_ARGS))
            raise self.fail(f"Unknown filter {name!r}; available filters: {known}", offset)
        if (0 if arg is None else 1) not in _FILTER_ARGS[name]:
            raise self.fail(f"Filter {name!r} {'needs an' if arg is None else 'takes no'} argument", offset)
        if arg is None:
            return f"|{name}"
        if arg[0] not in _QUOTES and name != "default":
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


def _filter_titlecase(value: object) -> str:
    word = r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*"
    text = re.sub(word, lambda m: m[0][:1].upper() + m[0][1:].lower(), _text(value))
    # O'/D'/L' are name particles, so the letter after them is capitalised too: O'Neil, D'Arcy.
    return re.sub(r"\b([OoDdLl]['\u2019])([^\W\d_]{2})", lambda m: m[1].upper() + m[2].title(), text)


def _filter_date(value: object, fmt: str = "%B %d, %Y") -> str:
    try:
        moment = datetime.fromisoformat(value.strip()) if isinstance(value, str) else value
        return moment.strftime(fmt) if isinstance(moment, date) else _text(value)
    except ValueError:  # not an ISO string, or a format strftime rejects: show the input as it was
        return _text(value)


_ENV = ImmutableSandboxedEnvironment(
    autoescape=False,  # plain-text email bodies; HTML escaping happens later, elsewhere
    undefined=StrictUndefined,  # every slot is always supplied, so undefined means a bug
    finalize=_text,
    keep_trailing_newline=True,
    auto_reload=False,
)
# Nothing callable but our own filters: no range, cycler, joiner, namespace, lipsum, dict, tests.
_ENV.globals.clear()
_ENV.tests.clear()
_ENV.filters = {
    "default": lambda value, fallback: fallback if value is None or value == "" else value,
    "upper": lambda value: _text(value).upper(),
    "lower": lambda value: _text(value).lower(),
    "titlecase": _filter_titlecase,
    "date": _filter_date,
}


@lru_cache(maxsize=512)
def _jinja_template(jinja_source: str) -> Template:
    return _ENV.from_string(jinja_source)


def _plain(value: object, where: str, depth: int = 0) -> object:
    """Deep-copy the context into plain data so nothing but data is reachable from a template."""
    if depth > _MAX_CONTEXT_DEPTH:
        raise TemplateRenderError(f"Context is nested too deeply (or cyclic) at {where!r}")
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, str):
        return str.__str__(value)  # StrEnum members and other str subclasses become a plain str
    if isinstance(value, int):
        return int.__int__(value)
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
