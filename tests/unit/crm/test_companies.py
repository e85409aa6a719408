"""Company hierarchy: subsidiaries(parent), cycles refused, lookup by domain."""

from __future__ import annotations

import pytest

from core.crm import companies
from core.crm.schemas import CompanyInput, CompanyUpdate
from core.errors import Conflict, ValidationFailed
from tests import factories


def test_subsidiaries_lists_direct_children_or_the_whole_subtree(services, admin):
    parent = factories.company(services, admin, name="Globex Group")
    a = factories.company(services, admin, name="Globex Industrial", parent_id=parent.id)
    factories.company(services, admin, name="Globex Robotics", parent_id=a.id)
    factories.company(services, admin, name="Globex Air", parent_id=parent.id)
    direct = companies.subsidiaries(services.uow(), actor=admin, parent_id=parent.id)
    assert [c.name for c in direct] == ["Globex Air", "Globex Industrial"]
    everything = companies.subsidiaries(services.uow(), actor=admin, parent_id=parent.id, recursive=True)
    assert [c.name for c in everything] == ["Globex Air", "Globex Industrial", "Globex Robotics"]


def test_hierarchy_cycles_are_refused(services, admin):
    root = factories.company(services, admin)
    child = factories.company(services, admin, parent_id=root.id)
    grandchild = factories.company(services, admin, parent_id=child.id)
    with pytest.raises(Conflict, match="cycle"):
        companies.set_parent_company(services.uow(), actor=admin, company_id=root.id, parent_id=grandchild.id)
    with pytest.raises(Conflict):
        companies.set_parent_company(services.uow(), actor=admin, company_id=root.id, parent_id=root.id)
    assert companies.get_company(services.uow(), actor=admin, company_id=root.id).parent_id is None


def test_ancestors_walk_up_to_the_root(services, admin):
    root = factories.company(services, admin, name="Root")
    mid = factories.company(services, admin, name="Mid", parent_id=root.id)
    leaf = factories.company(services, admin, name="Leaf", parent_id=mid.id)
    chain = companies.company_ancestors(services.uow(), actor=admin, company_id=leaf.id)
    assert [c.name for c in chain] == ["Mid", "Root"]


def test_domain_is_unique_after_normalising(services, admin):
    factories.company(services, admin, domain="acme.com")
    with pytest.raises(Conflict):
        companies.create_company(services.uow(), actor=admin,
                                 data=CompanyInput(domain="https://www.ACME.com/about"))
    found = companies.find_company_by_domain(services.uow(), actor=admin, domain="WWW.acme.com")
    assert found is not None and found.domain == "acme.com"


def test_bad_domain_is_refused(services, admin):
    with pytest.raises(ValidationFailed):
        companies.create_company(services.uow(), actor=admin, data=CompanyInput(domain="not a domain"))


def test_update_keeps_the_domain_unique_and_present(services, admin):
    acme = factories.company(services, admin, domain="acme.example")
    globex = factories.company(services, admin, domain="globex.example")
    with pytest.raises(Conflict):
        companies.update_company(services.uow(), actor=admin, company_id=globex.id,
                                 changes=CompanyUpdate(domain="https://www.ACME.example/about"))
    with pytest.raises(ValidationFailed):
        companies.update_company(services.uow(), actor=admin, company_id=globex.id, changes=CompanyUpdate(domain=None))
    moved = companies.update_company(services.uow(), actor=admin, company_id=globex.id,
                                     changes=CompanyUpdate(domain="globex-corp.example", name=None))
    assert moved.domain == "globex-corp.example" and moved.name == companies.company_name_from_domain(moved.domain)
    assert companies.get_company(services.uow(), actor=admin, company_id=acme.id).domain == "acme.example"
