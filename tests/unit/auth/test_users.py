"""User administration use cases, each leaving an audit row without secrets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.actor import Actor
from core.auth.errors import AuthenticationFailed
from core.auth.login import authenticate_password
from core.auth.models import Role, RolePermission, User
from core.auth.permissions import clear_permission_cache
from core.auth.schemas import LoginLimits, UserInput
from core.auth.service import (
    change_roles,
    create_user,
    invite_user,
    password_reset_link,
    set_password_with_link,
    set_user_password,
    sync_permissions,
)
from core.errors import Conflict, PermissionDenied
from core.services import Services

SECRET = "k" * 40


def test_created_user_has_a_bcrypt_hash_never_written_to_the_audit_log(services: Services, admin: Actor) -> None:
    user = create_user(services.uow(), actor=admin, data=UserInput(email="Kim@Example.com", name="Kim",
                                                                    password="pa55word!"))
    with services.uow() as uow:
        row = uow.session.get(User, user.id)
        assert row is not None and row.password_hash is not None and row.password_hash.startswith("$2")
        entry = uow.session.scalars(select(AuditEntry).where(AuditEntry.resource_type == "user")).one()
        assert entry.changes["password_hash"] == "***" and "pa55word!" not in str(entry.changes)
    assert user.email == "kim@example.com" and user.has_password


def test_duplicate_email_is_a_conflict(services: Services, admin: Actor) -> None:
    create_user(services.uow(), actor=admin, data=UserInput(email="kim@example.com", name="Kim"))
    with pytest.raises(Conflict):
        create_user(services.uow(), actor=admin, data=UserInput(email="KIM@example.com", name="Kim 2"))


def test_rep_cannot_create_users(services: Services, rep: Actor) -> None:
    with pytest.raises(PermissionDenied):
        create_user(services.uow(), actor=rep, data=UserInput(email="x@example.com", name="X"))


def test_invite_link_sets_the_password_once(services: Services, admin: Actor) -> None:
    now = services.clock()
    user, token = invite_user(services.uow(), actor=admin, data=UserInput(email="new@example.com", name="New"),
                              secret=SECRET, now=now)
    assert not user.has_password
    set_password_with_link(services.uow(), token=token, password="chosen-pass", secret=SECRET, now=now)
    with pytest.raises(AuthenticationFailed):
        set_password_with_link(services.uow(), token=token, password="another-pass", secret=SECRET, now=now)
    actor = authenticate_password(services.uow(), email="new@example.com", password="chosen-pass", address="a",
                                  now=now + timedelta(seconds=5), limits=LoginLimits())
    assert actor.user_id == user.id


def test_reset_link_expires(services: Services, admin: Actor) -> None:
    user = create_user(services.uow(), actor=admin, data=UserInput(email="kim@example.com", name="Kim"))
    token = password_reset_link(services.uow(), actor=admin, user_id=user.id, secret=SECRET,
                                now=services.clock() - timedelta(days=2))
    with pytest.raises(AuthenticationFailed):
        set_password_with_link(services.uow(), token=token, password="chosen-pass", secret=SECRET,
                               now=services.clock())


def test_admin_password_reset_and_role_change_are_audited(services: Services, admin: Actor) -> None:
    user = create_user(services.uow(), actor=admin, data=UserInput(email="kim@example.com", name="Kim"))
    set_user_password(services.uow(), actor=admin, user_id=user.id, password="new-pass-1", now=services.clock())
    changed = change_roles(services.uow(), actor=admin, user_id=user.id, roles=[Role.manager, Role.viewer])
    assert changed.roles == ["manager", "viewer"]
    with services.uow() as uow:
        actions = [e.action for e in uow.session.scalars(select(AuditEntry).where(AuditEntry.resource_id == str(user.id)))]
    assert actions == ["create", "reset_password", "update"]


def test_permissions_live_in_data_and_signed_in_actors_use_them(services: Services, admin: Actor) -> None:
    assert sync_permissions(services.uow(), actor=admin) > 0
    assert sync_permissions(services.uow(), actor=admin) == 0
    with services.uow() as uow:  # an admin revokes viewers' read of companies, as data
        row = uow.session.scalars(select(RolePermission).where(
            RolePermission.role == "viewer", RolePermission.resource == "companies")).one()
        uow.session.delete(row)
        uow.commit()
    clear_permission_cache()
    create_user(services.uow(), actor=admin, data=UserInput(email="v@example.com", name="V", roles=[Role.viewer],
                                                            password="viewer-pass"))
    viewer = authenticate_password(services.uow(), email="v@example.com", password="viewer-pass", address="a",
                                   now=services.clock(), limits=LoginLimits())
    assert viewer.permissions is not None
    assert ("contacts", "read") in viewer.permissions and ("companies", "read") not in viewer.permissions
    clear_permission_cache()
