"""Fixtures for reliability tests: the backend and the worker as real processes, to be killed."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

BACKEND = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_env(app: Flask, **extra: str) -> dict[str, str]:
    """The environment of a process that shares app's database, secrets and gateways."""
    config = app.config
    return {
        **os.environ,
        "PAYMENT_MODE": "test",
        "DATABASE_URL": config["DATABASE_URL"],
        # The same instance folder: the same generated secrets (sealed rows stay readable).
        "PAYMENT_INSTANCE_PATH": config["INSTANCE_PATH"],
        "IAMPORT_API_URL": config["IAMPORT_API_URL"],
        "TOSS_API_URL": config["TOSS_API_URL"],
        "PORTONE_API_URL": config["PORTONE_API_URL"],
        "RATELIMIT_ENABLED": "false",
        "LOG_FORMAT": "text",
        **extra,
    }


class Served:
    """A backend process serving over HTTP; kill() is SIGKILL, as a crash."""

    def __init__(self, process: subprocess.Popen, url: str) -> None:
        self.process = process
        self.url = url

    def kill(self) -> None:
        """SIGKILL the whole process group (gunicorn's workers too)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture()
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """serve(app, gunicorn=False, **env): the app's database served by a process of its own."""
    started: list[Served] = []

    def start(app: Flask, *, gunicorn: bool = False, **extra: str) -> Served:
        port = free_port()
        env = process_env(app, **extra)
        if gunicorn:
            env.update(
                GUNICORN_BIND=f"127.0.0.1:{port}",
                GUNICORN_ACCESS_LOG="/dev/null",
            )
            command = [
                str(BIN / "gunicorn"),
                "--config",
                "gunicorn.conf.py",
                "payment_backend:create_app()",
            ]
        else:
            command = [
                str(BIN / "flask"),
                "--app",
                "payment_backend",
                "run",
                "--port",
                str(port),
                "--no-reload",
                "--no-debugger",
            ]
        log = open(tmp_path / f"served-{port}.log", "wb")  # noqa: SIM115 (closed with the test)
        process = subprocess.Popen(
            command, cwd=BACKEND, env=env, stdout=log, stderr=log, start_new_session=True
        )
        served = Served(process, f"http://127.0.0.1:{port}")
        started.append(served)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{served.url}/monitors/health", timeout=1).status_code == 200:
                    return served
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / f"served-{port}.log").read_text()[-3000:])
            time.sleep(0.1)

    yield start
    for served in started:
        if served.process.poll() is None:
            served.kill()


@pytest.fixture()
def worker_process(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """worker_process(app, **env): `flask --app payment_backend worker` on app's database."""
    started: list[subprocess.Popen] = []

    def start(app: Flask, **extra: str) -> subprocess.Popen:
        log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115 (closed with the test)
        process = subprocess.Popen(
            [str(BIN / "flask"), "--app", "payment_backend", "worker", "--interval", "0.2"],
            cwd=BACKEND,
            env=process_env(app, **extra),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
