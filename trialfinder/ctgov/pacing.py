"""Polite pacing of request starts: a minimum spacing and a per-minute cap (pitfall 9)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class Pacer:
    """At most `per_minute` request starts in any 60 s window, spaced at least 60/rate apart.

    The spacing honours robots.txt's 1-second crawl delay at the default rate (pitfall 9);
    the window makes the limit hold even when a caller sleeps less than asked. Thread-safe, so
    one pacer can serve several threads fetching at once.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = per_minute
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until another request may start, then record its start."""
        with self._lock:
            now = self._clock()
            delay = 0.0
            if self._starts:
                delay = max(delay, self._starts[-1] + self.interval - now)
            window = int(self.per_minute)
            while self._starts and self._starts[0] <= now - 60.0:
                self._starts.popleft()
            if window >= 1 and len(self._starts) >= window:
                delay = max(delay, self._starts[-window] + 60.0 - now)
            if delay > 0:
                self._sleep(delay)
            self._starts.append(self._clock())
