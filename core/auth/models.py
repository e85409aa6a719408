"""Users of the dashboard and the API, the role→permission grants in data, and failed-login bookkeeping."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin, utcnow


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    sales_rep = "sales_rep"
    viewer = "viewer"


class UserStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    deleted = "deleted"


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(default=lambda: [Role.sales_rep.value])
    status: Mapped[UserStatus] = mapped_column(
        Enum(UserStatus, native_enum=False, length=20), default=UserStatus.active, index=True
    )
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # bcrypt hash; None until the user sets a password (invited, or signs in with Google only).
    password_hash: Mapped[str | None] = mapped_column(String(100))
    email_verified: Mapped[bool] = mapped_column(default=False)
    # Server-side logout: sessions and cookies issued at or before this moment are no longer accepted.
    sessions_valid_after: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class RolePermission(Base):
    """One (resource, action) a role may perform; seeded from permissions.GRANTS, editable as data."""

    __tablename__ = "role_permissions"
    __table_args__ = (UniqueConstraint("role", "resource", "action", name="uq_role_permissions_grant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(40))
    resource: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))


class LoginAttempt(Base):
    """One password login attempt, for the per-username and per-address brute-force limit."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(default=False)
