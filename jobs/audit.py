"""Daily retention: audit rows past AUDIT_RETENTION_DAYS, old activity, login attempts and dead tokens."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab

from core.activity.service import prune_activity
from core.audit.log import purge_audit
from core.auth.actor import SYSTEM
from core.auth.login import prune_login_attempts
from core.auth.tokens import prune_tokens
from core.logging import get_logger
from jobs import huey_app
from jobs.huey_app import huey

log = get_logger(__name__)


def apply_retention() -> dict[str, int]:
    svc = huey_app.services()
    settings, now = svc.settings, svc.clock()
    counts = {
        "audit": purge_audit(svc.uow(), actor=SYSTEM, retention_days=settings.audit_retention_days, now=now),
        "activity": prune_activity(svc.uow(), older_than=timedelta(days=settings.activity_retention_days), now=now),
        # Locks last minutes; a day of attempts is plenty for investigating an attack.
        "login_attempts": prune_login_attempts(svc.uow(), older_than=now - timedelta(days=1)),
        "tokens": prune_tokens(svc.uow(), now=now),
    }
    log.info("retention applied", **counts)
    return counts


@huey.periodic_task(crontab(minute="17", hour="3"), name="audit-retention")
@huey.lock_task("audit-retention")
def audit_retention() -> dict[str, int]:
    """Every night at 03:17: apply the retention periods."""
    return apply_retention()
