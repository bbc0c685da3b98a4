"""Zero-downtime update: gunicorn reloads its workers on HUP while requests keep flowing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

BACKEND = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find gunicorn's workers")
def test_two_graceful_reloads_fail_no_request(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PAYMENT_MODE": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'reload.sqlite3'}",
        "PAYMENT_INSTANCE_PATH": str(tmp_path),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_ACCESS_LOG": "/dev/null",
    }
    subprocess.run(
        [BIN / "flask", "--app", "payment_backend", "db", "upgrade"],
        cwd=BACKEND,
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [BIN / "gunicorn", "--config", "gunicorn.conf.py", "payment_backend:create_app()"],
        cwd=BACKEND,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            try:
                return requests.get(f"{url}/monitors/health", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        _wait(healthy, 30, "gunicorn to answer")
        outcomes: list[int | str] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                try:
                    # One connection per request, as behind a load balancer that retries nothing
                    # and waits as long as gunicorn's own worker timeout (30 s): a new worker
                    # importing the app on a busy machine is slow, not failing.
                    response = requests.get(
                        f"{url}/api/checkout/config", headers={"Connection": "close"}, timeout=30
                    )
                    outcomes.append(response.status_code)
                except requests.RequestException as exc:
                    outcomes.append(type(exc).__name__)

        clients = [threading.Thread(target=load) for _ in range(4)]
        for client in clients:
            client.start()
        for _ in range(2):
            before = _children(server.pid)
            assert len(before) == 2
            sent = len(outcomes)
            server.send_signal(signal.SIGHUP)
            _wait(
                lambda before=before: (
                    len(_children(server.pid)) == 2 and not _children(server.pid) & before
                ),
                30,
                "the workers to be replaced",
            )
            _wait(lambda sent=sent: len(outcomes) > sent + 20, 10, "requests after the reload")
        stop.set()
        for client in clients:
            client.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    failures = [o for o in outcomes if o != 200]
    assert len(outcomes) > 50
    assert failures == []
