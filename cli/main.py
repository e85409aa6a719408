"""`sales-agent …`: setup, migrations, demo data, imports, and starting the processes."""

from __future__ import annotations

import typer

from cli import ai, contacts, db, demo, hubspot, imports, serve, voice
from cli import users as users_cli

app = typer.Typer(no_args_is_help=True, help="Sales agent platform command line.", pretty_exceptions_enable=False)
app.add_typer(db.app, name="db", help="Database migrations and schema docs.")
app.add_typer(demo.app, name="demo", help="Demo data.")
app.add_typer(imports.app, name="import", help="Import data from files.")
app.add_typer(contacts.app, name="contacts", help="Contacts.")
app.add_typer(serve.serve_app, name="serve", help="Run the dashboard or the public endpoints.")
app.command("worker", help="Run the Huey worker (sending, sequences, periodic jobs).")(serve.worker)
app.command("up", help="Run dashboard, public endpoints and worker together; Ctrl-C stops all.")(serve.up)
app.command("propose", help="Research a contact's account and propose emails.")(ai.propose)
app.add_typer(voice.app, name="voice", help="Voice profiles: train from videos and samples.")
app.add_typer(hubspot.app, name="hubspot", help="HubSpot sync: run now, full import.")
app.add_typer(users_cli.app, name="users", help="Users: create, list, sync role permissions.")
app.add_typer(users_cli.apikeys_app, name="apikeys", help="API keys for programs (shown once).")


@app.command()
def version() -> None:
    """Print the version."""
    from core import __version__

    typer.echo(__version__)


@app.command()
def info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show which database, queue and connectors are active (no secrets)."""
    from cli.runtime import print_json, services

    described = services().active_connectors()
    if as_json:
        print_json(described)
    else:
        for key, value in described.items():
            typer.echo(f"{key:18} {value}")


if __name__ == "__main__":
    app()
