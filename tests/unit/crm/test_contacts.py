"""Sprint 1 checks: prospect CRUD, lookup by email, merge on duplicate email, enrichment score."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.crm import companies, service
from core.crm.models import Contact, LifecycleStage, SuppressionReason
from core.crm.schemas import CompanyUpdate, ContactInput, ContactUpdate
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests import factories


def test_create_contact_stores_normalised_email_and_links_company(services, admin):
    created = service.create_contact(services.uow(), actor=admin, data=ContactInput(
        email="  John.Smith@Acme.COM ", first_name="John", last_name="Smith", title="VP of Sales"))
    assert created.email == "john.smith@acme.com"
    assert created.company is not None and created.company.domain == "acme.com"
    assert created.lifecycle_stage is LifecycleStage.prospect
    assert created.created_by_id == admin.user_id and created.owner_id == admin.user_id


def test_lookup_by_email_ignores_case_and_whitespace(services, admin):
    factories.contact(services, admin, email="jane@initech.io")
    found = service.find_contact_by_email(services.uow(), actor=admin, email=" JANE@initech.io ")
    assert found is not None and found.email == "jane@initech.io"
    assert service.find_contact_by_email(services.uow(), actor=admin, email="nobody@initech.io") is None


def test_creating_an_existing_email_merges_instead_of_duplicating(services, admin):
    first = factories.contact(services, admin, email="sam@globex.com", first_name="Sam", title=None)
    again = service.create_contact(services.uow(), actor=admin, data=ContactInput(
        email="SAM@globex.com", first_name="Samuel", title="CTO", phone="+1 555 0100"))
    assert again.id == first.id and again.merged
    assert again.first_name == "Sam"  # existing data is kept; only gaps are filled
    assert again.title == "CTO" and again.phone == "+1 555 0100"
    with services.uow() as uow:
        assert uow.session.scalar(select(func.count(Contact.id)).where(Contact.email == "sam@globex.com")) == 1


def test_free_mail_address_gets_no_company(services, admin):
    created = factories.contact(services, admin, email="someone@gmail.com")
    assert created.company is None


def test_update_contact_changes_only_given_fields_and_audits(services, admin):
    c = factories.contact(services, admin, title="Analyst")
    updated = service.update_contact(services.uow(), actor=admin, contact_id=c.id,
                                     changes=ContactUpdate(lifecycle_stage=LifecycleStage.engaged))
    assert updated.lifecycle_stage is LifecycleStage.engaged and updated.title == "Analyst"
    history = service_history(services, admin, c.id)
    assert history[0]["action"] == "update"
    assert history[0]["changes"]["lifecycle_stage"] == ["prospect", "engaged"]


def service_history(services, actor, contact_id):
    from core.audit.service import history_for

    return history_for(services.uow(), actor=actor, resource_type="contact", resource_id=contact_id)


def test_changing_email_to_one_in_use_is_refused(services, admin):
    a = factories.contact(services, admin, email="a@acme.com")
    factories.contact(services, admin, email="b@acme.com")
    with pytest.raises(Conflict):
        service.update_contact(services.uow(), actor=admin, contact_id=a.id, changes=ContactUpdate(email="B@acme.com"))


def test_invalid_email_is_refused_and_nothing_is_written(services, admin):
    with pytest.raises(ValidationFailed, match="not a valid email"):
        service.create_contact(services.uow(), actor=admin, data=ContactInput(email="bob@"))
    with services.uow() as uow:
        assert uow.session.scalar(select(func.count(Contact.id))) == 0
        assert uow.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_delete_contact_removes_it_and_leaves_an_audit_row(services, admin):
    c = factories.contact(services, admin)
    service.delete_contact(services.uow(), actor=admin, contact_id=c.id)
    with pytest.raises(NotFound):
        service.get_contact(services.uow(), actor=admin, contact_id=c.id)
    assert service_history(services, admin, c.id)[0]["action"] == "delete"


def test_viewer_cannot_create_contacts(services, viewer):
    with pytest.raises(PermissionDenied):
        service.create_contact(services.uow(), actor=viewer, data=ContactInput(email="x@acme.com"))


def test_enrichment_score_grows_with_known_fields(services, admin):
    bare = factories.contact(services, admin, email="bare@gmail.com", first_name=None, last_name=None)
    rich = factories.contact(services, admin, email="rich@acme-logistics.com", first_name="Rita", last_name="Rich",
                             title="COO", phone="+1", linkedin_url="https://linkedin.com/in/rita",
                             industry="Logistics", company_size="201-1000", technologies=["SAP"],
                             timezone="Europe/Berlin")
    assert bare.enrichment_score == 0
    assert rich.enrichment_score == 100


def test_list_contacts_filters_searches_and_pages(services, admin):
    for i in range(7):
        factories.contact(services, admin, email=f"ops{i}@northwind.com", title="Head of Operations")
    factories.contact(services, admin, email="cfo@northwind.com", title="CFO",
                      lifecycle_stage=LifecycleStage.customer)
    page = service.list_contacts(services.uow(), actor=admin, search="operations", limit=5)
    assert page.total == 7 and len(page.items) == 5
    customers = service.list_contacts(services.uow(), actor=admin, stage=LifecycleStage.customer)
    assert [c.email for c in customers.items] == ["cfo@northwind.com"]


def test_suppressed_address_is_reported_on_the_contact(services, admin):
    c = factories.contact(services, admin, email="gone@acme.com")
    assert service.suppress_email(services.uow(), actor=admin, email="GONE@acme.com",
                                  reason=SuppressionReason.unsubscribed)
    assert not service.suppress_email(services.uow(), actor=admin, email="gone@acme.com",
                                      reason=SuppressionReason.unsubscribed)
    assert service.get_contact(services.uow(), actor=admin, contact_id=c.id).suppressed == [
        SuppressionReason.unsubscribed]
    assert service.is_suppressed(services.uow(), actor=admin, email="gone@acme.com")


def test_a_company_learning_its_industry_and_size_rescores_its_contacts(services, admin):
    """The score counts the company's industry and size, so it follows the company, not only the contact."""
    company = factories.company(services, admin, domain="freightline.example")
    contact = factories.contact(services, admin, email="ops@freightline.example")
    other = factories.contact(services, admin, email="ops@elsewhere.example")
    before = service.get_contact(services.uow(), actor=admin, contact_id=contact.id)
    assert before.company_id == company.id
    companies.update_company(services.uow(), actor=admin, company_id=company.id,
                             changes=CompanyUpdate(industry="Logistics", size="51-200"))
    after = service.get_contact(services.uow(), actor=admin, contact_id=contact.id)
    assert after.enrichment_score == before.enrichment_score + 15 + 10
    assert after.updated_at == before.updated_at  # the contact itself did not change
    assert service.get_contact(services.uow(), actor=admin, contact_id=other.id).enrichment_score == \
        other.enrichment_score
    companies.update_company(services.uow(), actor=admin, company_id=company.id, changes=CompanyUpdate(industry=None))
    assert service.get_contact(services.uow(), actor=admin, contact_id=contact.id).enrichment_score == \
        before.enrichment_score + 10
