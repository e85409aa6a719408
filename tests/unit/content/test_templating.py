"""The user-written email template engine: seed syntax, filters, blocks, snippets and its safety rails."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.content import templating
from core.content.templating import (
    KNOWN_VARIABLES,
    MAX_OUTPUT_CHARS,
    MAX_SOURCE_CHARS,
    TemplateRenderError,
    TemplateSyntaxError,
    UnknownVariablesError,
    check_variables,
    compile_template,
    render_template,
)
from core.errors import ValidationFailed

JOHN = {
    "contact": {
        "first_name": "John",
        "job_title": "CTO",
        "company": {"name": "Acme", "industry": "Logistics"},
    }
}


# --- variables ---------------------------------------------------------------------------------


def test_variable_is_substituted() -> None:
    assert render_template("Hi {{contact.first_name}}", JOHN) == "Hi John"


def test_whitespace_inside_braces_is_allowed() -> None:
    assert render_template("Hi {{ contact.first_name }}", JOHN) == "Hi John"


def test_nested_path_is_resolved() -> None:
    assert render_template("{{contact.company.industry}}", JOHN) == "Logistics"


def test_missing_variable_renders_empty() -> None:
    assert render_template("Hi {{contact.last_name}}!", JOHN) == "Hi !"


def test_none_value_renders_empty() -> None:
    assert render_template("Hi {{contact.first_name}}!", {"contact": {"first_name": None}}) == "Hi !"


def test_path_through_a_non_mapping_renders_empty() -> None:
    assert render_template("{{contact.first_name.length}}", JOHN) == ""


def test_list_value_renders_comma_separated() -> None:
    context = {"contact": {"technologies": ["Python", "Postgres"]}}
    assert render_template("{{contact.technologies}}", context) == "Python, Postgres"


def test_mapping_value_renders_empty_rather_than_a_repr() -> None:
    assert render_template("[{{contact.company}}]", JOHN) == "[]"


def test_numbers_and_decimals_render_as_text() -> None:
    context = {"contact": {"company": {"employee_count": 250, "revenue": Decimal("1.50")}}}
    source = "{{contact.company.employee_count}} / {{contact.company.revenue}}"
    assert render_template(source, context) == "250 / 1.50"


def test_underscore_path_segment_is_a_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="may not start with '_'"):
        compile_template("{{contact._secret}}")


def test_syntax_errors_are_validation_failures() -> None:
    with pytest.raises(ValidationFailed):
        compile_template("{{contact.first_name")


# --- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize("first_name", ["missing", None, ""])
def test_default_filter_applies_to_missing_none_and_empty(first_name: str | None) -> None:
    contact = {} if first_name == "missing" else {"first_name": first_name}
    assert render_template('Hi {{contact.first_name|default:"there"}}', {"contact": contact}) == "Hi there"


def test_default_filter_keeps_a_present_value() -> None:
    assert render_template('Hi {{contact.first_name|default:"there"}}', JOHN) == "Hi John"


def test_default_filter_accepts_single_quotes_and_integers() -> None:
    assert render_template("{{a|default:'x'}}-{{b|default:0}}", {}) == "x-0"


def test_titlecase_filter() -> None:
    assert render_template("{{n|titlecase}}", {"n": "jOHN o'neil-smith don't"}) == "John O'Neil-Smith Don't"


def test_upper_filter() -> None:
    assert render_template("{{n|upper}}", {"n": "John"}) == "JOHN"


def test_lower_filter() -> None:
    assert render_template("{{n|lower}}", {"n": "John"}) == "john"


def test_date_filter_formats_a_date_with_the_default_format() -> None:
    assert render_template("{{today|date}}", {"today": date(2024, 3, 5)}) == "March 05, 2024"


def test_date_filter_formats_a_datetime_with_a_custom_format() -> None:
    assert render_template('{{d|date:"%d %B %Y"}}', {"d": datetime(2024, 3, 5, 9, 30)}) == "05 March 2024"


def test_date_filter_parses_an_iso_string() -> None:
    assert render_template('{{d|date:"%Y/%m/%d"}}', {"d": "2024-03-05T09:30:00+00:00"}) == "2024/03/05"


def test_date_filter_renders_a_bad_value_as_given() -> None:
    assert render_template("{{d|date}}", {"d": "next tuesday"}) == "next tuesday"


def test_filters_chain_left_to_right() -> None:
    source = '{{contact.first_name|default:"there"|titlecase}} {{contact.job_title|lower|upper}}'
    assert render_template(source, {"contact": {"job_title": "cto"}}) == "There CTO"


def test_unknown_filter_is_a_syntax_error_naming_it() -> None:
    with pytest.raises(TemplateSyntaxError, match="Unknown filter 'truncate'"):
        compile_template("{{contact.first_name|truncate:10}}")


def test_filter_with_wrong_arity_is_a_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="takes no argument"):
        compile_template('{{contact.first_name|upper:"x"}}')


# --- blocks ------------------------------------------------------------------------------------

IF_ELSE = "{{#if contact.job_title}}As {{contact.job_title}}{{else}}As a leader{{/if}}, you know."


def test_if_renders_the_true_branch() -> None:
    assert render_template(IF_ELSE, JOHN) == "As CTO, you know."


def test_if_renders_the_else_branch() -> None:
    assert render_template(IF_ELSE, {"contact": {"job_title": ""}}) == "As a leader, you know."


def test_if_without_else_renders_nothing_when_false() -> None:
    assert render_template("a{{#if x}}b{{/if}}c", {}) == "ac"


def test_nested_ifs() -> None:
    source = "{{#if a}}A{{#if b}}B{{else}}-{{/if}}{{/if}}"
    assert [render_template(source, {"a": 1, "b": b}) for b in (1, 0)] == ["AB", "A-"]


def test_unless_renders_when_false() -> None:
    source = "{{#unless contact.phone}}no phone{{else}}{{contact.phone}}{{/unless}}"
    assert render_template(source, JOHN) == "no phone"
    assert render_template(source, {"contact": {"phone": "555"}}) == "555"


def test_unclosed_if_reports_the_line_of_the_opening_tag() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template("Hi,\n\n  {{#if contact.job_title}}\nbody\n")
    assert (caught.value.line, caught.value.column) == (3, 3)
    assert "line 3" in str(caught.value)


def test_stray_closing_tag_reports_its_line() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template("Hi\nthere {{/if}}")
    assert (caught.value.line, caught.value.column) == (2, 7)


def test_mismatched_closing_tag_is_a_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="does not close"):
        compile_template("{{#if a}}x{{/unless}}")


def test_unknown_block_helper_is_a_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="#each"):
        compile_template("{{#each contacts}}x{{/each}}")


def test_else_outside_a_block_is_a_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="else"):
        compile_template("a{{else}}b")


# --- snippets ----------------------------------------------------------------------------------


def test_snippet_is_inserted_and_rendered_with_the_same_context() -> None:
    snippets = {"signature": "-- sent for {{contact.first_name}}"}
    assert render_template("Hi\n{{> signature}}", JOHN, snippets=snippets) == "Hi\n-- sent for John"


def test_snippet_names_are_case_insensitive() -> None:
    assert render_template("{{> Sig-1}}", {}, snippets={"SIG-1": "ok"}) == "ok"


def test_unknown_snippet_raises_render_error_naming_it() -> None:
    with pytest.raises(TemplateRenderError, match="case_study"):
        render_template("{{> case_study}}", JOHN, snippets={})


def test_snippet_including_a_snippet_is_refused() -> None:
    with pytest.raises(TemplateSyntaxError, match="cannot include other snippets"):
        render_template("{{> outer}}", {}, snippets={"outer": "x {{> inner}}", "inner": "y"})


def test_snippets_are_collected() -> None:
    assert compile_template("{{> a}}{{> B}}{{> a}}").snippets == frozenset({"a", "b"})


# --- literal text ------------------------------------------------------------------------------


def test_single_braces_are_literal() -> None:
    assert render_template("a {b} } { c", {}) == "a {b} } { c"


def test_escaped_double_brace_is_literal() -> None:
    assert render_template(r"Use \{{contact.first_name}} here", JOHN) == "Use {{contact.first_name}} here"


def test_text_without_tags_is_returned_unchanged() -> None:
    text = 'Line one\r\nquote " backslash \\ unicode é ☃ 🎉\n'
    assert render_template(text, {}) == text


# --- variables collection and checking ---------------------------------------------------------


def test_variables_are_collected() -> None:
    compiled = compile_template(
        "{{contact.first_name|upper}} {{#if contact.company.industry}}{{sender.email}}{{/if}}"
    )
    assert compiled.variables == frozenset({"contact.first_name", "contact.company.industry", "sender.email"})


def test_check_variables_accepts_known_variables() -> None:
    check_variables(
        compile_template("{{contact.first_name}} {{#if contact.company}}x{{/if}}"), KNOWN_VARIABLES
    )


def test_check_variables_reports_unknown_names_sorted() -> None:
    compiled = compile_template("{{contact.favourite_color}} {{contact.first_name}} {{config}}")
    with pytest.raises(UnknownVariablesError) as caught:
        check_variables(compiled, KNOWN_VARIABLES)
    assert caught.value.names == ["config", "contact.favourite_color"]
    assert "Unknown variable(s): config, contact.favourite_color" in str(caught.value)


# --- safety ------------------------------------------------------------------------------------

SSTI_PAYLOADS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ contact.__class__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__ }}",
    "{{ request.application.__globals__ }}",
    "{{ ''.__class__ }}",
    "{{ contact['first_name'] }}",
    "{{ contact.first_name() }}",
    "{{ 7*7 }}",
]


@pytest.mark.parametrize("payload", SSTI_PAYLOADS)
def test_ssti_payload_is_a_syntax_error(payload: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        compile_template(payload)


def test_unknown_plain_name_renders_empty_and_is_reported_unknown() -> None:
    compiled = compile_template("[{{ config }}]")
    assert compiled.render(JOHN) == "[]"
    with pytest.raises(UnknownVariablesError, match="config"):
        check_variables(compiled, KNOWN_VARIABLES)


def test_jinja_globals_are_not_reachable() -> None:
    assert render_template("{{range}}{{cycler}}{{joiner}}{{namespace}}{{lipsum}}{{dict}}{{self}}", {}) == ""


@pytest.mark.parametrize(
    "source",
    [
        "{% for x in range(10**9) %}x{% endfor %}",
        "{# comment #} {%- raw %}{{% endraw %}",
        "{{ '{% set x = 1 %}' | default:'y' }}",
    ],
)
def test_raw_jinja_syntax_is_never_executed(source: str) -> None:
    try:
        output = render_template(source, {})
    except TemplateSyntaxError:
        return
    assert output == source


def test_context_with_an_object_is_refused() -> None:
    class Contact:
        def delete(self) -> None: ...

    with pytest.raises(TemplateRenderError, match="unsupported type 'Contact'"):
        render_template("{{contact.first_name}}", {"contact": {"first_name": "A", "record": Contact()}})


def test_context_with_a_function_in_a_list_is_refused() -> None:
    with pytest.raises(TemplateRenderError, match="unsupported type"):
        render_template("x", {"items": [1, print]})


def test_cyclic_context_is_refused() -> None:
    cyclic: dict[str, object] = {}
    cyclic["self"] = cyclic
    with pytest.raises(TemplateRenderError, match="nested too deeply"):
        render_template("x", {"contact": cyclic})


def test_source_longer_than_the_cap_is_a_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="longer than"):
        compile_template("x" * (MAX_SOURCE_CHARS + 1))


def test_output_longer_than_the_cap_is_a_render_error() -> None:
    with pytest.raises(TemplateRenderError, match="longer than"):
        render_template("{{a}}", {"a": "x" * (MAX_OUTPUT_CHARS + 1)})


def test_render_slower_than_the_cap_is_a_render_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templating, "MAX_RENDER_SECONDS", -1.0)
    with pytest.raises(TemplateRenderError, match="took longer"):
        render_template("Hi", {})


def test_compiled_template_renders_many_contacts() -> None:
    compiled = compile_template("Hi {{contact.first_name|default:'there'}}")
    names = [f"n{i}" for i in range(50)]
    assert [compiled.render({"contact": {"first_name": n}}) for n in names] == [f"Hi {n}" for n in names]


# --- properties --------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    ["{{", "}}", "{%", "%}", "{#", "#}", "#if ", "#unless ", "/if", "/unless", "else", "> s", "|", ":",
     "upper", "lower", "titlecase", "default", '"', "'", "a", "a.b", "_", "__class__", ".", " ", "\\",
     "\n", "x", "1", "(", ")", "[", "]"]
)  # fmt: skip


def _renders_only_source_material(source: str) -> None:
    try:
        compiled = compile_template(source)
    except TemplateSyntaxError:
        return
    output = compiled.render({}, snippets={name: "" for name in compiled.snippets})
    allowed = set(source) | set(source.upper()) | set(source.lower())
    assert set(output) <= allowed


@given(st.text())
def test_arbitrary_text_is_rejected_or_renders_only_source_material(source: str) -> None:
    _renders_only_source_material(source)


@given(st.lists(FRAGMENTS, max_size=30).map("".join))
def test_tag_like_text_is_rejected_or_renders_only_source_material(source: str) -> None:
    _renders_only_source_material(source)


@given(st.text().filter(lambda text: "{{" not in text))
def test_text_without_tags_renders_unchanged(text: str) -> None:
    assert render_template(text, {}) == text
