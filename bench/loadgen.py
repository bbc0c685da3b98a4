"""A small load generator: keep-alive HTTP/1.1 over plain sockets, closed-loop and open-loop.

requests costs about three times the CPU per call of this client; on a 2-core machine the load
generator's own CPU comes out of the server's share, so the cheaper the client the truer the ceiling.
"""

from __future__ import annotations

import json
import math
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_HEAD = 65536


class ProtocolError(OSError):
    """The server's answer is not an HTTP/1.1 response this client reads."""


def encode_request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """The bytes of one request; body is sent as JSON when given."""
    payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(payload)}"]
    if body is not None:
        lines.append("Content-Type: application/json")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


class _NotAnswered(ConnectionResetError):
    """The connection closed before a single byte of the answer came."""


class Connection:
    """One keep-alive connection; reconnects when the server has closed an idle one."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def connect(self) -> None:
        """Open the socket (done lazily by send)."""
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._buffer = b""

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def send(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and read its response: (status, body)."""
        if self._sock is not None:
            try:
                return self._exchange(request)
            except _NotAnswered:
                self.close()  # the server had closed this idle connection: nothing was processed
            except OSError:
                self.close()
                raise
        self.connect()
        try:
            return self._exchange(request)
        except OSError:
            self.close()
            raise

    def _exchange(self, request: bytes) -> tuple[int, bytes]:
        try:
            self._sock.sendall(request)  # type: ignore[union-attr]
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _NotAnswered(str(exc)) from exc
        return self._read_response()

    def _recv(self) -> bytes:
        chunk = self._sock.recv(65536)  # type: ignore[union-attr]
        if not chunk:
            raise ConnectionResetError("the server closed the connection")
        return chunk

    def _read_response(self) -> tuple[int, bytes]:
        buffer = self._buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            if len(buffer) > MAX_HEAD:
                raise ProtocolError("response head too long")
            try:
                buffer += self._recv()
            except ConnectionResetError as exc:
                if not buffer:
                    raise _NotAnswered(str(exc)) from exc
                raise
        lines = buffer[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ProtocolError(f"not an HTTP response: {lines[0]!r}")
        status = int(parts[1])
        length = 0
        close = parts[0] == "HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                close = value.strip().lower() == "close"
            elif name == "transfer-encoding":
                raise ProtocolError("chunked responses are not supported")
        rest = buffer[end + 4 :]
        while len(rest) < length:
            rest += self._recv()
        self._buffer = rest[length:]
        if close:
            self.close()
        return status, rest[:length]


@dataclass
class Sample:
    """One request: when it was due (open loop) or sent (closed loop), sent, finished, status."""

    due: float
    sent: float
    finished: float
    status: int  # 0: a transport error
    body: bytes = b""

    @property
    def latency(self) -> float:
        """Seconds from due to answered (open loop: includes waiting for a free client)."""
        return self.finished - self.due


@dataclass
class Result:
    """The samples of one phase and the span they cover."""

    samples: list[Sample]
    started: float
    finished: float
    accept: Callable[[Sample], bool] = field(default=lambda s: 200 <= s.status < 300)

    @property
    def window(self) -> float:
        """Seconds from the first send to the last answer."""
        return max(self.finished - self.started, 1e-9)

    @property
    def ok(self) -> list[Sample]:
        """The accepted samples."""
        return [s for s in self.samples if self.accept(s)]

    @property
    def throughput(self) -> float:
        """Accepted answers per second over the window."""
        return len(self.ok) / self.window

    def statuses(self) -> dict[str, int]:
        """How many answers per HTTP status (0 = transport error)."""
        return dict(Counter(str(s.status) for s in self.samples))

    def summary(self) -> dict[str, Any]:
        """Counts, throughput and latency percentiles (ms) of the accepted answers."""
        latencies = sorted(s.latency for s in self.ok)
        lags = sorted(s.sent - s.due for s in self.samples)
        return {
            "requests": len(self.samples),
            "ok": len(latencies),
            "errors": len(self.samples) - len(latencies),
            "statuses": self.statuses(),
            "window_s": round(self.window, 3),
            "throughput_rps": round(self.throughput, 1),
            "latency_ms": {
                name: round(percentile(latencies, p) * 1000, 2)
                for name, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
            },
            "max_send_lag_ms": round((lags[-1] if lags else 0.0) * 1000, 2),
        }


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending sequence (nan when empty)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class Feed:
    """A thread-safe supply of requests: a list used once each, or one request forever."""

    def __init__(self, items: Sequence[bytes] | None = None, repeat: bytes | None = None) -> None:
        if (items is None) == (repeat is None):
            raise ValueError("give items or repeat")
        self._items = list(items or [])
        self._repeat = repeat
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> bytes | None:
        """The next request, or None when the list is used up."""
        if self._repeat is not None:
            return self._repeat
        with self._lock:
            if self._next >= len(self._items):
                return None
            self._next += 1
            return self._items[self._next - 1]

    @property
    def used(self) -> int:
        """How many list items were handed out."""
        return self._next


def closed_loop(
    host: str,
    port: int,
    feed: Feed,
    *,
    concurrency: int,
    duration: float,
    keep_bodies: bool = False,
) -> Result:
    """concurrency clients each send the next request as soon as the last is answered."""
    samples: list[list[Sample]] = [[] for _ in range(concurrency)]
    clock: dict[str, float] = {}

    def start_clock() -> None:
        clock["started"] = time.perf_counter()
        clock["deadline"] = clock["started"] + duration

    ready = threading.Barrier(concurrency + 1, action=start_clock)

    def client(index: int) -> None:
        conn = Connection(host, port)
        mine = samples[index]
        try:
            try:
                conn.connect()
            except OSError:
                pass  # each send tries again and counts the failure
            finally:
                ready.wait()
            deadline = clock["deadline"]
            # Every request taken is sent, so the ones sent are the feed's first len(samples).
            while time.perf_counter() < deadline and (request := feed.take()) is not None:
                sent = time.perf_counter()
                try:
                    status, body = conn.send(request)
                except OSError:
                    status, body = 0, b""
                finished = time.perf_counter()
                mine.append(Sample(sent, sent, finished, status, body if keep_bodies else b""))
        finally:
            conn.close()

    threads = [
        threading.Thread(target=client, args=(i,), name=f"load-{i}", daemon=True)
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    ready.wait()
    started = clock["started"]
    for thread in threads:
        thread.join()
    flat = [s for per_client in samples for s in per_client]
    finished = max((s.finished for s in flat), default=started)
    return Result(flat, started, finished)


def open_loop(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    rate: float,
    clients: int,
    keep_bodies: bool = False,
) -> Result:
    """Send requests at a fixed rate whatever the answers do; latency counts from when each was due."""
    backlog: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()
    samples: list[list[Sample]] = [[] for _ in range(clients)]
    ready = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        # Connect on the first request, not before: gunicorn's gthread worker gives a new
        # connection a thread that waits (up to 5 s) for its first request, so idle
        # pre-opened connections would starve the requests on the others.
        conn = Connection(host, port)
        mine = samples[index]
        try:
            ready.wait()
            while (item := backlog.get()) is not None:
                due, request = item
                sent = time.perf_counter()
                try:
                    status, body = conn.send(request)
                except OSError:
                    status, body = 0, b""
                mine.append(
                    Sample(due, sent, time.perf_counter(), status, body if keep_bodies else b"")
                )
        finally:
            conn.close()

    threads = [
        threading.Thread(target=client, args=(i,), name=f"paced-{i}", daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter() + 0.01
    try:
        for i, request in enumerate(requests):
            due = started + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            backlog.put((due, request))
    finally:
        for _ in threads:
            backlog.put(None)
        for thread in threads:
            thread.join()
    flat = [s for per_client in samples for s in per_client]
    finished = max((s.finished for s in flat), default=started)
    return Result(flat, started, finished)
