"""The consumer's target, `huey_consumer jobs.main.huey`: imports every task module so all are registered."""

from __future__ import annotations

import jobs.ops  # noqa: F401  (registers the heartbeat task and its start-up hook)
from jobs import (
    audit,  # noqa: F401  (nightly audit and activity retention)
    gmail,  # noqa: F401  (Gmail history sync from pushes, watch renewal and polling)
    hubspot,  # noqa: F401  (webhook events, sync runs, the poller)
    queue,  # noqa: F401  (contact-queue research and proposal batches, queue sweeper)
    sending,  # noqa: F401  (send ledger tasks, sweeper)
    tracking,  # noqa: F401  (writes the pixel and click events waiting in Redis)
)
from jobs.huey_app import huey

__all__ = ["huey"]
