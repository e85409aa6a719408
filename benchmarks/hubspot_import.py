"""Full import of contacts from the fake HubSpot enforcing its private-app quota (190 requests per 10 s).

ratio = achieved request rate / quota ceiling (higher is better, `_throughput`); target ≥ 0.9, and no 429
may reach the caller. --quick imports fewer contacts against a 1-second window holding the same rate.
The fake runs in its own process, as HubSpot runs on its own machines: its work does not share our GIL.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.auth.actor import SYSTEM  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.db import Base, make_engine  # noqa: E402
from core.hubspot import sync  # noqa: E402
from core.hubspot.models import JobStatus, ObjectType  # noqa: E402
from core.integrations.hubspot import HubSpotConnector  # noqa: E402
from core.services import build_services  # noqa: E402
from tests.fakes.hubspot import FakeHubSpot  # noqa: E402


def serve(contacts: int, limit: int, window: float, conn: Connection) -> None:
    """The fake HubSpot, seeded, in a child process: sends its URL, then its request log when asked."""
    with FakeHubSpot(max_requests=limit, window_seconds=window) as hub:
        for i in range(contacts):
            hub.seed("contacts", {"email": f"buyer{i}@bench.example", "firstname": "Ann", "lastname": f"B{i}",
                                  "jobtitle": "Head of Ops", "lifecyclestage": "lead"})
        conn.send((hub.base_url, hub.token))
        conn.recv()
        conn.send([status for _, _, status in hub.requests])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--contacts", type=int)
    args = parser.parse_args()
    contacts = args.contacts or (8_000 if args.quick else 100_000)
    limit, window = (19, 1.0) if args.quick else (190, 10.0)
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(contacts, limit, window, theirs),
                                                          daemon=True)
    server.start()
    if not ours.poll(600):
        raise SystemExit("the fake HubSpot did not start")
    base_url, token = ours.recv()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(_env_file=None, environment="test", data_dir=Path(tmp), database_url=None,
                                 redis_url=None)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        services = build_services(settings, engine=engine)
        crm = HubSpotConnector(token, api_base=base_url, rate_limit=(limit, window))
        started = time.monotonic()
        cpu_started = time.process_time()
        job = sync.full_import(services.uow, crm, actor=SYSTEM, object_type=ObjectType.contact)
        elapsed = time.monotonic() - started
        cpu = time.process_time() - cpu_started
        ours.send("report")
        statuses = ours.recv()
        server.join(timeout=10)
        requests = len(statuses)
        surfaced_429 = 0 if job.status is JobStatus.succeeded else 1
        ceiling = limit / window
        achieved = requests / elapsed
        load = os.getloadavg()[0]  # the machine is shared: a busy one lowers the ratio
        print(f"imported={job.records_synced} requests={requests} seconds={elapsed:.1f} cpu_seconds={cpu:.1f} "
              f"achieved_rps={achieved:.2f} ceiling_rps={ceiling:.2f} server_429={statuses.count(429)} "
              f"quota_wait_seconds={crm.limiter.waited:.1f}")
        print(f"RESULT hubspot_import_throughput ratio={achieved / ceiling:.3f} target=0.9 contacts={contacts} "
              f"seconds={elapsed:.1f} requests={requests} surfaced_429={surfaced_429} "
              f"server_429={statuses.count(429)} status={job.status.value} load={load:.2f}")
        services.dispose()

if __name__ == "__main__":
    main()
