"""Reps work their own contacts and read the team's; managers and admins change any."""

from __future__ import annotations

import pytest

from core.auth.actor import Actor
from core.auth.models import Role
from core.crm import service
from core.crm.schemas import ContactUpdate
from core.errors import PermissionDenied
from core.services import Services
from tests import factories
from tests.conftest import add_user


def test_rep_cannot_update_another_reps_contact(services: Services, rep: Actor) -> None:
    other = add_user(services, "other.rep@example.com", Role.sales_rep)
    theirs = factories.contact(services, other)
    with pytest.raises(PermissionDenied):
        service.update_contact(services.uow(), actor=rep, contact_id=theirs.id, changes=ContactUpdate(title="CEO"))
    assert service.get_contact(services.uow(), actor=rep, contact_id=theirs.id).title is None


def test_rep_updates_own_contact(services: Services, rep: Actor) -> None:
    mine = factories.contact(services, rep)
    updated = service.update_contact(services.uow(), actor=rep, contact_id=mine.id, changes=ContactUpdate(title="CEO"))
    assert updated.title == "CEO"


def test_manager_updates_any_reps_contact(services: Services, rep: Actor) -> None:
    manager = add_user(services, "manager@example.com", Role.manager)
    theirs = factories.contact(services, rep)
    assert service.update_contact(services.uow(), actor=manager, contact_id=theirs.id,
                                  changes=ContactUpdate(title="CFO")).title == "CFO"
