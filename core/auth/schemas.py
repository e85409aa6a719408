"""Inputs and read models of the users, API key and token use cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core.auth.models import Role, UserStatus


class UserInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=320)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    title: str | None = None
    roles: list[Role] = Field(default_factory=lambda: [Role.sales_rep], min_length=1)
    timezone: str = "UTC"
    password: str | None = Field(default=None, repr=False)
    email_verified: bool = False

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        local, at, domain = value.partition("@")
        if not (local and at and "." in domain):
            raise ValueError("is not an email address")
        return value


class UserView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    title: str | None
    roles: list[str]
    status: UserStatus
    email_verified: bool
    timezone: str
    has_password: bool = False
    last_login_at: datetime | None
    created_at: datetime


class ApiKeyView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    replaced_by_id: int | None


class NewApiKey(BaseModel):
    """The key itself appears here once and is never stored."""

    key: ApiKeyView
    secret: str = Field(repr=False)


class TokenPair(BaseModel):
    access_token: str = Field(repr=False)
    refresh_token: str = Field(repr=False)
    token_type: str = "Bearer"  # noqa: S105  (the OAuth token type, not a secret)
    expires_in: int


class LoginLimits(BaseModel):
    max_attempts: int = 5
    window_minutes: int = 15
    lock_minutes: int = 15


class VerifiedIdentity(BaseModel):
    """Who the identity provider vouches for, taken from an id_token whose signature and claims were checked."""

    model_config = ConfigDict(frozen=True)

    issuer: str
    subject: str
    email: str
    name: str = ""
    hosted_domain: str | None = None  # Google Workspace domain ("hd"), when there is one
    issued_at: datetime
