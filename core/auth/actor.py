"""Who is acting: every use case that reads or changes data receives one."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.auth.models import Role


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    email: str
    name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    # (resource, action) pairs read from role_permissions at sign-in; None means "use the roles' GRANTS".
    permissions: frozenset[tuple[str, str]] | None = None
    # How the actor got in, for activity records: "dashboard", "api_key:<prefix>", "token", "cli".
    via: str = ""

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles

    def has_role_name(self, *names: str) -> bool:
        return any(name in self.roles for name in names)

    @property
    def label(self) -> str:
        return self.email


# The command line and the worker act as the system; its rights are the admin's.
SYSTEM = Actor(user_id=None, email="system", name="System", roles=frozenset({Role.admin.value}))
