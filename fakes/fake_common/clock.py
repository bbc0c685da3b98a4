"""A settable, advanceable clock shared by a fake's API, schedules and webhook retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    """Real time plus an offset that tests move forward (or set) through the control API."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._subscribers: list[Callable[[], None]] = []

    def now(self) -> float:
        """Return the fake time in unix seconds."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by seconds and run due work."""
        with self._lock:
            self._offset += float(seconds)
        self._notify()

    def set(self, now: float) -> None:
        """Set the clock to the unix time now and run due work."""
        with self._lock:
            self._offset = float(now) - time.time()
        self._notify()

    def set_offset(self, offset: float) -> None:
        """Set how far the clock is from real time (negative or zero too) and run due work."""
        with self._lock:
            self._offset = float(offset)
        self._notify()

    def reset(self) -> None:
        """Return to real time (without running anything)."""
        with self._lock:
            self._offset = 0.0

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call callback after every advance or set, in the caller's thread."""
        with self._lock:
            self._subscribers.append(callback)

    def _notify(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback()

    def to_dict(self) -> dict:
        """Return the clock's state for the control API."""
        now = self.now()
        return {
            "now": now,
            "offset": self._offset,
            "iso": datetime.fromtimestamp(now, UTC).isoformat(),
        }
