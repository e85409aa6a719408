"""Start-up shared by every command: settings once, logging, services; clear errors, no tracebacks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import typer

from core.config import Settings, load_settings
from core.errors import ConfigError, SalesAgentError
from core.logging import bind_trace_id, configure_logging
from core.services import Services, build_services


@cache
def settings() -> Settings:
    try:
        loaded = load_settings()
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    configure_logging(loaded)
    bind_trace_id(process="cli")
    return loaded


@cache
def services() -> Services:
    return build_services(settings())


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn core errors into a one-line message and exit code 1 (2 for configuration)."""
    try:
        yield
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except SalesAgentError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")
