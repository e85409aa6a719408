"""Permissions as (resource, action) pairs granted to roles; checked in core by every use case.

GRANTS below is the seed: `sales-agent users sync-permissions` (and the demo loader) copy it into the
role_permissions table, which is what signed-in actors are checked against (their pairs are loaded into
``Actor.permissions`` at sign-in). Actors built without loading (tests, SYSTEM) fall back to GRANTS.
Other engineers append resources here; the table picks them up at the next sync.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.actor import Actor
from core.auth.models import Role, RolePermission
from core.errors import PermissionDenied

READ, CREATE, UPDATE, DELETE, IMPORT = "read", "create", "update", "delete", "import"

_ALL = frozenset({READ, CREATE, UPDATE, DELETE, IMPORT})
_RESOURCES = ("contacts", "companies", "campaigns", "templates", "snippets", "drafts", "tasks",
              "voice_profiles", "users", "audit", "api_keys", "mailboxes", "sending", "ai", "integrations",
              "queue", "analytics")

# Reps work contacts, drafts and tasks; managers also run campaigns and content; admins everything.
GRANTS: Mapping[Role, Mapping[str, frozenset[str]]] = {
    Role.admin: {resource: _ALL for resource in _RESOURCES},
    Role.manager: {
        **{r: _ALL for r in ("contacts", "companies", "campaigns", "templates", "snippets", "drafts",
                             "tasks", "voice_profiles", "mailboxes", "sending", "queue")},
        "ai": frozenset({READ, CREATE}),
        "users": frozenset({READ}),
        "audit": frozenset({READ}),
        "integrations": frozenset({READ}),  # HubSpot sync: managers watch it, admins run and configure it
        "analytics": frozenset({READ}),
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
        "mailboxes": frozenset({READ, CREATE, UPDATE}),
        "sending": frozenset({READ, CREATE, UPDATE}),
        "ai": frozenset({READ, CREATE}),  # research and drafting with the model, within the token budget
        "queue": frozenset({READ, CREATE, UPDATE, DELETE}),  # their own entries (require_owner)
        "users": frozenset({READ}),
        "analytics": frozenset({READ}),
    },
    Role.viewer: {r: frozenset({READ}) for r in _RESOURCES
                  if r not in ("users", "audit", "api_keys", "ai", "integrations")},
}

# Roles that work the whole team's records; everyone else changes only what they own.
TEAM_WIDE_ROLES = frozenset({Role.admin.value, Role.manager.value})


def _granted_by_seed(roles: Iterable[str], resource: str, action: str) -> bool:
    for role_name in roles:
        try:
            role = Role(role_name)
        except ValueError:
            continue
        if action in GRANTS.get(role, {}).get(resource, frozenset()):
            return True
    return False


def allowed(actor: Actor, resource: str, action: str) -> bool:
    if actor.permissions is not None:
        return (resource, action) in actor.permissions
    return _granted_by_seed(actor.roles, resource, action)


def require(actor: Actor, resource: str, action: str) -> None:
    if not allowed(actor, resource, action):
        raise PermissionDenied(f"{actor.label} may not {action} {resource}",
                               details={"resource": resource, "action": action})


def require_owner(actor: Actor, resource: str, owner_id: int | None) -> None:
    """Reps change only their own records (or unowned ones); managers and admins the team's."""
    if actor.user_id is None or actor.roles & TEAM_WIDE_ROLES or owner_id in (None, actor.user_id):
        return
    raise PermissionDenied(f"{actor.label} may only change their own {resource}",
                           details={"resource": resource, "action": "own"})


# Role grants as data ---------------------------------------------------------------------------------

def seed_pairs() -> set[tuple[str, str, str]]:
    return {(role.value, resource, action) for role, grants in GRANTS.items()
            for resource, actions in grants.items() for action in actions}


_CACHE_SECONDS = 60.0
_cache: tuple[float, dict[str, frozenset[tuple[str, str]]]] | None = None


def seed_role_permissions(session: Session) -> None:
    """Fill an empty role_permissions table from GRANTS (demo loader); `users sync-permissions` updates it."""
    if session.scalar(select(RolePermission.id).limit(1)) is None:
        session.add_all(RolePermission(role=r, resource=res, action=a) for r, res, a in sorted(seed_pairs()))
        clear_permission_cache()


def clear_permission_cache() -> None:
    global _cache
    _cache = None


def role_grants(session: Session) -> dict[str, frozenset[tuple[str, str]]]:
    """role -> its (resource, action) pairs from role_permissions, cached for a minute per process.

    An empty table (never synced) falls back to the GRANTS seed, so a fresh database is usable.
    """
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < _CACHE_SECONDS:
        return _cache[1]
    rows = session.execute(select(RolePermission.role, RolePermission.resource, RolePermission.action))
    triples = {(r, res, act) for r, res, act in rows} or seed_pairs()
    grants: dict[str, set[tuple[str, str]]] = {}
    for role, resource, action in triples:
        grants.setdefault(role, set()).add((resource, action))
    frozen = {role: frozenset(pairs) for role, pairs in grants.items()}
    _cache = (now, frozen)
    return frozen


def permissions_for(
    grants: Mapping[str, frozenset[tuple[str, str]]], roles: Iterable[str],
) -> frozenset[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for role in roles:
        pairs |= grants.get(role, frozenset())
    return frozenset(pairs)
