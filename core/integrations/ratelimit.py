"""Client-side request budgets, so we stay under a vendor's limit instead of discovering it through 429s."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RollingWindowLimiter:
    """At most ``limit`` requests in any ``seconds`` window: the way HubSpot counts its 10-second quota.

    A plain token bucket would allow a full burst and then a full refill inside one window, which HubSpot's
    rolling counter answers with 429; this keeps the requests themselves and waits for the oldest to age out.
    A request counts from when its answer came back (``done``), not from when it left: the server saw it at
    some moment in between, so a slow network or a busy machine cannot squeeze two windows' worth together.
    ``margin`` pads the window for clock differences between us and the server.
    """

    def __init__(self, limit: int, seconds: float, *, margin: float = 0.05,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if limit < 1 or seconds <= 0:
            raise ValueError("limit and seconds must be positive")
        self.limit = limit
        self.seconds = seconds + margin
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[list[float]] = deque()  # [answered at], oldest first; inf while in flight
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0  # total seconds spent waiting, for the benchmark and the job log

    def acquire(self) -> list[float]:
        """Block until one more request fits in the window, then count it; pass the result to ``done``."""
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0][0] >= self.seconds:
                    self._sent.popleft()
                wait = self._paused_until - now
                if wait <= 0 and len(self._sent) < self.limit:
                    slot = [math.inf]
                    self._sent.append(slot)
                    return slot
                if wait <= 0:
                    oldest = self._sent[0][0]
                    wait = 0.01 if oldest == math.inf else self.seconds - (now - oldest)
            self.waited += wait
            self._sleep(max(wait, 0.0005))

    def done(self, slot: list[float]) -> None:
        """The request of ``slot`` was answered (or failed): its place in the window ages from now."""
        with self._lock:
            slot[0] = self._clock()

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (the vendor said 429 and how long to wait)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
