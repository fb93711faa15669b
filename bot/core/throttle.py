"""A per-person limit against flooding: past it, one "slow down" answer, then silence until it passes."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta
from enum import Enum


class Verdict(Enum):
    """What to do with a message."""

    HANDLE = "handle"
    WARN = "warn"  # the first message over the limit: answer "slow down"
    DROP = "drop"  # further messages over the limit: nothing, the warning was given


class Throttle:
    """Count each person's messages over a sliding minute.

    Kept in memory on purpose: it protects this process from a burst; a restart forgets it, which is
    harmless. Several processes each apply the limit to what they receive.
    """

    def __init__(self, per_minute: int, window: timedelta = timedelta(minutes=1)) -> None:
        self.per_minute = per_minute
        self.window = window
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque[datetime]] = {}
        self._warned: set[tuple[str, str]] = set()

    def check(self, channel: str, user_id: str, now: datetime) -> Verdict:
        """Count one message and say what to do with it."""
        key = (channel, user_id)
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) < self.per_minute:
                times.append(now)
                self._warned.discard(key)
                return Verdict.HANDLE
            if key in self._warned:
                return Verdict.DROP
            self._warned.add(key)
            return Verdict.WARN

    def forget_idle(self, now: datetime) -> None:
        """Drop the counters of people silent for a whole window (bounds the memory)."""
        with self._lock:
            idle = [key for key, times in self._seen.items() if not times or now - times[-1] >= self.window]
            for key in idle:
                del self._seen[key]
                self._warned.discard(key)
