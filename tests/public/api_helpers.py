"""Signing API clients in, for the /api/v1 tests."""

from __future__ import annotations

from core.auth.actor import SYSTEM
from core.auth.api_keys import create_api_key
from core.auth.models import Role
from core.auth.schemas import UserInput, UserView
from core.auth.service import create_user
from core.services import Services

PASSWORD = "correct horse battery"


def api_user(services: Services, email: str, role: Role) -> UserView:
    data = UserInput(email=email, name=email.split("@")[0].title(), roles=[role], password=PASSWORD)
    return create_user(services.uow(), actor=SYSTEM, data=data)


def api_key(services: Services, user: UserView, *scopes: str) -> str:
    return create_api_key(services.uow(), actor=SYSTEM, user_id=user.id, name="test key",
                          scopes=list(scopes)).secret
