"""The nightly retention job deletes audit rows older than AUDIT_RETENTION_DAYS and keeps the rest."""

from __future__ import annotations

from datetime import timedelta
from types import ModuleType

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.auth.actor import Actor
from core.services import Services
from tests import factories


def test_retention_job_purges_only_rows_past_the_period(jobs: ModuleType, services: Services, admin: Actor) -> None:
    from jobs import audit, huey_app

    old = factories.contact(services, admin)
    with services.uow() as uow:
        for entry in uow.session.scalars(select(AuditEntry)):
            entry.at = services.clock() - timedelta(days=services.settings.audit_retention_days + 1)
        uow.commit()
    factories.contact(services, admin)
    with huey_app.running_against(services, huey_app.make_huey(services.settings)):
        audit.audit_retention()
    with services.uow() as uow:
        rows = [(r.action, r.resource_type, r.resource_id) for r in uow.session.scalars(select(AuditEntry))]
    assert ("create", "contact", str(old.id)) not in rows
    assert {action for action, _, _ in rows} == {"create", "purge"}
