"""Templates with versions and save-time validation; drafts and their allowed transitions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.content import drafts, service
from core.content.models import DraftStatus, SnippetCategory, TemplateCategory
from core.content.schemas import DraftInput, SnippetInput, TemplateInput
from core.db import utcnow
from core.errors import InvalidTransition, ValidationFailed
from tests import factories

GREETING = 'Hi {{contact.first_name|default:"there"}},\n{{#if contact.title}}As {{contact.title}}{{else}}As a leader{{/if}}'


def _template(services, actor, body=GREETING, name="Intro"):
    return service.create_template(services.uow(), actor=actor, data=TemplateInput(
        name=name, category=TemplateCategory.prospecting, subject="Hello {{contact.company.name}}", body=body))


def test_template_renders_hi_john_and_hi_there(services, admin):
    template = _template(services, admin)
    john = factories.contact(services, admin, email="john@acme-logistics.com", first_name="John", title="COO")
    nameless = factories.contact(services, admin, email="info@acme-logistics.com", first_name=None)
    a = drafts.create_draft_from_template(services.uow(), actor=admin, template_id=template.id, contact_id=john.id)
    b = drafts.create_draft_from_template(services.uow(), actor=admin, template_id=template.id,
                                          contact_id=nameless.id)
    assert a.body.startswith("Hi John,\nAs COO") and a.subject == "Hello Acme Logistics"
    assert b.body.startswith("Hi there,\nAs a leader")
    assert a.template_version_id == template.latest.id


def test_unknown_variable_is_reported_by_name_when_saving(services, admin):
    with pytest.raises(ValidationFailed, match=r"contact\.favourite_color") as err:
        _template(services, admin, body="Hi {{contact.favourite_color}}")
    assert err.value.details["field"] == "body"
    assert service.list_templates(services.uow(), actor=admin) == []


def test_syntax_error_reports_its_line(services, admin):
    with pytest.raises(ValidationFailed) as err:
        _template(services, admin, body="Hi\nthere\n{{#if contact.title}}unclosed")
    assert err.value.details["line"] == 3


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ contact.__class__ }}",
    "{% for x in range(10**9) %}x{% endfor %}",
])
def test_template_injection_payloads_fail_harmlessly(services, admin, payload):
    try:
        template = _template(services, admin, body=payload)
    except ValidationFailed:
        return
    person = factories.contact(services, admin)
    draft = drafts.create_draft_from_template(services.uow(), actor=admin, template_id=template.id,
                                              contact_id=person.id)
    assert "class" not in draft.body.replace(payload, "") and "globals" not in draft.body.replace(payload, "")


def test_each_save_is_a_new_version_and_drafts_remember_theirs(services, admin):
    template = _template(services, admin)
    person = factories.contact(services, admin)
    first = drafts.create_draft_from_template(services.uow(), actor=admin, template_id=template.id,
                                              contact_id=person.id)
    v2 = service.save_template_version(services.uow(), actor=admin, template_id=template.id,
                                       subject="New subject", body="Hello {{contact.first_name}}")
    assert v2.latest.version == 2 and v2.version_count == 2
    history = service.template_history(services.uow(), actor=admin, template_id=template.id)
    assert [v.version for v in history] == [2, 1]
    assert first.template_version_id == history[1].id
    same = service.save_template_version(services.uow(), actor=admin, template_id=template.id,
                                         subject="New subject", body="Hello {{contact.first_name}}")
    assert same.version_count == 2  # saving unchanged text makes no new version


def test_snippets_are_inserted_into_templates(services, admin):
    service.create_snippet(services.uow(), actor=admin, data=SnippetInput(
        name="cta-call", category=SnippetCategory.cta, content="Free for a call, {{contact.first_name}}?"))
    template = _template(services, admin, body="Intro.\n{{> cta-call}}")
    person = factories.contact(services, admin, first_name="Ann")
    draft = drafts.create_draft_from_template(services.uow(), actor=admin, template_id=template.id,
                                              contact_id=person.id)
    assert draft.body == "Intro.\nFree for a call, Ann?"
    with pytest.raises(ValidationFailed, match="unknown snippet"):
        _template(services, admin, body="{{> nope}}", name="Other")


def test_preview_renders_unsaved_text_for_a_contact(services, admin):
    person = factories.contact(services, admin, first_name="Lee")
    rendered = service.preview_template(services.uow(), actor=admin, contact_id=person.id,
                                        subject="For {{contact.first_name|upper}}", body="Hi {{contact.first_name}}")
    assert rendered.subject == "For LEE" and rendered.body == "Hi Lee"


def test_draft_lifecycle_follows_allowed_transitions(services, admin):
    person = factories.contact(services, admin)
    draft = drafts.create_draft(services.uow(), actor=admin, data=DraftInput(
        contact_id=person.id, subject="Hello", body="Body"))
    assert draft.status is DraftStatus.draft and draft.to_email == person.email
    draft = drafts.transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.pending_approval)
    draft = drafts.transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.approved)
    assert draft.approved_by_id == admin.user_id
    when = utcnow() + timedelta(days=1)
    draft = drafts.transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.scheduled,
                                    scheduled_at=when)
    assert draft.scheduled_at == when
    draft = drafts.transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.sent)
    assert draft.sent_at is not None
    with pytest.raises(InvalidTransition, match="from sent to draft"):
        drafts.transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.draft)
    with pytest.raises(InvalidTransition):
        drafts.edit_draft(services.uow(), actor=admin, draft_id=draft.id, subject="x", body="y")


def test_rejecting_needs_a_reason_and_scheduling_a_future_time(services, admin):
    person = factories.contact(services, admin)
    draft = drafts.create_draft(services.uow(), actor=admin, data=DraftInput(
        contact_id=person.id, subject="Hello", body="Body"))
    with pytest.raises(ValidationFailed, match="reason"):
        drafts.transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.rejected)
    drafts.transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.approved)
    with pytest.raises(ValidationFailed, match="past"):
        drafts.transition_draft(services.uow(), actor=admin, draft_id=draft.id, to=DraftStatus.scheduled,
                                scheduled_at=utcnow() - timedelta(minutes=1))
    rejected_path = drafts.create_draft(services.uow(), actor=admin, data=DraftInput(
        contact_id=person.id, subject="Hello", body="Body"))
    rejected = drafts.transition_draft(services.uow(), actor=admin, draft_id=rejected_path.id,
                                       to=DraftStatus.rejected, reason="too long")
    assert rejected.rejection_reason == "too long"
