"""Every public use case in core checks permissions: walked for every role, so a new one without `require` fails.

Use cases are found, not listed: every public function of a core module with a keyword-only ``actor``.
Each is called with made-up arguments; ``require`` comes first in a use case, so the answer about
permission arrives before the arguments are looked at.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import core
from core.auth.actor import Actor
from core.auth.models import Role
from core.auth.permissions import allowed
from core.db import Base, make_engine
from core.errors import PermissionDenied
from core.services import Services, build_services
from tests.conftest import sqlite_test_settings

NOBODY = Actor(user_id=987_654, email="nobody@example.com", roles=frozenset())
WRITES = {"create", "update", "delete", "import"}


def use_cases() -> list[tuple[str, Callable[..., Any]]]:
    found = []
    for info in pkgutil.walk_packages(core.__path__, "core."):
        module = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            params = inspect.signature(fn).parameters
            if "actor" in params and params["actor"].kind is inspect.Parameter.KEYWORD_ONLY:
                found.append((f"{info.name}.{name}", fn))
    return sorted(found, key=lambda item: item[0])


USE_CASES = use_cases()


class Anything(str):
    """Stands in for every argument (a string, so lookups by name work); anything else fails loudly."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


# Arguments that name what is protected must be real for the check to mean anything.
REAL_VALUES: dict[str, Any] = {"resource_type": "contact"}


def call(fn: Callable[..., Any], services: Services, actor: Actor) -> BaseException | None:
    kwargs: dict[str, Any] = {}
    args: list[Any] = []
    for name, param in inspect.signature(fn).parameters.items():
        if name == "actor":
            kwargs[name] = actor
        elif param.default is not inspect.Parameter.empty or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        elif param.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[name] = REAL_VALUES.get(name, Anything())
        else:
            args.append(services.uow() if name == "uow" else services if name == "services" else Anything())
    try:
        fn(*args, **kwargs)
    except Exception as exc:
        return exc
    return None


def required_permission(fn: Callable[..., Any], services: Services) -> tuple[str, str]:
    refused = call(fn, services, NOBODY)
    assert isinstance(refused, PermissionDenied), f"{fn.__module__}.{fn.__name__} does not call require() first"
    details = refused.details
    assert isinstance(details, dict)
    return str(details["resource"]), str(details["action"])


def test_use_cases_are_found() -> None:
    names = {name for name, _ in USE_CASES}
    assert {"core.crm.service.create_contact", "core.auth.service.create_user",
            "core.auth.api_keys.create_api_key", "core.audit.log.purge_audit"} <= names


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """One SQLite database for the whole walk: permission checks do not depend on the backend."""
    settings = sqlite_test_settings(tmp_path_factory.mktemp("matrix"))
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    svc = build_services(settings, engine=engine)
    yield svc
    svc.dispose()


@pytest.mark.parametrize(("name", "fn"), USE_CASES, ids=[n for n, _ in USE_CASES])
def test_every_role_gets_exactly_its_grants(name: str, fn: Callable[..., Any], services: Services) -> None:
    resource, action = required_permission(fn, services)
    for role in Role:
        actor = Actor(user_id=NOBODY.user_id, email=f"{role.value}@example.com", roles=frozenset({role.value}))
        outcome = call(fn, services, actor)
        denied_here = isinstance(outcome, PermissionDenied) and outcome.details == {"resource": resource,
                                                                                      "action": action}
        assert denied_here != allowed(actor, resource, action), f"{name} as {role.value}"
        # The rules every grant table must keep, whatever is added to it later:
        if role is Role.admin:
            assert not denied_here, f"admins may do everything, but not {name}"
        if role is Role.viewer and action in WRITES:
            assert denied_here, f"viewers only read, but may {name}"
        if role is Role.sales_rep and resource in {"users", "audit", "api_keys"} and action != "read":
            assert denied_here, f"reps do not administer, but may {name}"
