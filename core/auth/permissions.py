"""Permissions as (resource, action) pairs granted to roles; checked in core by every use case."""

from __future__ import annotations

from collections.abc import Mapping

from core.auth.actor import Actor
from core.auth.models import Role
from core.errors import PermissionDenied

READ, CREATE, UPDATE, DELETE, IMPORT = "read", "create", "update", "delete", "import"

_ALL = frozenset({READ, CREATE, UPDATE, DELETE, IMPORT})
_RESOURCES = ("contacts", "companies", "campaigns", "templates", "snippets", "drafts", "tasks",
              "voice_profiles", "users", "audit")

# Reps work contacts, drafts and tasks; managers also run campaigns and content; admins everything.
GRANTS: Mapping[Role, Mapping[str, frozenset[str]]] = {
    Role.admin: {resource: _ALL for resource in _RESOURCES},
    Role.manager: {
        **{r: _ALL for r in ("contacts", "companies", "campaigns", "templates", "snippets", "drafts",
                             "tasks", "voice_profiles")},
        "users": frozenset({READ}),
        "audit": frozenset({READ}),
    },
    Role.sales_rep: {
        "contacts": frozenset({READ, CREATE, UPDATE, IMPORT}),
        "companies": frozenset({READ, CREATE, UPDATE}),
        "campaigns": frozenset({READ}),
        "templates": frozenset({READ, CREATE, UPDATE}),
        "snippets": frozenset({READ, CREATE, UPDATE}),
        "drafts": frozenset({READ, CREATE, UPDATE}),
        "tasks": frozenset({READ, CREATE, UPDATE}),
        "voice_profiles": frozenset({READ, CREATE, UPDATE}),
        "users": frozenset({READ}),
    },
    Role.viewer: {r: frozenset({READ}) for r in _RESOURCES if r not in ("users", "audit")},
}


def allowed(actor: Actor, resource: str, action: str) -> bool:
    for role_name in actor.roles:
        try:
            role = Role(role_name)
        except ValueError:
            continue
        if action in GRANTS.get(role, {}).get(resource, frozenset()):
            return True
    return False


def require(actor: Actor, resource: str, action: str) -> None:
    if not allowed(actor, resource, action):
        raise PermissionDenied(f"{actor.label} may not {action} {resource}")
