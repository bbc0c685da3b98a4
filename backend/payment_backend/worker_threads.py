"""What the threads of one worker process share: one lease keeper for the jobs they run, the
way they wait when nothing is due, and enough database connections for all of them."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import Engine, func, update
from sqlalchemy.pool import QueuePool

from payment_backend.models import OutboxJob

log = logging.getLogger(__name__)


class Leases:
    """Renews the leases of the jobs this process runs, from one thread for all of them
    (PostgreSQL only: SQLite runs one worker, and a second writer there would
    only wait for the job's transaction).

    A tick comes every third of the shortest lease held, so every lease is renewed at least
    twice before it would run out, however the job's start falls between ticks.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._held: dict[int, timedelta] = {}
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def holding(self, job_id: int, lease: timedelta) -> Iterator[None]:
        """Keep job_id's lease renewed while the block runs."""
        with self._changed:
            self._held[job_id] = lease
            if self._thread is None:
                self._thread = threading.Thread(target=self._renew, name="leases", daemon=True)
                self._thread.start()
            self._changed.notify()
        try:
            yield
        finally:
            with self._changed:
                self._held.pop(job_id, None)

    def _renew(self) -> None:
        while True:
            held = self._next_tick()
            if not held:
                continue
            try:
                self._extend(held)
            except Exception:  # the next tick tries again; the lease is long enough for that
                log.warning("leases of jobs %s not renewed", sorted(held), exc_info=True)

    def _next_tick(self) -> dict[int, timedelta]:
        """Wait for the next tick (a third of the shortest lease held); the leases held then."""
        with self._changed:
            while not self._held:
                self._changed.wait()
            started = time.monotonic()
            while self._held:
                every = min(self._held.values()).total_seconds() / 3
                remaining = started + every - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)  # a job with a shorter lease may come meanwhile
            return dict(self._held)

    def _extend(self, held: dict[int, timedelta]) -> None:
        # One job per transaction: a transaction holding one job's row while waiting for
        # another's could close a cycle with the jobs' own transactions.
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for job_id, lease in held.items():
                conn.execute(
                    update(OutboxJob)
                    .where(OutboxJob.id == job_id, OutboxJob.leased_until.is_not(None))
                    .values(leased_until=func.now() + lease)
                )


_leases: dict[Engine, Leases] = {}
_leases_lock = threading.Lock()


def leases(engine: Engine) -> Leases:
    """The lease keeper of this process for engine's database."""
    with _leases_lock:
        keeper = _leases.get(engine)
        if keeper is None:
            keeper = _leases[engine] = Leases(engine)
        return keeper


class Idle:
    """How the threads of one worker wait when no job is due: the first polls every interval;
    the others sleep until a thread that claimed a job wakes one of them (there may be more
    due), or for `threads` intervals. An idle worker so polls about twice per interval however
    many threads it has, and a burst of due jobs wakes its threads one claim after another."""

    def __init__(self, interval: float, threads: int, stop: threading.Event) -> None:
        self._interval = interval
        self._threads = threads
        self._stop = stop
        self._changed = threading.Condition()

    def claimed(self) -> None:
        """A thread claimed a job: wake one sleeping thread to look for the next."""
        with self._changed:
            self._changed.notify()

    def wait(self, index: int) -> None:
        """Thread index found nothing due: sleep until woken or its next poll."""
        timeout = self._interval if index == 0 else self._interval * self._threads
        with self._changed:
            if not self._stop.is_set():
                self._changed.wait(timeout)

    def wake_all(self) -> None:
        """Every sleeping thread wakes (to see that the worker stops)."""
        with self._changed:
            self._changed.notify_all()


def fit_pool(engine: Engine, threads: int) -> None:
    """Give each of threads a connection, and the lease keeper one: a smaller QueuePool is
    replaced by a larger one with the same settings and events (as QueuePool.recreate does)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return
    needed = threads + 1
    overflow = pool._max_overflow  # noqa: SLF001
    if overflow < 0 or pool.size() + overflow >= needed:  # below 0: no limit
        return
    engine.pool = QueuePool(
        pool._creator,  # noqa: SLF001
        pool_size=needed,
        max_overflow=overflow,
        pre_ping=pool._pre_ping,  # noqa: SLF001
        timeout=pool._timeout,  # noqa: SLF001
        recycle=pool._recycle,  # noqa: SLF001
        echo=pool.echo,
        reset_on_return=pool._reset_on_return,  # noqa: SLF001
        _dispatch=pool.dispatch,
        dialect=pool._dialect,  # noqa: SLF001
    )
    pool.dispose()
