"""The Queue page with 10,000 entries, headless (AppTest): a warm rerun (reads served by st.cache_data) against a
cold one (caches cleared, so counts and the page of rows come from the database) in the same run.

ratio = median warm rerun ÷ median cold run. Target: <= 0.1. Also checks that what the cache holds stays small:
the pickled size of each cached read's return value (status counts, one page of 50 rows, …) is printed, and the
run fails if any payload holds more than one page of rows or passes 256 KB (the whole table would be megabytes).

For context it also times the floor: a page that only signs the user in and draws a title, rerun in the same
AppTest set-up. No rerun of the Queue page can be cheaper than that; floor_ratio = floor ÷ cold is the lowest
ratio reachable while the cold reads cost what they do.

    python benchmarks/queue_page.py [--entries 10000] [--runs 7] [--quick]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st
from sqlalchemy import insert
from streamlit.testing.v1 import AppTest

import core.models  # noqa: F401  (every table in the metadata)
from core.auth.models import Role, User
from core.config import load_settings
from core.crm.models import Company, Contact
from core.db import Base, make_engine
from core.queue.models import QueueEntry, QueueStatus, QueueStatusChange
from core.services import build_services
from ui import queue as view
from ui.auth import SESSION_KEY

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "pages" / "Queue.py"
MAX_PAYLOAD = 256 * 1024
STATUSES = [QueueStatus.pending, QueueStatus.ready, QueueStatus.draft_created, QueueStatus.approved,
            QueueStatus.failed]


def seed(data_dir: Path, entries: int) -> int:
    settings = load_settings(_env_file=None, data_dir=data_dir, environment="test", database_url="", redis_url="")
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    services = build_services(settings, engine=engine)
    now = datetime.now(UTC)
    with services.uow() as uow:
        s = uow.session
        user = User(email="rep@example.com", name="Riley Rep", roles=[Role.admin.value])
        s.add(user)
        s.flush()
        s.execute(insert(Company), [{"id": i + 1, "domain": f"company{i}.example.org", "name": f"Company {i}",
                                     "industry": "Logistics", "created_at": now, "updated_at": now}
                                    for i in range(200)])
        s.execute(insert(Contact), [{"id": i + 1, "email": f"person{i}@company{i % 200}.example.org",
                                     "first_name": "Pat", "last_name": f"Doe{i}", "company_id": i % 200 + 1,
                                     "technologies": [], "created_at": now, "updated_at": now}
                                    for i in range(entries)])
        s.execute(insert(QueueEntry), [{"id": i + 1, "contact_id": i + 1, "active_contact_id": i + 1,
                                        "status": STATUSES[i % len(STATUSES)], "priority": i % 3,
                                        "owner_id": user.id, "status_changed_at": now - timedelta(minutes=i % 500),
                                        "created_at": now, "updated_at": now} for i in range(entries)])
        s.execute(insert(QueueStatusChange), [{"entry_id": i + 1, "status": STATUSES[i % len(STATUSES)],
                                               "entered_at": now, "owner_id": user.id} for i in range(entries)])
        user_id = user.id
        uow.commit()
    services.dispose()
    return user_id


def run_page(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"the page failed: {at.exception[0].message}")
    return elapsed


def cached_payloads(services: object, actor: object) -> dict[str, int]:
    """Pickled bytes of what each cached read of the page returns (what st.cache_data stores)."""
    from core.queue.schemas import ContactFilter, QueueQuery

    first_page = view.entries_page(services, actor, QueueQuery(owner_id=actor.user_id, limit=view.PER_PAGE))  # type: ignore[arg-type,attr-defined]
    if len(first_page.items) > view.PER_PAGE:
        raise SystemExit("a cached page holds more than one page of rows")
    return {
        "status_counts": len(pickle.dumps(view.status_counts(services, actor, actor.user_id))),  # type: ignore[arg-type,attr-defined]
        "entries_page": len(pickle.dumps(first_page)),
        "failed_page": len(pickle.dumps(view.entries_page(services, actor, QueueQuery(  # type: ignore[arg-type]
            status=QueueStatus.failed, owner_id=actor.user_id, limit=20)))),  # type: ignore[attr-defined]
        "matching_contacts": len(pickle.dumps(view.matching_contacts(services, actor, ContactFilter(limit=25)))),  # type: ignore[arg-type]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (well under a minute)")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        user_id = seed(data_dir, args.entries)
        for name in ("DATABASE_URL", "REDIS_URL"):
            os.environ[name] = ""
        os.environ.update({"DATA_DIR": str(data_dir), "ENVIRONMENT": "test", "HUEY_IMMEDIATE": "true"})
        at = AppTest.from_file(str(PAGE), default_timeout=60)
        at.session_state[SESSION_KEY] = {"user_id": user_id, "issued_at": datetime.now(UTC).isoformat()}
        run_page(at)  # builds the services (st.cache_resource) and imports: neither side pays for that
        cold, warm = [], []
        for _ in range(runs):
            st.cache_data.clear()
            cold.append(run_page(at))
            warm.append(run_page(at))
        floor_page = Path(tmp) / "floor_page.py"
        floor_page.write_text("import streamlit as st\nfrom ui.runtime import current_actor, start_rerun\n"
                              "current_actor(start_rerun('Queue'))\nst.title('Contact queue')\n")
        floor_at = AppTest.from_file(str(floor_page), default_timeout=60)
        floor_at.session_state[SESSION_KEY] = at.session_state[SESSION_KEY]
        run_page(floor_at)
        floor = [run_page(floor_at) for _ in range(runs)]
        table = next((d.value for d in at.dataframe if "contact" in d.value.columns), None)
        assert table is not None and len(table) == view.PER_PAGE, "the page shows one page of rows"

        from ui.runtime import get_services

        services = get_services()
        from core.auth.login import load_actor

        with services.uow() as uow:
            actor = load_actor(uow, uow.session.get(User, user_id), via="benchmark")
        payloads = cached_payloads(services, actor)
        too_big = {k: v for k, v in payloads.items() if v > MAX_PAYLOAD}
        if too_big:
            raise SystemExit(f"cached payloads too large: {too_big}")
    cold_s, warm_s, floor_s = statistics.median(cold), statistics.median(warm), statistics.median(floor)
    sizes = " ".join(f"{k}_bytes={v}" for k, v in payloads.items())
    print(f"cold runs: {[round(c, 3) for c in cold]}  warm runs: {[round(w, 3) for w in warm]}")
    print(f"RESULT queue_page ratio={warm_s / cold_s:.3f} target=0.1 entries={args.entries} cold_s={cold_s:.3f} "
          f"warm_s={warm_s:.3f} floor_s={floor_s:.3f} floor_ratio={floor_s / cold_s:.3f} {sizes}")


if __name__ == "__main__":
    main()
