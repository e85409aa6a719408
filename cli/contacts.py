from __future__ import annotations

import typer

from cli.runtime import print_json, services, user_errors
from core.auth.actor import SYSTEM
from core.crm import service as contacts
from core.crm.models import LifecycleStage

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_(
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    offset: int = typer.Option(0, "--offset", min=0),
    search: str = typer.Option(None, "--search", help="Match email, name or title."),
    stage: LifecycleStage = typer.Option(None, "--stage"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List contacts."""
    with user_errors():
        page = contacts.list_contacts(services().uow(), actor=SYSTEM, search=search, stage=stage,
                                      limit=limit, offset=offset)
    if as_json:
        print_json({"total": page.total, "limit": page.limit, "offset": page.offset,
                    "items": [c.model_dump(mode="json") for c in page.items]})
        return
    typer.echo(f"{page.total} contacts (showing {len(page.items)} from {offset})")
    for c in page.items:
        company = c.company.name if c.company else ""
        typer.echo(f"{c.id:>6}  {c.email:40} {c.full_name:28} {company:24} {c.lifecycle_stage.value}")
