"""Bulk proposals: 100 contacts against a fake OpenAI-compatible model that answers in 300 ms.

ratio = our wall time for `core.ai.bulk.propose_for_contacts` (research for every account, prompts, official-client
calls, constraint checks, scoring, usage rows) over the ideal: contacts × latency ÷ concurrency, the time the model
alone needs at that concurrency. Target: <= 1.3. The fake model runs in its own process, as a real endpoint would,
so the CPU figure (`cpu_s`, all threads of this process) is ours alone. Also measured in the same run: `raw_s`, the
same number of bare official-client calls at the same concurrency (what the environment allows), and the load
average before and after (other work on the machine stretches wall time, not CPU time).

    python benchmarks/bulk_proposals.py [--contacts 100] [--concurrency 10] [--latency 0.3] [--quick]
    python benchmarks/bulk_proposals.py --concurrency 1 --latency 0.001 --profile /tmp/bulk.prof   # cProfile
"""

from __future__ import annotations

import argparse
import cProfile
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import core.models  # noqa: F401  (every table in the metadata)
from core.ai.bulk import propose_for_contacts
from core.ai.schemas import Purpose
from core.ai.tokens import count_tokens
from core.auth.actor import Actor
from core.auth.models import Role, User
from core.config import load_settings
from core.crm import service as contacts
from core.crm.schemas import ContactInput
from core.db import Base
from core.integrations.llm import OpenAICompatibleModel
from core.services import build_services

ROOT = Path(__file__).resolve().parent.parent
INDUSTRIES = ["Logistics", "Software", "Manufacturing", "Healthcare", "Retail"]


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "n/a"


def start_fake_model(latency: float) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.openai_server", "--latency", str(latency)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"fake model did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def raw_client_wall(model: OpenAICompatibleModel, calls: int, concurrency: int) -> float:
    """The same number of bare calls through the same client and pool: the floor this machine allows now."""
    from core.ai.schemas import DraftOutput

    def call(_: int) -> None:
        model.structured(Purpose.drafting, "system", "user", DraftOutput, "email_proposals")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(call, range(calls)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--quick", action="store_true", help="the default sizes already finish in seconds")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the timed run (use --concurrency 1)")
    args = parser.parse_args()

    proc, base_url = start_fake_model(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(_env_file=None, environment="test", data_dir=Path(tmp),
                                     database_url=f"sqlite:///{tmp}/bench.db", redis_url=None,
                                     ai_daily_token_budget=100_000_000, ai_concurrency=args.concurrency)
            model = OpenAICompatibleModel(base_url=base_url, api_key="sk-bench", timeout=10,
                                          max_connections=args.concurrency,
                                          models=dict.fromkeys(Purpose, "gpt-4o-mini"))
            services = build_services(settings, llm=model)
            Base.metadata.create_all(services.engine)
            with services.uow() as uow:
                user = User(email="rep@example.com", name="Riley Rep", roles=[Role.sales_rep.value])
                uow.session.add(user)
                uow.session.flush()
                actor = Actor(user_id=user.id, email=user.email, name=user.name, roles=frozenset(user.roles))
                uow.commit()
            ids = [contacts.create_contact(services.uow(), actor=actor, data=ContactInput(
                email=f"john{i}@company{i % 40}.com", first_name="John", title="VP of Sales",
                industry=INDUSTRIES[i % len(INDUSTRIES)], company_name=f"Company {i % 40}")).id
                for i in range(args.contacts)]
            count_tokens("warm-up")  # loads the bundled vocabulary once per process, as a server does at start
            raw = raw_client_wall(model, args.contacts, args.concurrency)
            calls_before = model.attempts
            load_before = loadavg()
            profiler = cProfile.Profile() if args.profile else None
            cpu_started, started = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            result = propose_for_contacts(services, actor=actor, contact_ids=ids, variants=3,
                                          concurrency=args.concurrency)
            if profiler:
                profiler.disable()
                profiler.dump_stats(str(args.profile))
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            load_after = loadavg()
            calls = model.attempts - calls_before
            services.dispose()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    ideal = args.contacts * args.latency / args.concurrency
    produced = sum(len(p.proposals) for p in result.proposals)
    print(f"RESULT bulk_proposals ratio={wall / ideal:.2f} target=1.3 contacts={args.contacts} "
          f"concurrency={args.concurrency} latency_s={args.latency} wall_s={wall:.2f} ideal_s={ideal:.2f} "
          f"raw_s={raw:.2f} raw_ratio={raw / ideal:.2f} cpu_s={cpu:.2f} cpu_ms_per_contact={1000 * cpu / args.contacts:.1f} "
          f"model_calls={calls} proposals={produced} failures={len(result.failures)} "
          f"load_before={load_before} load_after={load_after}")


if __name__ == "__main__":
    main()
