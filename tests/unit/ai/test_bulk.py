"""Bulk proposals: bounded concurrency against the fake model, usage per contact, failures listed, not fatal."""

from __future__ import annotations

from sqlalchemy import func, select

from core.ai import usage as usage_service
from core.ai.bulk import propose_for_contacts
from core.ai.models import AccountResearch, ModelUsage
from core.crm import service as contacts
from core.crm.models import SuppressionReason
from core.services import build_services
from tests import factories
from tests.fakes.openai_server import Reply, variants_for


def some_contacts(services, actor, n, **fields):
    return [factories.contact(services, actor, email=f"buyer{i}@firm{i % 3}.com", first_name="John",
                              title="VP of Sales", industry="Logistics", company_name=f"Firm {i % 3}", **fields)
            for i in range(n)]


def test_no_more_than_the_given_number_of_model_calls_are_in_flight(model_services, rep, fake_openai):
    fake_openai.default = lambda _body: Reply(content=variants_for(n=2), delay=0.15)
    people = some_contacts(model_services, rep, 6)
    result = propose_for_contacts(model_services, actor=rep, contact_ids=[c.id for c in people], variants=2,
                                  concurrency=2)
    assert [p.contact_id for p in result.proposals] == [c.id for c in people]
    assert fake_openai.max_in_flight == 2 and len(fake_openai.requests) == 6


def test_every_contact_gets_its_usage_row_and_every_company_one_cached_analysis(model_services, rep, fake_openai):
    people = some_contacts(model_services, rep, 5)
    propose_for_contacts(model_services, actor=rep, contact_ids=[c.id for c in people], concurrency=3)
    with model_services.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ModelUsage)) == 5
        assert uow.session.scalar(select(func.count()).select_from(AccountResearch)) == 3
    today = usage_service.usage_summary(model_services.uow(), actor=rep, now=model_services.clock())
    assert today[0].calls == 5 and today[0].prompt_tokens == 5 * 120


def test_suppressed_and_unknown_contacts_are_listed_as_failures_without_a_model_call(services, rep):
    people = some_contacts(services, rep, 2)
    contacts.suppress_email(services.uow(), actor=rep, email=people[1].email, reason=SuppressionReason.unsubscribed)
    result = propose_for_contacts(services, actor=rep, contact_ids=[people[0].id, people[1].id, 999_999])
    assert [p.contact_id for p in result.proposals] == [people[0].id]
    reasons = {f.contact_id: f.reason for f in result.failures}
    assert reasons[999_999] == "contact not found" and reasons[people[1].id].startswith("suppressed")
    assert result.offline and result.model_label == "offline composer"


def test_a_spent_budget_fails_the_remaining_contacts_clearly_and_calls_nothing(settings, model, rep, fake_openai):
    tight = build_services(settings.model_copy(update={"ai_daily_token_budget": 500}), llm=model)
    people = some_contacts(tight, rep, 2)
    result = propose_for_contacts(tight, actor=rep, contact_ids=[c.id for c in people], concurrency=2)
    assert result.proposals == [] and fake_openai.requests == []
    assert all("daily AI token budget spent" in f.reason for f in result.failures)
    tight.dispose()


def test_progress_is_reported_once_per_contact(services, rep):
    people = some_contacts(services, rep, 3)
    seen = []
    propose_for_contacts(services, actor=rep, contact_ids=[c.id for c in people], concurrency=1,
                         progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
