"""Templates page: live preview, inline errors with lines, create, new versions, snippets."""

from __future__ import annotations

from core.content.service import list_snippets, list_templates, template_history

PAGE = "pages/Templates.py"


def templates_named(services, actor) -> dict[str, object]:
    return {t.name: t for t in list_templates(services.uow(), actor=actor)}


def new_template(at):
    at.selectbox(key="templates_pick").select(0).run()
    return at


def test_editor_shows_a_live_preview_for_the_chosen_contact(demo_services, open_page, text_of):
    at = open_page(PAGE)
    at.text_input(key="tpl_preview_contact_search").input("maria.novak1").run()

    text = text_of(at)
    assert "**Subject:** How Acme Logistics booked 38% more meetings" in text
    assert "Hi Maria," in text
    assert "Given Northwind Freight's focus on logistics" in text


def test_preview_follows_unsaved_edits(demo_services, open_page, text_of):
    at = open_page(PAGE)
    at.text_input(key="tpl_subject").input("Hello {{contact.company.name|upper}}").run()

    assert "**Subject:** Hello NORTHWIND HOLDINGS" in text_of(at)


def test_new_template_is_created_through_core(demo_services, demo_actor, open_page, text_of):
    at = new_template(open_page(PAGE))
    at.text_input(key="tpl_name").input("Event invite")
    at.selectbox(key="tpl_category").select("nurture")
    at.text_input(key="tpl_subject").input("See you at {{campaign.name|default:\"our event\"}}?")
    at.text_area(key="tpl_body").input("Hi {{contact.first_name}},\n\nJoin us.\n\n{{> sign-off-warm}}")
    at.button(key="tpl_save").click().run()

    assert not at.exception
    assert "Saved Event invite, version 1." in text_of(at)
    created = templates_named(demo_services, demo_actor)["Event invite"]
    assert created.category.value == "nurture"
    assert "sender.first_name" in created.latest.variables  # from the snippet


def test_unknown_variable_is_shown_inline_and_nothing_is_created(demo_services, demo_actor, open_page):
    at = new_template(open_page(PAGE))
    at.text_input(key="tpl_name").input("Colourful")
    at.text_input(key="tpl_subject").input("Hello")
    at.text_area(key="tpl_body").input("Hi {{contact.first_name}},\nYour favourite: {{contact.favourite_color}}")
    at.run()
    errors = [e.value for e in at.error]
    assert "body: Unknown variable(s): contact.favourite_color" in errors  # live, before saving

    at.button(key="tpl_save").click().run()

    assert not at.exception
    assert [e.value for e in at.error].count("body: Unknown variable(s): contact.favourite_color") == 2
    assert "Colourful" not in templates_named(demo_services, demo_actor)


def test_syntax_error_shows_its_line(demo_services, open_page):
    at = new_template(open_page(PAGE))
    at.text_input(key="tpl_subject").input("Hello")
    at.text_area(key="tpl_body").input("Hi there,\n\n{{#if contact.title}}no closing tag")
    at.run()

    assert any("line 3" in e.value and e.value.startswith("body:") for e in at.error)
    assert any("body, line 3: {{#if contact.title}}no closing tag" in c.value for c in at.code)


def test_saving_an_existing_template_adds_a_version(demo_services, demo_actor, open_page, text_of, table):
    template = templates_named(demo_services, demo_actor)["Follow-up — gentle bump"]
    at = open_page(PAGE)
    at.selectbox(key="templates_pick").select(template.id).run()

    at.text_input(key="tpl_subject").input("Quick nudge, {{contact.first_name|default:\"there\"}}")
    at.button(key="tpl_save").click().run()

    assert "Saved Follow-up — gentle bump, version 2." in text_of(at)
    versions = template_history(demo_services.uow(), actor=demo_actor, template_id=template.id)
    assert [v.version for v in versions] == [2, 1]
    assert list(table(at, "saved")["version"]) == [2, 1]

    at.selectbox(key=f"tpl_view_version_{template.id}").select(1).run()
    assert any(c.value.startswith("Subject: Re: {{contact.company.name") for c in at.code)


def test_insert_snippet_appends_its_tag_to_the_body(demo_services, open_page):
    at = open_page(PAGE)
    before = at.text_area(key="tpl_body").value

    at.selectbox(key="tpl_snippet").select("case-study-acme")
    at.button(key="tpl_insert_snippet").click().run()

    assert at.text_area(key="tpl_body").value == before.rstrip() + "\n\n{{> case-study-acme}}"


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
