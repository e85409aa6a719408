"""The unit of work rolls back unless commit() is called, and on error; committed data survives restarts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.crm.models import Company
from core.services import build_services


def _count(services) -> int:
    with services.uow() as uow:
        return uow.session.scalar(select(func.count(Company.id))) or 0


def test_uncommitted_work_is_rolled_back(services):
    with services.uow() as uow:
        uow.session.add(Company(domain="a.com", name="A"))
        uow.flush()
    assert _count(services) == 0


def test_error_inside_the_block_rolls_back(services):
    with pytest.raises(RuntimeError), services.uow() as uow:
        uow.session.add(Company(domain="b.com", name="B"))
        uow.flush()
        raise RuntimeError("boom")
    assert _count(services) == 0


def test_committed_work_is_kept(services):
    with services.uow() as uow:
        uow.session.add(Company(domain="c.com", name="C"))
        uow.commit()
    assert _count(services) == 1


def test_data_survives_a_restart_with_a_new_engine(services, settings):
    with services.uow() as uow:
        uow.session.add(Company(domain="d.com", name="D"))
        uow.commit()
    services.dispose()
    restarted = build_services(settings)
    try:
        assert _count(restarted) == 1
    finally:
        restarted.dispose()


def test_unit_of_work_refuses_use_outside_its_block(services):
    uow = services.uow()
    with pytest.raises(RuntimeError):
        uow.session


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_settings):
    svc = build_services(sqlite_settings)
    with svc.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    svc.dispose()
