"""Drafting page: proposals for a picked contact, labelled offline, sanitised bodies, usage today."""

from __future__ import annotations

from core.voice import service as voice_service
from core.voice.schemas import VoiceProfileInput
from tests import factories
from ui.voice import safe_body_html

PAGE = "pages/Drafting.py"


def propose_for(at, search):
    at.text_input(key="drafting_contact_search").input(search).run()
    return at.button(key="drafting_propose").click().run()


def test_proposals_show_subject_reasoning_citations_and_the_offline_label(demo_services, open_page, text_of):
    at = propose_for(open_page(PAGE), "maria.novak1")

    assert not at.exception
    text = text_of(at)
    assert "3 proposals for maria.novak1" in text
    assert "offline composer" in text
    assert text.count("**Why:** [offline]") == 3
    bodies = [h.value for h in at.get("html")]
    assert len(bodies) == 3 and all(b.startswith("<p>Hi Maria,") for b in bodies)
    assert {m.label for m in at.metric} == {"Personalisation"}
    assert "Your model usage today" in text and "offline" in at.dataframe[-1].value.columns


def test_the_chosen_voice_profile_is_used(demo_services, demo_actor, open_page, text_of):
    voice_service.create_voice_profile(demo_services.uow(), actor=demo_actor, data=VoiceProfileInput(
        name="Formal", tone="formal", use_contractions=False, sign_off="Kind regards,"))
    at = open_page(PAGE)
    at.selectbox(key="drafting_profile").select("Formal").run()
    at = propose_for(at, "maria.novak1")

    assert "voice Formal" in text_of(at)
    assert all("Kind regards," in h.value for h in at.get("html"))


def test_html_in_crm_data_is_shown_as_text_never_as_markup(demo_services, demo_actor, open_page):
    factories.contact(demo_services, demo_actor, email="eve@evil-corp.example", first_name="Eve",
                      title="Head of <b>Ops</b>", industry="Logistics", company_name="Evil <img src=x onerror=alert(1)> Corp", company_domain="evil-corp.example")
    at = propose_for(open_page(PAGE), "eve@evil-corp")

    html = " ".join(h.value for h in at.get("html"))
    assert "Evil" in html and "&lt;img" in html and "&lt;b&gt;Ops" in html
    assert "<img" not in html and "<b>" not in html


def test_markdown_links_keep_only_safe_schemes():
    html = safe_body_html("Hi **Ann**, see [our page](https://example.com) and [this](javascript:alert(1))")
    assert "<strong>Ann</strong>" in html and 'href="https://example.com"' in html
    assert "href=\"javascript" not in html  # left as plain text, never a link
