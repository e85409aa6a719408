"""Templates page: live preview, inline errors with lines, create, new versions, snippets."""

from __future__ import annotations

import re

from core.content.service import list_snippets, list_templates, template_history

PAGE = "pages/Templates.py"
KINDS = {"pick": "selectbox", "name": "text_input", "category": "selectbox", "subject": "text_input",
         "body": "text_area"}


def templates_named(services, actor) -> dict[str, object]:
    return {t.name: t for t in list_templates(services.uow(), actor=actor)}


def field(at, name: str):
    """The editor's widget for a field; its key carries the editor's generation (see pages/Templates.py)."""
    prefix = "templates_pick" if name == "pick" else f"tpl_{name}"
    found = [w for w in getattr(at, KINDS[name]) if w.key and re.fullmatch(rf"{prefix}(_\d+)?", w.key)]
    assert len(found) == 1, f"{len(found)} editor widgets for {name}"
    return found[0]


def new_template(at):
    field(at, "pick").select(0).run()
    return at


def shown_template(at) -> tuple[str, str, str]:
    """What the editor shows: the picked template's name, the subject and the body."""
    pick = field(at, "pick")
    return pick.format_func(pick.value), field(at, "subject").value, field(at, "body").value


def test_editor_shows_a_live_preview_for_the_chosen_contact(demo_services, open_page, text_of):
    at = open_page(PAGE)
    at.text_input(key="tpl_preview_contact_search").input("maria.novak1").run()

    text = text_of(at)
    assert "**Subject:** How Acme Logistics booked 38% more meetings" in text
    assert "Hi Maria," in text
    assert "Given Northwind Freight's focus on logistics" in text


def test_preview_follows_unsaved_edits(demo_services, open_page, text_of):
    at = open_page(PAGE)
    field(at, "subject").input("Hello {{contact.company.name|upper}}").run()

    assert "**Subject:** Hello NORTHWIND HOLDINGS" in text_of(at)


def test_new_template_is_created_through_core(demo_services, demo_actor, open_page, text_of):
    at = new_template(open_page(PAGE))
    field(at, "name").input("Event invite")
    field(at, "category").select("nurture")
    field(at, "subject").input("See you at {{campaign.name|default:\"our event\"}}?")
    field(at, "body").input("Hi {{contact.first_name}},\n\nJoin us.\n\n{{> sign-off-warm}}")
    at.button(key="tpl_save").click().run()

    assert not at.exception
    assert "Saved Event invite, version 1." in text_of(at)
    created = templates_named(demo_services, demo_actor)["Event invite"]
    assert created.category.value == "nurture"
    assert "sender.first_name" in created.latest.variables  # from the snippet


def test_unknown_variable_is_shown_inline_and_nothing_is_created(demo_services, demo_actor, open_page):
    at = new_template(open_page(PAGE))
    field(at, "name").input("Colourful")
    field(at, "subject").input("Hello")
    field(at, "body").input("Hi {{contact.first_name}},\nYour favourite: {{contact.favourite_color}}")
    at.run()
    errors = [e.value for e in at.error]
    assert "body: Unknown variable(s): contact.favourite_color" in errors  # live, before saving

    at.button(key="tpl_save").click().run()

    assert not at.exception
    assert [e.value for e in at.error].count("body: Unknown variable(s): contact.favourite_color") == 2
    assert "Colourful" not in templates_named(demo_services, demo_actor)


def test_syntax_error_shows_its_line(demo_services, open_page):
    at = new_template(open_page(PAGE))
    field(at, "subject").input("Hello")
    field(at, "body").input("Hi there,\n\n{{#if contact.title}}no closing tag")
    at.run()

    assert any("line 3" in e.value and e.value.startswith("body:") for e in at.error)
    assert any("body, line 3: {{#if contact.title}}no closing tag" in c.value for c in at.code)


def test_saving_an_existing_template_adds_a_version(demo_services, demo_actor, open_page, text_of, table):
    template = templates_named(demo_services, demo_actor)["Follow-up — gentle bump"]
    at = open_page(PAGE)
    field(at, "pick").select(template.id).run()

    field(at, "subject").input("Quick nudge, {{contact.first_name|default:\"there\"}}")
    at.button(key="tpl_save").click().run()

    assert "Saved Follow-up — gentle bump, version 2." in text_of(at)
    versions = template_history(demo_services.uow(), actor=demo_actor, template_id=template.id)
    assert [v.version for v in versions] == [2, 1]
    assert list(table(at, "saved")["version"]) == [2, 1]

    at.selectbox(key=f"tpl_view_version_{template.id}").select(1).run()
    assert any(c.value.startswith("Subject: Re: {{contact.company.name") for c in at.code)

    at.button(key="tpl_restore").click().run()  # version 1 back into the editor, unsaved
    assert field(at, "subject").value.startswith("Re: {{contact.company.name")
    assert [v.version for v in template_history(demo_services.uow(), actor=demo_actor, template_id=template.id)] \
        == [2, 1]


def test_insert_snippet_appends_its_tag_to_the_body(demo_services, open_page):
    at = open_page(PAGE)
    before = field(at, "body").value

    at.selectbox(key="tpl_snippet").select("case-study-acme")
    at.button(key="tpl_insert_snippet").click().run()

    assert field(at, "body").value == before.rstrip() + "\n\n{{> case-study-acme}}"


def test_variables_list_names_the_known_variables(demo_services, open_page, text_of):
    at = open_page(PAGE)

    assert "`{{contact.company.name}}`" in text_of(at)


def test_snippet_form_creates_a_snippet(demo_services, demo_actor, open_page, text_of):
    at = open_page(PAGE)
    at.text_input(key="snippet_new_name").input("ps-webinar")
    at.selectbox(key="snippet_new_category").select("cta")
    at.text_area(key="snippet_new_content").input("P.S. Our webinar is on Thursday, {{contact.first_name}}.")
    at.button(key="snippets_new_submit").click().run()

    assert not at.exception
    assert "Created snippet ps-webinar" in text_of(at)
    assert "ps-webinar" in {s.name for s in list_snippets(demo_services.uow(), actor=demo_actor)}


def test_editor_shows_the_template_when_the_browser_mounts_its_widgets_at_their_defaults(
        demo_services, demo_actor, open_page):
    # Right after sign-in, a rerun writing the sign-in cookie can race the switch to this page: the browser
    # misses the run that sent the editor's values and mounts the widgets drawn by the next run at their
    # element defaults, then sends those values back with the following reruns.
    at = open_page(PAGE)
    name, subject, body = shown_template(at)
    template = templates_named(demo_services, demo_actor)[name]
    assert (subject, body) == (template.latest.subject, template.latest.body) and body

    for _ in range(2):  # as the browser shows them, then as it sends them back
        for key in ("pick", "category", "name", "subject", "body"):
            widget = field(at, key)
            if widget.disabled:  # Streamlit ignores what a browser sends for those
                continue
            if key in ("pick", "category"):
                widget.select_index(widget.proto.default)
            else:
                widget.set_value(widget.proto.default)
        at.run()

    assert not at.exception
    assert shown_template(at) == (template.name, template.latest.subject, template.latest.body)
    assert "Save as new version" in [b.label for b in at.button]


def test_another_template_replaces_the_editor_and_unsaved_edits_survive_a_snippet_insert(
        demo_services, demo_actor, open_page):
    templates = templates_named(demo_services, demo_actor)
    at = open_page(PAGE)
    other = next(t for t in templates.values() if t.name != shown_template(at)[0])

    field(at, "pick").select(other.id).run()
    assert shown_template(at) == (other.name, other.latest.subject, other.latest.body)

    field(at, "subject").set_value("Edited subject")
    at.selectbox(key="tpl_snippet").select("case-study-acme")
    at.button(key="tpl_insert_snippet").click().run()

    assert shown_template(at) == (other.name, "Edited subject",
                                  other.latest.body.rstrip() + "\n\n{{> case-study-acme}}")
