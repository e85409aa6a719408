"""Persona from title, persona × industry context, personalisation score, contact language."""

from __future__ import annotations

import pytest

from core.ai.language import contact_language
from core.ai.persona import Persona, classify_persona, messaging_context
from core.ai.personalization import calculate_personalization_score
from tests import factories


@pytest.mark.parametrize(("title", "persona"), [
    ("VP of Sales", Persona.c_level), ("Chief Executive Officer", Persona.c_level), ("CFO", Persona.c_level),
    ("Director of Operations", Persona.mid_management), ("Sales Manager", Persona.mid_management),
    ("Account Executive", Persona.individual_contributor), (None, Persona.individual_contributor),
])
def test_persona_from_job_title(title, persona):
    assert classify_persona(title) is persona


def test_persona_by_industry_context_names_industry_pains():
    context = messaging_context(Persona.c_level, "Logistics")
    assert "carrier costs" in context.pain_points and context.tone.startswith("concise")
    assert messaging_context(Persona.individual_contributor, "Logistics").tone != context.tone


ACME_EMAIL = ("Hi John,\n\nAs VP of Sales at Acme Logistics you know carrier costs decide margins in logistics. "
              "Acme has grown to 1,800 people this year, and teams at that size usually lose hours reconciling "
              "carrier invoices by hand.\n\nWould a 20-minute call next week be useful?\n\nBest,\nRiley")


def test_specific_acme_logistics_email_scores_at_least_70(services, rep):
    contact = factories.contact(services, rep, title="VP of Sales", industry="Logistics",
                                company_domain="acmelogistics.com", company_name="Acme Logistics")
    scored = calculate_personalization_score(ACME_EMAIL, contact)
    assert scored.score >= 70 and scored.warning is None


def test_generic_want_to_chat_scores_below_30_with_a_warning(services, rep):
    contact = factories.contact(services, rep, title="VP of Sales", industry="Logistics",
                                company_domain="acmelogistics.com", company_name="Acme Logistics")
    scored = calculate_personalization_score("Hi, want to chat?", contact)
    assert scored.score < 30 and "below 50" in scored.warning
    assert any("Acme Logistics" in r for r in scored.recommendations)


def test_language_from_field_then_replies_then_country():
    assert contact_language(language="de-AT", country=None).code == "de"
    replies = contact_language(language=None, country="United States",
                               earlier_replies=["Gracias por su mensaje, me interesa mucho la propuesta."])
    assert (replies.code, replies.source) == ("es", "earlier replies")
    assert contact_language(language=None, country="France").code == "fr"
    assert contact_language(language=None, country=None).source == "default"
