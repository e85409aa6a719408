"""Test data made through the real use cases, so tests exercise what users exercise."""

from __future__ import annotations

from itertools import count

from core.auth.actor import Actor
from core.crm import companies, service
from core.crm.schemas import CompanyInput, CompanyView, ContactInput, ContactView
from core.services import Services

_seq = count(1)


def contact(services: Services, actor: Actor, **fields: object) -> ContactView:
    n = next(_seq)
    values: dict[str, object] = {"email": f"person{n}@acme-logistics.com", "first_name": "John",
                                 "last_name": f"Doe{n}"}
    values.update(fields)
    return service.create_contact(services.uow(), actor=actor, data=ContactInput.model_validate(values))


def company(services: Services, actor: Actor, **fields: object) -> CompanyView:
    n = next(_seq)
    values: dict[str, object] = {"domain": f"company{n}.example.org", "name": f"Company {n}"}
    values.update(fields)
    return companies.create_company(services.uow(), actor=actor, data=CompanyInput.model_validate(values))
