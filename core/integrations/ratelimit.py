"""Client-side request budgets, so we stay under a vendor's limit instead of discovering it through 429s."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RollingWindowLimiter:
    """At most ``limit`` requests in any ``seconds`` window: the way HubSpot counts its 10-second quota.

    A plain token bucket would allow a full burst and then a full refill inside one window, which HubSpot's
    rolling counter answers with 429; this keeps the send times themselves and waits for the oldest to age out.
    ``margin`` pads the window for clock and network jitter between us and the server.
    """

    def __init__(self, limit: int, seconds: float, *, margin: float = 0.05,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if limit < 1 or seconds <= 0:
            raise ValueError("limit and seconds must be positive")
        self.limit = limit
        self.seconds = seconds + margin
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0  # total seconds spent waiting, for the benchmark and the job log

    def acquire(self) -> None:
        """Block until one more request fits in the window, then count it."""
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.seconds:
                    self._sent.popleft()
                wait = self._paused_until - now
                if wait <= 0 and len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                if wait <= 0:
                    wait = self.seconds - (now - self._sent[0])
            self.waited += wait
            self._sleep(max(wait, 0.0005))

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (the vendor said 429 and how long to wait)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
