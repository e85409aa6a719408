from __future__ import annotations

import typer

from cli.runtime import print_json, services, user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("load")
def load(
    as_json: bool = typer.Option(False, "--json"),
    if_empty: bool = typer.Option(False, "--if-empty", help="Only load when the database has no contacts."),
) -> None:
    """Load the deterministic demo data set (idempotent: running it twice changes nothing)."""
    from core.demo import load_demo_data

    with user_errors():
        summary = load_demo_data(services(), only_if_empty=if_empty)
    if as_json:
        print_json(summary)
    else:
        typer.echo(", ".join(f"{v} {k}" for k, v in summary.items()))
