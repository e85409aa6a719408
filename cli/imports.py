"""`sales-agent import contacts FILE.csv`: the same import as the Contacts page, with a progress bar."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer
from tqdm import tqdm

from cli.runtime import print_json, services, user_errors
from core.auth.actor import SYSTEM
from core.crm.importer import FIELDS, ImportOptions, detect_mapping, import_contacts, read_csv_headers
from core.errors import ValidationFailed

app = typer.Typer(no_args_is_help=True)

SHOWN_ERRORS = 20


class OnDuplicate(StrEnum):
    update = "update"
    skip = "skip"


def _mapping(data: bytes, encoding: str | None, overrides: list[str]) -> dict[str, str | None] | None:
    """The detected mapping adjusted by --map "CSV Header=field" ("CSV Header=" ignores the column)."""
    if not overrides:
        return None
    mapping = detect_mapping(read_csv_headers(data, encoding=encoding))
    for item in overrides:
        header, sep, field = item.rpartition("=")  # a header may contain "=", a field never does
        if not sep or not header.strip():
            raise ValidationFailed(f'--map expects "CSV Header=field", got {item!r}')
        field = field.strip()
        if field and field not in FIELDS:
            raise ValidationFailed(f"--map {item!r}: unknown field {field!r}; "
                                   f"choose from {', '.join(FIELDS)}")
        if header.strip() not in mapping:
            raise ValidationFailed(f"--map {item!r}: the file has no column {header.strip()!r}")
        mapping[header.strip()] = field or None
    return mapping


@app.command("contacts")
def contacts(
    file: Path = typer.Argument(..., help="CSV export (HubSpot, Apollo, Sales Navigator, Outlook, ...)."),
    on_duplicate: OnDuplicate = typer.Option(
        OnDuplicate.update, "--on-duplicate", help="Contacts whose email already exists: update or skip."
    ),
    maps: list[str] = typer.Option(
        None, "--map", help='Adjust the detected mapping: "CSV Header=field", or "CSV Header=" to ignore it.'
    ),
    encoding: str = typer.Option(None, "--encoding", help="e.g. cp1252; default UTF-8 (UTF-16 with a BOM)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON (no progress bar)."),
) -> None:
    """Import contacts from a CSV file; bad rows are reported by line while the good ones go in."""
    if not file.is_file():
        typer.secho(f"error: no such file: {file}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    data = file.read_bytes()
    bar = tqdm(total=None, unit="row", desc="importing", file=sys.stderr, disable=as_json, leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        with user_errors():
            mapping = _mapping(data, encoding, maps or [])
            options = ImportOptions(on_duplicate=on_duplicate.value, mapping=mapping, encoding=encoding,
                                    source=f"csv import: {file.name}"[:200])
            report = import_contacts(services().uow(), actor=SYSTEM, data=data, options=options,
                                     on_progress=progress)
    finally:
        bar.close()
    if as_json:
        print_json(report.to_dict())
        return
    typer.echo(f"{file.name}: {report.rows} rows - {report.created} created, {report.updated} updated, "
               f"{report.skipped} skipped, {report.failed} failed; "
               f"{report.companies_created} companies created")
    for error in report.errors[:SHOWN_ERRORS]:
        typer.echo(f"line {error.line}: {error.reason}")
    if len(report.errors) > SHOWN_ERRORS:
        typer.echo(f"... and {len(report.errors) - SHOWN_ERRORS} more (use --json to see them all)")
