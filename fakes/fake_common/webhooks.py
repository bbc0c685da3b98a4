"""Background webhook delivery with fake-clock retries, fault actions and a log of every attempt."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

import requests

from fake_common.clock import Clock
from fake_common.faults import FaultRules

PUBLIC_FIELDS = (
    "id",
    "url",
    "body",
    "headers",
    "created_at",
    "attempts",
    "delivered",
    "pending_retry_at",
    "state",
    "fault",
    "duplicate_of",
)


# A webhook's extra headers: fixed, or made per attempt from the number of retries before it.
Headers = Mapping[str, str] | Callable[[int], Mapping[str, str]]


def _default_success(status: int) -> bool:
    return 200 <= status < 300


def _headers_for(headers: Headers | None, retry_count: int) -> dict:
    if callable(headers):
        return dict(headers(retry_count))
    return dict(headers or {})


class WebhookSender:
    """Sends JSON webhooks from one background thread, in order, retrying on the fake clock.

    Retry offsets are measured from the first attempt: retry_delays=(60, 240) retries at
    first+60 s and first+240 s of fake-clock time. Due retries run when the clock is advanced
    or set, and when real time reaches them (checked every poll_interval seconds). Headers may
    be a function of the retry count (0 on the first attempt), called just before each attempt.
    """

    def __init__(
        self,
        clock: Clock,
        faults: FaultRules,
        *,
        timeout: float = 5.0,
        poll_interval: float = 0.5,
        user_agent: str = "fake-gateway-webhook/1.0",
    ) -> None:
        self._clock = clock
        self._faults = faults
        self._timeout = timeout
        self._poll_interval = poll_interval
        self._user_agent = user_agent
        self._cond = threading.Condition()
        self._entries: dict[str, dict] = {}
        self._queue: deque[str] = deque()
        self._held: list[str] = []
        self._in_flight = 0
        self._delayed = 0
        self._generation = 0
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._closed = False
        clock.subscribe(self._enqueue_due)

    def send(
        self,
        url: str,
        body: dict,
        headers: Headers | None = None,
        retry_delays: Sequence[float] = (),
        success: Callable[[int], bool] = _default_success,
        retry_on: Callable[[int | None], bool] | None = None,
    ) -> str:
        """Queue a webhook for delivery in the background and return its id.

        retry_on(status) (None: no answer) says whether a failed attempt is retried; by default
        every failed attempt is, while retry_delays last.
        """
        action = self._faults.webhook_action(url)
        kind = action["action"] if action else None
        with self._cond:
            entry = self._new_entry(url, body, headers, retry_delays, success, kind)
            entry["_retry_on"] = retry_on
            if kind == "drop":
                entry["state"] = "dropped"
                return entry["id"]
            if kind == "reorder":
                entry["state"] = "held"
                self._held.append(entry["id"])
                return entry["id"]
            if kind == "delay":
                entry["state"] = "delayed"
                self._delayed += 1
                timer = threading.Timer(
                    action["delay_seconds"], self._release_delayed, (entry["id"], self._generation)
                )
                timer.daemon = True
                timer.start()
            else:
                self._queue.append(entry["id"])
            if kind == "duplicate":
                copy = self._new_entry(url, body, headers, retry_delays, success, "duplicate")
                copy["_retry_on"] = retry_on
                copy["duplicate_of"] = entry["id"]
                self._queue.append(copy["id"])
            # A held (reordered) webhook goes out right after the next one.
            self._queue.extend(self._held)
            for held_id in self._held:
                self._entries[held_id]["state"] = "pending"
            self._held.clear()
            self._start()
            self._cond.notify_all()
            return entry["id"]

    def log(self) -> list[dict]:
        """Return every webhook sent (or dropped/held), oldest first, with each attempt."""
        with self._cond:
            return [self._public(e) for e in self._entries.values()]

    def get(self, webhook_id: str) -> dict | None:
        """Return one webhook's log entry."""
        with self._cond:
            entry = self._entries.get(webhook_id)
            return self._public(entry) if entry else None

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued, in flight, delayed or due; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self._enqueue_due()
            with self._cond:
                if not self._queue and not self._in_flight and not self._delayed:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))

    def reset(self) -> None:
        """Forget every webhook; anything in flight is discarded."""
        with self._cond:
            self._generation += 1
            self._entries.clear()
            self._queue.clear()
            self._held.clear()
            self._delayed = 0
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the delivery thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout + 1)

    def _new_entry(self, url, body, headers, retry_delays, success, fault) -> dict:
        entry = {
            "id": f"wh_{next(self._ids)}",
            "url": url,
            "body": body,
            "headers": _headers_for(headers, 0),  # then those of the latest attempt
            "created_at": self._clock.now(),
            "attempts": [],
            "delivered": False,
            "pending_retry_at": None,
            "state": "pending",
            "fault": fault,
            "duplicate_of": None,
            "_headers": headers,
            "_retry_delays": [float(d) for d in retry_delays],
            "_success": success,
            "_first_at": None,
        }
        self._entries[entry["id"]] = entry
        return entry

    @staticmethod
    def _public(entry: dict) -> dict:
        out = {k: entry[k] for k in PUBLIC_FIELDS}
        out["attempts"] = [dict(a) for a in entry["attempts"]]
        out["headers"] = dict(entry["headers"])
        return out

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
            self._thread.start()

    def _release_delayed(self, webhook_id: str, generation: int) -> None:
        with self._cond:
            if generation != self._generation:
                return
            self._delayed -= 1
            if webhook_id in self._entries:
                self._entries[webhook_id]["state"] = "pending"
                self._queue.append(webhook_id)
            self._start()
            self._cond.notify_all()

    def _enqueue_due(self) -> None:
        now = self._clock.now()
        with self._cond:
            due = [
                e
                for e in self._entries.values()
                if e["pending_retry_at"] is not None and e["pending_retry_at"] <= now
            ]
            for entry in due:
                entry["pending_retry_at"] = None
                entry["state"] = "pending"
                self._queue.append(entry["id"])
            if due:
                self._start()
                self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                if not self._queue:
                    waiting = any(e["pending_retry_at"] is not None for e in self._entries.values())
                    self._cond.wait(self._poll_interval if waiting else None)
                    entry = None
                else:
                    webhook_id = self._queue.popleft()
                    entry = self._entries.get(webhook_id)
                    if entry is not None:
                        generation = self._generation
                        self._in_flight += 1
                        url, body = entry["url"], entry["body"]
                        headers, retry_count = entry["_headers"], len(entry["attempts"])
            if entry is None:
                # Real time passes too: retries fall due without any clock call.
                self._enqueue_due()
                continue
            attempt = None
            try:
                sent_headers = _headers_for(headers, retry_count)
                attempt = self._attempt(url, body, sent_headers)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    current = generation == self._generation and webhook_id in self._entries
                    if attempt is not None and current:
                        entry["headers"] = sent_headers
                        self._record(entry, attempt)
                    self._cond.notify_all()

    def _attempt(self, url: str, body: dict, headers: dict) -> dict:
        at = self._clock.now()
        data = json.dumps(body, ensure_ascii=False).encode()
        sent_headers = {"Content-Type": "application/json", "User-Agent": self._user_agent}
        sent_headers.update(headers)
        try:
            response = requests.post(url, data=data, headers=sent_headers, timeout=self._timeout)
        except Exception as exc:  # any failure to deliver is an attempt that failed
            return {"at": at, "status": None, "error": f"{type(exc).__name__}: {exc}"}
        return {"at": at, "status": response.status_code, "error": None}

    def _record(self, entry: dict, attempt: dict) -> None:
        entry["attempts"].append(attempt)
        if entry["_first_at"] is None:
            entry["_first_at"] = attempt["at"]
        status = attempt["status"]
        if status is not None and entry["_success"](status):
            entry["delivered"] = True
            entry["state"] = "delivered"
            entry["pending_retry_at"] = None
            return
        retries_done = len(entry["attempts"]) - 1
        delays = entry["_retry_delays"]
        retry_on = entry.get("_retry_on")
        if retry_on is not None and not retry_on(status):
            entry["state"] = "failed"
        elif retries_done < len(delays):
            entry["pending_retry_at"] = entry["_first_at"] + delays[retries_done]
            entry["state"] = "retrying"
        else:
            entry["state"] = "failed"
