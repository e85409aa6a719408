"""`sales-agent hubspot …`: run a sync now (the same runs the worker schedules) and show its jobs."""

from __future__ import annotations

from typing import Any

import typer

from cli.runtime import print_json, services, user_errors
from core.auth.actor import SYSTEM
from core.hubspot import sync
from core.hubspot.models import JobStatus

app = typer.Typer(no_args_is_help=True)


@app.command("sync")
def sync_(
    full: bool = typer.Option(False, "--full", help="Re-read every HubSpot record instead of recent changes."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Pull from HubSpot (full import or changes since the last run), then push our changes."""
    svc = services()
    crm: Any = svc.connectors.get("hubspot")
    if crm is None:
        typer.secho("HubSpot is not connected: set HUBSPOT_ACCESS_TOKEN", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)

    def progress(done: int, total: int | None) -> None:
        if not as_json:
            typer.echo(f"  {done} of {total} records read" if total else f"  {done} records read", err=True)

    with user_errors():
        jobs = sync.sync_now(svc.uow, crm, actor=SYSTEM, full=full, alerts=svc.connectors.get("alerts"),  # type: ignore[arg-type]
                             progress=progress)
    failed = [j for j in jobs if j.status is JobStatus.failed]
    if as_json:
        print_json({"ok": not failed, "jobs": [j.model_dump(mode="json") for j in jobs]})
    else:
        for j in jobs:
            typer.echo(f"{j.kind.value:12} {j.object_type.value:8} {j.status.value:9} {j.records_synced:>7} synced"
                       f" {j.error_count:>4} errors  {j.message or ''}")
    if failed:
        raise typer.Exit(1)
