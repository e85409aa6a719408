from __future__ import annotations

from pathlib import Path

import typer

from cli.runtime import settings, user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from core.migrations import upgrade as do_upgrade

    with user_errors():
        do_upgrade(settings(), revision)
    typer.echo(f"database at {revision}")


@app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base' for an empty database.")) -> None:
    """Migrate the database down to REVISION."""
    from core.migrations import downgrade as do_downgrade

    with user_errors():
        do_downgrade(settings(), revision)
    typer.echo(f"database at {revision}")


@app.command("current")
def current() -> None:
    """Print the revision the database is at."""
    from core.migrations import current_revision

    typer.echo(current_revision(settings()) or "empty (no revision)")


@app.command("erd")
def erd(
    output: Path = typer.Option(Path("docs/DATABASE_SCHEMA.md"), help="Document whose ERD block is rewritten."),
    check: bool = typer.Option(False, "--check", help="Exit 1 when the document is stale instead of writing."),
) -> None:
    """Regenerate the mermaid ERD in docs/DATABASE_SCHEMA.md from the models."""
    from core.schema_doc import update_schema_doc

    changed = update_schema_doc(output, write=not check)
    if check and changed:
        typer.secho(f"{output} is stale: run `sales-agent db erd`", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"{output} {'updated' if changed else 'up to date'}")
