"""Seed 6.2/6.3: 1,000 messages through SMTP to an aiosmtpd sink while the real worker is SIGKILLed and
restarted at random moments; the sink ends up with each message exactly once and every ledger row sent."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import func, select

from core.auth.actor import Actor
from core.auth.models import Role, User
from core.content.models import Draft, DraftStatus
from core.crm.models import Contact
from core.db import Base, make_engine
from core.mail import ledger
from core.mail.mailboxes import create_mailbox
from core.mail.models import SendLedgerEntry, SendStatus
from core.services import Services, build_services
from tests.conftest import sqlite_test_settings
from tests.fakes.smtp_sink import SmtpSink
from tests.unit.mail.conftest import smtp_mailbox_input

ROOT = Path(__file__).resolve().parents[2]
BATCH = 1000
LEASE_SECONDS = 6


def seed_batch(services: Services, port: int) -> list[int]:
    with services.uow() as uow:
        user = User(email="admin@example.com", name="Ada", roles=[Role.admin.value])
        uow.session.add(user)
        uow.session.flush()
        admin = Actor(user_id=user.id, email=user.email, roles=frozenset(user.roles))
        contacts = [Contact(email=f"buyer{n}@northwind-{n % 17}.example") for n in range(BATCH)]
        uow.session.add_all(contacts)
        uow.session.flush()
        drafts = [Draft(to_email=c.email, subject=f"Freight costs at Northwind {n}", contact_id=c.id,
                        body=f"Hi,\n\nA short note {n}: https://acme-sales.example/case\n\nBest",
                        status=DraftStatus.approved, approved_by_id=user.id)
                  for n, c in enumerate(contacts)]
        uow.session.add_all(drafts)
        uow.session.flush()
        draft_ids = [d.id for d in drafts]
        uow.commit()
    create_mailbox(services.uow(), actor=admin, settings=services.settings, data=smtp_mailbox_input(port))
    return [ledger.queue_approved_draft_for_sending(services.uow(), actor=admin, draft_id=d).id for d in draft_ids]


def counts(services: Services) -> dict[str, int]:
    with services.uow() as uow:
        rows = uow.session.execute(select(SendLedgerEntry.status, func.count()).group_by(SendLedgerEntry.status))
        return {status.value: n for status, n in rows}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "huey.bin.huey_consumer", "jobs.main.huey", "-w", "2", "-k", "process", "-d", "0.05"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def kill(worker: subprocess.Popen[bytes]) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@pytest.mark.slow
def test_batch_survives_sigkilled_workers_with_no_duplicate(tmp_path: Path, jobs: ModuleType) -> None:
    from jobs import huey_app, sending

    settings = sqlite_test_settings(tmp_path, huey_immediate=False, send_lease_seconds=LEASE_SECONDS)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    services = build_services(settings, engine=engine)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=settings.effective_database_url, DATA_DIR=str(settings.data_dir), ENVIRONMENT="test",
               SECRET_KEY=settings.effective_secret_key, SEND_LEASE_SECONDS=str(LEASE_SECONDS),
               HUEY_IMMEDIATE="false", LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    rng = random.Random(6)
    log = tmp_path / "worker.log"
    with SmtpSink() as sink, huey_app.running_against(services, huey_app.make_huey(settings)):
        entry_ids = seed_batch(services, sink.port)
        for entry_id in entry_ids:
            sending.send_ledger_entry(entry_id)
        kills = 0
        worker = start_worker(env, log)
        try:
            for _ in range(int(os.environ.get("KILLS", "6"))):  # SIGKILL at random moments while the batch is flowing
                time.sleep(rng.uniform(0.4, 1.6))
                kill(worker)
                kills += 1
                worker = start_worker(env, log)
            deadline = time.monotonic() + 150
            reviewed = 0
            while time.monotonic() < deadline:
                now = datetime.now(UTC)
                swept = ledger.sweep_send_ledger(services.uow(), now=now, pending_grace=timedelta(seconds=45))
                for entry_id in swept.to_send:
                    sending.send_ledger_entry(entry_id)
                # SMTP has no search: the sink plays the mailbox a person checks before settling "unknown".
                delivered = set(sink.handler.message_ids())
                settled_before = datetime.now(UTC) - ledger.unknown_settle(settings)
                with services.uow() as uow:
                    unknown = list(uow.session.execute(select(SendLedgerEntry.id, SendLedgerEntry.message_id).where(
                        SendLedgerEntry.status == SendStatus.unknown, SendLedgerEntry.updated_at < settled_before)))
                admin = Actor(user_id=1, email="admin@example.com", roles=frozenset({"admin"}))
                for entry_id, message_id in unknown:
                    ledger.review_unknown_send(services.uow(), actor=admin, settings=settings, entry_id=entry_id,
                                               delivered=message_id in delivered)
                    reviewed += 1
                    if message_id not in delivered:
                        sending.send_ledger_entry(entry_id)
                if counts(services) == {"sent": BATCH}:
                    break
                time.sleep(1)
        finally:
            kill(worker)
        final = counts(services)
        ids = sink.handler.message_ids()
        with services.uow() as uow:
            expected = set(uow.session.scalars(select(SendLedgerEntry.message_id)))
    print(f"\nexactly-once: {BATCH} messages, {kills} SIGKILLs, {reviewed} unknown outcomes settled, "
          f"{len(ids)} in sink, duplicates={len(ids) - len(set(ids))}")
    assert sink.handler.duplicates() == {}
    assert final == {"sent": BATCH}, final
    assert set(ids) == expected and len(ids) == BATCH
    services.dispose()
