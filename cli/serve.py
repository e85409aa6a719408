"""Starting the three long-running processes, alone or together."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import typer

from cli.runtime import settings

serve_app = typer.Typer(no_args_is_help=True)
ROOT = Path(__file__).resolve().parent.parent


def _dashboard_cmd(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(ROOT / "Home.py"), "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def _public_cmd(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "public_endpoints.serve", "--host", host, "--port", str(port)]


def _worker_cmd() -> list[str]:
    return [sys.executable, "-m", "huey.bin.huey_consumer", "jobs.main.huey", "--workers", "2",
            "--worker-type", "thread"]


@serve_app.command("dashboard")
def dashboard(port: int = typer.Option(None, help="Port (default DASHBOARD_PORT, 8501).")) -> None:
    """Run the Streamlit dashboard."""
    cmd = _dashboard_cmd(port or settings().dashboard_port)
    os.execv(cmd[0], cmd)  # noqa: S606  (replace this process: signals go straight to streamlit)


@serve_app.command("public")
def public(
    host: str = typer.Option(None, help="Interface (default PUBLIC_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default PUBLIC_PORT, 8502)."),
) -> None:
    """Run the public endpoints (tracking, unsubscribe, booking, webhooks, API) with waitress."""
    cmd = _public_cmd(host or settings().public_host, port or settings().public_port)
    os.execv(cmd[0], cmd)  # noqa: S606


def worker() -> None:
    """Run the Huey consumer."""
    settings()  # validate configuration before handing over
    cmd = _worker_cmd()
    os.execv(cmd[0], cmd)  # noqa: S606


def up(
    dashboard_port: int = typer.Option(None, help="Dashboard port (default DASHBOARD_PORT)."),
    public_port: int = typer.Option(None, help="Public endpoints port (default PUBLIC_PORT)."),
) -> None:
    """Dashboard, public endpoints and worker in one terminal; Ctrl-C stops all three."""
    from honcho.manager import Manager

    s = settings()
    dport = dashboard_port or s.dashboard_port
    pport = public_port or s.public_port
    typer.secho(f"Dashboard:        http://127.0.0.1:{dport}", fg=typer.colors.GREEN, bold=True)
    typer.secho(f"Public endpoints: http://{s.public_host}:{pport}  (health: /health)", fg=typer.colors.GREEN)
    from core.demo import DEMO_PASSWORD, DEMO_USER_EMAIL

    typer.secho(f"Demo login:       {DEMO_USER_EMAIL} / {DEMO_PASSWORD}  (demo data only; change it for real use)",
                fg=typer.colors.GREEN)
    manager = Manager()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    manager.add_process("dashboard", shlex.join(_dashboard_cmd(dport)), env=env, cwd=str(ROOT))
    manager.add_process("public", shlex.join(_public_cmd(s.public_host, pport)), env=env, cwd=str(ROOT))
    manager.add_process("worker", shlex.join(_worker_cmd()), env=env, cwd=str(ROOT))
    manager.loop()
    raise typer.Exit(manager.returncode or 0)
