"""The load generator against real HTTP servers on free ports."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask, request
from loadgen import Connection, Feed, closed_loop, encode_request, open_loop, percentile

from fake_common.server import RunningServer, serve_in_thread


@pytest.fixture
def echo() -> Iterator[RunningServer]:
    """A JSON echo app: POST /echo answers the body; GET /slow sleeps 50 ms."""
    app = Flask("echo")

    @app.post("/echo")
    def echo_body():
        return {"got": request.get_json(), "auth": request.headers.get("Authorization")}

    @app.get("/slow")
    def slow():
        time.sleep(0.05)
        return {"ok": True}

    with serve_in_thread(app) as server:
        yield server


def test_a_connection_sends_json_and_reads_the_answer(echo: RunningServer) -> None:
    conn = Connection("127.0.0.1", echo.port)
    request_ = encode_request(
        "127.0.0.1", echo.port, "POST", "/echo", {"amount": 15000}, {"Authorization": "Bearer t"}
    )
    first = conn.send(request_)
    second = conn.send(request_)
    conn.close()
    assert first[0] == second[0] == 200
    assert json.loads(first[1]) == {"got": {"amount": 15000}, "auth": "Bearer t"}


def test_a_connection_the_server_closed_while_idle_is_reopened_once() -> None:
    """A server that answers one request per connection and then hangs up (like keepalive expiry)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    answered = []

    def serve() -> None:
        for _ in range(2):
            sock, _ = listener.accept()
            with sock:
                sock.recv(65536)
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                answered.append(True)
                time.sleep(0.05)  # close after answering, before the client's next request

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    conn = Connection("127.0.0.1", port)
    request_ = encode_request("127.0.0.1", port, "GET", "/")
    assert conn.send(request_) == (200, b"ok")
    time.sleep(0.2)
    assert conn.send(request_) == (200, b"ok")
    conn.close()
    thread.join(timeout=5)
    listener.close()
    assert len(answered) == 2


def test_closed_loop_uses_each_item_once_and_stops_when_they_run_out(echo: RunningServer) -> None:
    items = [encode_request("127.0.0.1", echo.port, "POST", "/echo", {"n": i}) for i in range(40)]
    result = closed_loop(
        "127.0.0.1", echo.port, Feed(items), concurrency=4, duration=30, keep_bodies=True
    )
    assert sorted(json.loads(s.body)["got"]["n"] for s in result.samples) == list(range(40))
    assert result.window < 30
    summary = result.summary()
    assert summary["ok"] == 40 and summary["errors"] == 0
    assert summary["throughput_rps"] > 0


def test_closed_loop_stops_at_the_deadline(echo: RunningServer) -> None:
    slow = encode_request("127.0.0.1", echo.port, "GET", "/slow")
    started = time.perf_counter()
    result = closed_loop("127.0.0.1", echo.port, Feed(repeat=slow), concurrency=2, duration=0.3)
    assert time.perf_counter() - started < 2
    assert 4 <= len(result.samples) <= 16  # 2 clients x about 6 calls of 50 ms


def test_open_loop_keeps_the_rate_and_counts_latency_from_when_each_was_due(
    echo: RunningServer,
) -> None:
    slow = encode_request("127.0.0.1", echo.port, "GET", "/slow")
    result = open_loop("127.0.0.1", echo.port, [slow] * 20, rate=100, clients=1)
    # One client, 50 ms per call, 10 ms apart: the queue grows, and latency says so.
    latencies = sorted(s.latency for s in result.samples)
    assert len(latencies) == 20
    assert latencies[0] >= 0.045
    assert latencies[-1] > 0.5
    paced = open_loop("127.0.0.1", echo.port, [slow] * 20, rate=100, clients=8)
    assert paced.window == pytest.approx(0.24, abs=0.15)
    assert max(s.latency for s in paced.samples) < 0.3


def test_an_unreachable_server_counts_as_errors() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening
        request_ = encode_request("127.0.0.1", port, "GET", "/")
        result = closed_loop("127.0.0.1", port, Feed([request_] * 3), concurrency=1, duration=5)
    assert result.summary()["errors"] == 3
    assert result.statuses() == {"0": 3}


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7
