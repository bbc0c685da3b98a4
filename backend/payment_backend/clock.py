"""One injectable clock: wall time plus an offset that local and test mode can move."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app


class Clock:
    """Wall-clock time shifted by an adjustable offset."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current (possibly shifted) time, aware UTC."""
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, moment: datetime) -> datetime:
        """Jump to a moment."""
        with self._lock:
            self._offset = moment - datetime.now(UTC)
        return self.now()

    def reset(self) -> datetime:
        """Back to wall-clock time."""
        with self._lock:
            self._offset = timedelta()
        return self.now()


def register_clock(app: Flask) -> None:
    """Give the app its clock."""
    app.extensions["clock"] = Clock()


def clock() -> Clock:
    """The app's clock."""
    return current_app.extensions["clock"]


def now() -> datetime:
    """The app clock's current time."""
    return clock().now()
