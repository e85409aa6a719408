"""Users of the dashboard and the API. Login and credentials arrive with the users issue."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin


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
