"""Open pixel and click redirect under gunicorn against a bare Flask app serving the same GIF and 302.

Both apps run under the same gunicorn settings (public_endpoints/gunicorn_conf.py, as deployed) at the same time, loaded over loopback for a bounded time
(wrk when installed, else a threaded Python client), in --rounds rounds that alternate which app goes first;
each figure is the median over the rounds, so one noisy phase on a shared machine does not decide it.
ratio = our requests/s over the bare app's (`_throughput`, target >= 0.7); p99 must stay within 2x the bare one;
after the buffers drain, the number of stored events must equal the number of requests we answered.

Two set-ups, as deployed:
- embedded (default): events wait in each web worker's in-process buffer, written by its flusher thread;
- --redis-url URL (production): web workers push events to a Redis list and the Huey worker
  (`sales-agent worker`, started here with the same environment) writes them. Give it a Redis database no
  installation uses (its worker takes whatever tasks wait there); it deletes only its own list afterwards.

    python benchmarks/tracking_endpoints.py [--quick] [--seconds 10] [--redis-url redis://127.0.0.1:6379/15]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

import core.models  # noqa: E402,F401
from core.auth.actor import SYSTEM  # noqa: E402
from core.content.models import Draft, DraftStatus  # noqa: E402
from core.crm.models import Contact  # noqa: E402
from core.db import Base, make_engine  # noqa: E402
from core.mail import pipeline  # noqa: E402
from core.mail.ledger import queue_approved_draft_for_sending  # noqa: E402
from core.mail.mailboxes import create_mailbox  # noqa: E402
from core.mail.models import MessageEvent, SendLedgerEntry, TrackedLink  # noqa: E402
from core.mail.schemas import MailboxInput  # noqa: E402
from core.services import build_services  # noqa: E402
from tests.conftest import sqlite_test_settings  # noqa: E402

BARE_APP = '''
from flask import Flask, Response
from public_endpoints.tracking import NO_CACHE, PIXEL

app = Flask(__name__)

@app.get("/o/<path:name>")
def pixel(name):
    return Response(PIXEL, mimetype="image/gif", headers=NO_CACHE)

@app.get("/c/<path:token>")
def click(token):
    return Response(status=302, headers={**NO_CACHE, "Location": "https://acme-sales.example/case"})
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    services = build_services(settings, engine=engine)
    mailbox = create_mailbox(services.uow(), actor=SYSTEM, settings=settings, data=MailboxInput(
        email="bench@acme-sales.example", kind="outbox", postal_address="12 Harbour Street, Bristol BS1 4RN"))
    with services.uow() as uow:
        contact = Contact(email="buyer@northwind.example")
        uow.session.add(contact)
        uow.session.flush()
        draft = Draft(to_email=contact.email, subject="Freight", body="Hi\n\nhttps://acme-sales.example/case",
                      contact_id=contact.id, status=DraftStatus.approved)
        uow.session.add(draft)
        uow.session.flush()
        draft_id = draft.id
        uow.commit()
    entry = queue_approved_draft_for_sending(services.uow(), actor=SYSTEM, draft_id=draft_id, mailbox_id=mailbox.id)
    assert pipeline.deliver(services, entry.id, owner="bench").outcome == "sent"
    with services.uow() as uow:
        # Old enough that the opens are not labelled as scanners (the label does not change the cost).
        open_token = uow.session.scalar(select(SendLedgerEntry.open_token))
        click_token = uow.session.scalar(select(TrackedLink.token))
    return services, f"/o/{open_token}.gif", f"/c/{click_token}"


def start(app: str, port: int, env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "public_endpoints/gunicorn_conf.py", "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # ready when a worker answers, not when the master has bound the port
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/o/ready.gif")
            if conn.getresponse().status == 200:
                conn.close()
                time.sleep(2)  # the other workers boot in parallel
                return proc
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{app} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def load_wrk(port: int, path: str, seconds: float) -> tuple[int, float, float]:
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{max(1, round(seconds))}s", "--latency",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, timeout=seconds + 30,
                         check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\n\s+99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{non2xx.group(1)} failed responses on {path}")
    return requests, rps, float(value) * _UNITS[unit]


def load_python(port: int, path: str, seconds: float) -> tuple[int, float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status in (200, 302), response.status
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(8)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    return len(latencies), len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1]


def count_events(services) -> int:  # type: ignore[no-untyped-def]
    with services.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(MessageEvent)) or 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="4 s per run (about 1.5 minutes in all)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of bare and ours, alternating which goes first; medians are reported")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-url", default=None,
                        help="production set-up: Redis list written by the Huey worker (default: embedded)")
    args = parser.parse_args()
    seconds = 4.0 if args.quick else args.seconds
    load = load_wrk if shutil.which("wrk") else load_python

    tmp = Path(tempfile.mkdtemp(prefix="bench-tracking-"))
    settings = sqlite_test_settings(tmp, huey_immediate=False, tracking_flush_seconds=0.5)
    services, pixel, click = seed(settings)
    (tmp / "bare_tracking_app.py").write_text(BARE_APP)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=settings.effective_database_url, DATA_DIR=str(settings.data_dir), ENVIRONMENT="test",
               SECRET_KEY=settings.effective_secret_key, LOG_LEVEL="WARNING", TRACKING_FLUSH_SECONDS="0.5",
               PYTHONPATH=f"{ROOT}{os.pathsep}{tmp}")
    worker: subprocess.Popen[bytes] | None = None
    if args.redis_url:
        key = f"bench:tracking:{os.getpid()}"
        env.update(REDIS_URL=args.redis_url, TRACKING_REDIS_KEY=key)
        worker = subprocess.Popen(
            [sys.executable, "-m", "huey.bin.huey_consumer", "jobs.main.huey", "--workers", "1",
             "--worker-type", "thread"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    apps = {"bare": "bare_tracking_app:app", "ours": "public_endpoints:create_app()"}
    ports = {name: free_port() for name in apps}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    runs: dict[tuple[str, str], list[tuple[int, float, float]]] = {(a, e): [] for a in apps for e in ("pixel", "click")}
    try:
        for name, app in apps.items():
            procs[name] = start(app, ports[name], env, args.workers)
            for path in (pixel, click):  # warm-up: imports, connection pools, caches, the first batches written
                load(ports[name], path, 2.0)
        settle = 2 * settings.tracking_flush_seconds + 0.5  # ours writes what it gathered before the next phase
        time.sleep(settle)
        for round_ in range(args.rounds):
            order = ("bare", "ours") if round_ % 2 == 0 else ("ours", "bare")  # neither side always goes first
            for name in order:
                for endpoint, path in (("pixel", pixel), ("click", click)):
                    runs[(name, endpoint)].append(load(ports[name], path, seconds))
                time.sleep(settle)
        # Exact count: wrk drops its in-flight requests at the deadline, this client finishes them.
        before = count_events(services)
        requests = load_python(ports["ours"], pixel, 1.0)[0] + load_python(ports["ours"], click, 1.0)[0]
        time.sleep(3 * settings.tracking_flush_seconds + 1)  # let every buffer drain
        stored = count_events(services) - before
    finally:
        for proc in procs.values():
            stop(proc)
    if worker is not None:
        stop(worker)
        import redis

        redis.Redis.from_url(args.redis_url).delete(key)
    median = statistics.median
    rps = {k: median(r[1] for r in v) for k, v in runs.items()}
    p99 = {k: median(r[2] for r in v) for k, v in runs.items()}
    ours_rps, bare_rps = rps[("ours", "pixel")] + rps[("ours", "click")], rps[("bare", "pixel")] + rps[("bare", "click")]
    ratio = ours_rps / bare_rps
    p99_ratio = max(p99[("ours", e)] / max(p99[("bare", e)], 1e-3) for e in ("pixel", "click"))
    for (name, endpoint), per in runs.items():
        print(f"{name:5} {endpoint:6} rps={rps[(name, endpoint)]:.0f} p99_ms={p99[(name, endpoint)]:.2f} (medians of "
              f"{len(per)} rounds; p99 per round {[round(r[2], 1) for r in per]})")
    setup = "redis+worker" if args.redis_url else "embedded"
    print(f"stored_events={stored} requests={requests} loader={load.__name__} setup={setup} rounds={args.rounds}")
    print(f"RESULT tracking_endpoints_throughput ratio={ratio:.2f} target=0.7 p99_ratio={p99_ratio:.2f} "
          f"p99_target=2.0 ours_rps={ours_rps:.0f} bare_rps={bare_rps:.0f} "
          f"events_match={'yes' if stored == requests else 'no'} stored={stored} requests={requests} setup={setup}")
    services.dispose()


if __name__ == "__main__":
    main()
