"""`sales-agent propose EMAIL`: research the account and print proposed emails."""

from __future__ import annotations

import typer

from cli.runtime import print_json, services, user_errors
from core.ai.proposals import propose_for_email
from core.auth.actor import SYSTEM


def propose(
    email: str = typer.Argument(..., help="The contact's email address."),
    variants: int = typer.Option(3, "--variants", min=1, max=5, help="How many emails to propose."),
    profile: str = typer.Option(None, "--profile", help="Voice profile name (default: the contact's language)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Research the contact's account and propose emails in a trained voice."""
    with user_errors():
        result = propose_for_email(services(), actor=SYSTEM, email=email, variants=variants, profile_name=profile)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    source = "offline" if result.offline else "model"
    typer.echo(f"{len(result.proposals)} proposals for {result.contact_email} by {result.model_label} [{source}]"
               f" · language {result.language} ({result.language_source}) · persona {result.persona}"
               f" · voice {result.voice_profile or 'built-in'}")
    for n, p in enumerate(result.proposals, 1):
        typer.echo(f"\n=== {n}. {p.subject}   (personalisation {p.personalization.score}/100)")
        typer.echo(p.body)
        typer.echo(f"-- why: {p.reasoning}")
        for c in p.citations:
            typer.echo(f"-- cites: {c.fact} [{c.source}]")
        for v in p.violations:
            typer.secho(f"-- flagged: {v.message}", fg=typer.colors.YELLOW)
        if p.personalization.warning:
            typer.secho(f"-- {p.personalization.warning}", fg=typer.colors.YELLOW)
