"""`sales-agent users …` and `sales-agent apikeys …`: accounts and API keys from the command line."""

from __future__ import annotations

from datetime import timedelta

import typer

from cli.runtime import print_json, services, user_errors
from core.auth.actor import SYSTEM
from core.auth.api_keys import create_api_key, known_scopes, list_api_keys
from core.auth.models import Role
from core.auth.schemas import UserInput
from core.auth.service import create_user, find_user_by_email, list_users, sync_permissions
from core.errors import NotFound

app = typer.Typer(no_args_is_help=True)
apikeys_app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    email: str = typer.Option(..., "--email"),
    name: str = typer.Option(..., "--name"),
    role: list[Role] = typer.Option([Role.sales_rep], "--role", help="Repeat for several roles."),
    password: str = typer.Option(None, "--password", help="Prompted for (hidden) when not given."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a user who can sign in to the dashboard and the API."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with user_errors():
        user = create_user(services().uow(), actor=SYSTEM,
                           data=UserInput(email=email, name=name, roles=role, password=password))
    if as_json:
        print_json(user.model_dump(mode="json"))
    else:
        typer.echo(f"Created user {user.id}: {user.email} ({', '.join(user.roles)})")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List users."""
    with user_errors():
        people = list_users(services().uow(), actor=SYSTEM)
    if as_json:
        print_json([u.model_dump(mode="json") for u in people])
        return
    for u in people:
        typer.echo(f"{u.id:>5}  {u.email:36} {u.name:24} {','.join(u.roles):20} {u.status.value}")


@app.command("sync-permissions")
def sync_permissions_command() -> None:
    """Copy the role grants of core/auth/permissions.py GRANTS into the role_permissions table."""
    with user_errors():
        changed = sync_permissions(services().uow(), actor=SYSTEM)
    typer.echo(f"{changed} grant(s) changed.")


@apikeys_app.command("create")
def create_key(
    user: str = typer.Option(..., "--user", help="Email of the user the key acts as."),
    scopes: list[str] = typer.Option(..., "--scopes", help=f"Repeat or comma-separate: {', '.join(known_scopes())}"),
    name: str = typer.Option("API key", "--name"),
    expires_days: int = typer.Option(0, "--expires-days", min=0, help="0 = never expires."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the key is in 'key')."),
) -> None:
    """Create an API key; it is printed once and never stored."""
    wanted = [s.strip() for part in scopes for s in part.split(",") if s.strip()]
    svc = services()
    with user_errors():
        owner = find_user_by_email(svc.uow(), actor=SYSTEM, email=user)
        if owner is None:
            raise NotFound(f"no user with the email {user}")
        expires = svc.clock() + timedelta(days=expires_days) if expires_days else None
        new = create_api_key(svc.uow(), actor=SYSTEM, user_id=owner.id, name=name, scopes=wanted,
                             expires_at=expires)
    if as_json:
        print_json({"key": new.secret, **new.key.model_dump(mode="json")})
    else:
        typer.echo(new.secret)
        typer.echo(f"(key {new.key.id}, prefix {new.key.prefix}, scopes {' '.join(new.key.scopes)}; "
                   "shown only now)", err=True)


@apikeys_app.command("list")
def list_keys(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List API keys (prefixes only; keys themselves are never stored)."""
    with user_errors():
        keys = list_api_keys(services().uow(), actor=SYSTEM)
    if as_json:
        print_json([k.model_dump(mode="json") for k in keys])
        return
    for k in keys:
        state = "revoked" if k.revoked_at else f"expires {k.expires_at:%Y-%m-%d}" if k.expires_at else "active"
        typer.echo(f"{k.id:>5}  {k.prefix:18} user {k.user_id:<5} {' '.join(k.scopes):40} {state}")
