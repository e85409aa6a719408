"""Starting the real dashboard for browser journeys: one place for the command line and the health wait."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


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
