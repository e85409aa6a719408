"""The consumer's target, `huey_consumer jobs.main.huey`: imports every task module so all are registered."""

from __future__ import annotations

import jobs.ops  # noqa: F401  (registers the heartbeat task and its start-up hook)
from jobs.huey_app import huey

__all__ = ["huey"]
