"""/api/v1: contacts and companies for programs, plus the token exchange. OpenAPI at /openapi.json, docs at /docs.

Views call exactly one core use case each with the caller's actor; core decides what the caller may do.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from pydantic import BaseModel, ConfigDict, Field

from core.auth.errors import AuthenticationFailed, SignInLocked
from core.auth.schemas import LoginLimits, TokenPair
from core.auth.tokens import issue_tokens, refresh_tokens, revoke_tokens
from core.crm import companies, service
from core.crm.models import LifecycleStage
from core.crm.schemas import (
    CompanyInput,
    CompanyUpdate,
    CompanyView,
    ContactInput,
    ContactUpdate,
    ContactView,
    Page,
)
from public_endpoints import current_services
from public_endpoints.api_auth import (
    SECURITY,
    api_blueprint,
    bearer_token,
    current_actor,
    unauthorized,
)
from public_endpoints.errors import TYPE_BASE, problem

bp = api_blueprint("api_v1", __name__, url_prefix="/api/v1", tag="API v1")


class ContactPage(Page[ContactView]):
    pass


class CompanyPage(Page[CompanyView]):
    pass


class ContactQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    search: str | None = None
    stage: LifecycleStage | None = None
    company_id: int | None = None
    owner_id: int | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class CompanyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    search: str | None = None
    industry: str | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class TokenRequest(BaseModel):
    email: str
    password: str = Field(repr=False)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(repr=False)


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _token_settings() -> dict[str, Any]:
    settings = current_services().settings
    return {"secret": settings.effective_secret_key, "access_ttl": settings.jwt_access_ttl_seconds,
            "refresh_ttl": settings.jwt_refresh_ttl_seconds}


# Tokens ----------------------------------------------------------------------------------------------

@bp.post("/auth/token")
@bp.input(TokenRequest, arg_name="body")
@bp.output(TokenPair)
@bp.doc(summary="Exchange email and password for an access token and a refresh token", security=[])
def issue_token(body: TokenRequest) -> Any:
    services = current_services()
    s = services.settings
    limits = LoginLimits(max_attempts=s.login_max_attempts, window_minutes=s.login_window_minutes,
                         lock_minutes=s.login_lock_minutes)
    try:
        return issue_tokens(services.uow(), email=body.email, password=body.password, address=_client_address(),
                            now=services.clock(), limits=limits, **_token_settings())
    except SignInLocked as exc:
        return problem(429, "Too Many Requests", exc.message, type_=TYPE_BASE + exc.code,
                       headers={"Retry-After": str(exc.retry_after)})
    except AuthenticationFailed as exc:
        return unauthorized(exc.message)


@bp.post("/auth/refresh")
@bp.input(RefreshRequest, arg_name="body")
@bp.output(TokenPair)
@bp.doc(summary="Rotate a refresh token into a new token pair", security=[])
def refresh_token(body: RefreshRequest) -> Any:
    services = current_services()
    try:
        return refresh_tokens(services.uow(), refresh_token=body.refresh_token, now=services.clock(),
                              **_token_settings())
    except AuthenticationFailed as exc:
        return unauthorized(exc.message)


@bp.post("/auth/logout")
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke this access token and its refresh tokens", security=[{"BearerAuth": []}])
def logout() -> Any:
    token = bearer_token()
    if token is None:
        return unauthorized("Logout needs the access token as Bearer.")
    services = current_services()
    revoke_tokens(services.uow(), token=token, secret=services.settings.effective_secret_key, now=services.clock())
    return ""


# Contacts --------------------------------------------------------------------------------------------

@bp.get("/contacts")
@bp.input(ContactQuery, location="query", arg_name="query")
@bp.output(ContactPage)
@bp.doc(summary="List contacts (filters and pagination)", security=SECURITY)
def list_contacts(query: ContactQuery) -> Any:
    return service.list_contacts(current_services().uow(), actor=current_actor(), **query.model_dump())


@bp.get("/contacts/<int:contact_id>")
@bp.output(ContactView)
@bp.doc(summary="Get a contact", security=SECURITY)
def get_contact(contact_id: int) -> Any:
    return service.get_contact(current_services().uow(), actor=current_actor(), contact_id=contact_id)


@bp.post("/contacts")
@bp.input(ContactInput, arg_name="body")
@bp.output(ContactView, status_code=201)
@bp.doc(summary="Create a contact (merges into an existing one with the same email)", security=SECURITY)
def create_contact(body: ContactInput) -> Any:
    return service.create_contact(current_services().uow(), actor=current_actor(), data=body)


@bp.patch("/contacts/<int:contact_id>")
@bp.input(ContactUpdate, arg_name="body")
@bp.output(ContactView)
@bp.doc(summary="Change some fields of a contact", security=SECURITY)
def update_contact(contact_id: int, body: ContactUpdate) -> Any:
    return service.update_contact(current_services().uow(), actor=current_actor(), contact_id=contact_id,
                                  changes=body)


@bp.delete("/contacts/<int:contact_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Delete a contact", security=SECURITY)
def delete_contact(contact_id: int) -> Any:
    service.delete_contact(current_services().uow(), actor=current_actor(), contact_id=contact_id)
    return ""


# Companies -------------------------------------------------------------------------------------------

@bp.get("/companies")
@bp.input(CompanyQuery, location="query", arg_name="query")
@bp.output(CompanyPage)
@bp.doc(summary="List companies", security=SECURITY)
def list_companies(query: CompanyQuery) -> Any:
    return companies.list_companies(current_services().uow(), actor=current_actor(), **query.model_dump())


@bp.get("/companies/<int:company_id>")
@bp.output(CompanyView)
@bp.doc(summary="Get a company", security=SECURITY)
def get_company(company_id: int) -> Any:
    return companies.get_company(current_services().uow(), actor=current_actor(), company_id=company_id)


@bp.post("/companies")
@bp.input(CompanyInput, arg_name="body")
@bp.output(CompanyView, status_code=201)
@bp.doc(summary="Create a company", security=SECURITY)
def create_company(body: CompanyInput) -> Any:
    return companies.create_company(current_services().uow(), actor=current_actor(), data=body)


@bp.patch("/companies/<int:company_id>")
@bp.input(CompanyUpdate, arg_name="body")
@bp.output(CompanyView)
@bp.doc(summary="Change some fields of a company", security=SECURITY)
def update_company(company_id: int, body: CompanyUpdate) -> Any:
    return companies.update_company(current_services().uow(), actor=current_actor(), company_id=company_id,
                                    changes=body)


def api_error(error: Any) -> Response:
    """APIFlask's own errors (input validation 422, 404 from routing) as problem+json too."""
    extra: dict[str, Any] = {}
    if getattr(error, "detail", None):
        extra["errors"] = error.detail
    return problem(error.status_code, error.message or "Error", None, headers=dict(error.headers or {}), **extra)
