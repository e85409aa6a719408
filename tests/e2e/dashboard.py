"""Browser journeys' shared parts: starting the real dashboard (command line, health wait), a free port, the
chromium to drive, and signing in with the demo login."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"  # Debian's package, installed by .ci/run
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sign_in(page: Any, url: str) -> None:
    """Open the dashboard and sign in with the demo login; returns once the sidebar says who is signed in."""
    from core.demo import DEMO_PASSWORD, DEMO_USER_EMAIL

    page.goto(url)
    page.get_by_label("Email").fill(DEMO_USER_EMAIL)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").first.wait_for()  # .first: a rerun may briefly draw it twice


@contextmanager
def running_dashboard(home: Path, port: int, env: dict[str, str], cwd: Path = ROOT) -> Iterator[str]:
    """`streamlit run HOME` on 127.0.0.1:PORT until the block ends; yields its URL once /_stcore/health answers."""
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(home), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/_stcore/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("the dashboard did not start within 30 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
