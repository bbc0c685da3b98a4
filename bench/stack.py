"""The system under test as child processes: fakes, backend and bare app under gunicorn, a database."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import requests

if TYPE_CHECKING:
    from fake_common.testing import ControlClient

ROOT = Path(__file__).resolve().parent.parent
BACKEND = ROOT / "backend"
BENCH = ROOT / "bench"
GUNICORN_CONF = BACKEND / "gunicorn.conf.py"
HOST = "127.0.0.1"
PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """A process of the stack did not start."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the benchmark itself is killed outright."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """A started process (the leader of its own process group) and where it listens."""

    name: str
    popen: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        """The end of its output, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Stack:
    """Owns every process it starts and stops them all, in reverse order, on close()."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self, name: str, argv: list[str], *, port: int, cwd: Path, env: dict) -> Child:
        """Start argv in its own process group, output to log_dir/name.log."""
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        child = Child(name, popen, port, log)
        self.children.append(child)
        return child

    def wait_ready(self, child: Child, path: str, timeout: float = 30.0) -> None:
        """Poll child until path answers below 500; fail early if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.popen.poll() is not None:
                raise StackError(
                    f"{child.name} exited ({child.popen.returncode}):\n{child.log_tail()}"
                )
            try:
                if requests.get(child.url + path, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise StackError(f"{child.name} not ready after {timeout:.0f} s:\n{child.log_tail()}")

    def stop(self, child: Child, timeout: float = 30.0) -> None:
        """SIGTERM one child's process group and wait for it (SIGKILL after timeout)."""
        _signal_group(child.popen, signal.SIGTERM)
        try:
            child.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(child.popen, signal.SIGKILL)
            child.popen.wait(timeout=5)
        if child in self.children:
            self.children.remove(child)

    def close(self) -> None:
        """SIGTERM each process group, newest first; SIGKILL what is still there after 10 s."""
        for child in reversed(self.children):
            _signal_group(child.popen, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in reversed(self.children):
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Workers of a gunicorn master that was killed would linger in the group.
            _signal_group(child.popen, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.popen.wait(timeout=2)
        self.children.clear()


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, sig)  # start_new_session made the child its group's leader


def python() -> str:
    """The interpreter running the benchmark (the project's venv)."""
    return sys.executable


def gunicorn_argv(app: str, *extra: str) -> list[str]:
    """gunicorn with the backend's config file (and no shared control socket)."""
    from gunicorn.config import KNOWN_SETTINGS

    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        # gunicorn 27 puts one control socket per user in ~/.gunicorn: leave others' alone.
        extra = ("--no-control-socket", *extra)
    return [python(), "-m", "gunicorn", "--config", str(GUNICORN_CONF), *extra, app]


def gunicorn_env(port: int, workers: int | None) -> dict[str, str]:
    """The environment both gunicorn apps share: same config, own port."""
    env = dict(os.environ, GUNICORN_BIND=f"{HOST}:{port}", PYTHONUNBUFFERED="1")
    # The load comes from one address, far past the anonymous routes' rate limits by design.
    env["RATELIMIT_ENABLED"] = "false"
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    return env


def worker_pids(master: int) -> list[int]:
    """The pids whose parent is master (gunicorn's workers)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    with contextlib.suppress(OSError):
        return sorted(int(pid) for pid in children.read_text().split())
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                found.append(int(stat.parent.name))
    return sorted(found)


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in kB."""
    values = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(value.split()[0])
    return values


@contextlib.contextmanager
def database(kind: str, server_url: str) -> Iterator[str]:
    """A fresh, empty database for one run, removed afterwards: SQLite file or PostgreSQL."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-db-") as folder:
            yield f"sqlite:///{Path(folder) / 'payments.sqlite3'}"
        return
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise StackError(
            f"cannot create a database on {server_url} ({exc}); "
            "set BENCH_POSTGRES_URL or run with --db sqlite"
        ) from exc
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(env: dict[str, str], log: Path) -> None:
    """flask db upgrade on the run's database."""
    with log.open("wb") as out:
        done = subprocess.run(
            [python(), "-m", "flask", "--app", "payment_backend", "db", "upgrade"],
            cwd=BACKEND,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=120,
            check=False,
        )
    if done.returncode != 0:
        raise StackError(f"migrations failed:\n{log.read_text(errors='replace')[-3000:]}")


class Fake:
    """A running fake gateway, driven through its test client (fake_iamport.testing, ...)."""

    def __init__(self, child: Child, api_glob: str, client: ControlClient) -> None:
        self.child = child
        self.api_glob = api_glob  # the routes a latency rule slows: the REST API, not the window
        self.client = client
        self._rule: int | None = None

    @property
    def url(self) -> str:
        """Its base URL."""
        return self.child.url

    def slow_down(self, latency_ms: float, jitter_ms: float) -> None:
        """Add latency to every API call (replacing an earlier rule); 0 takes it away."""
        self.restore()
        if latency_ms <= 0:
            return
        rule = {"method": "*", "path": self.api_glob, "latency_ms": latency_ms}
        if jitter_ms:
            rule["jitter_ms"] = jitter_ms
        self._rule = self.client.add_fault(rule)["id"]

    def restore(self) -> None:
        """Remove the latency rule."""
        if self._rule is not None:
            self.client.remove_fault(self._rule)
            self._rule = None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_pids(database_url: str, server_url: str) -> list[int]:
    """The PostgreSQL server processes serving database_url's database now."""
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return [row[0] for row in rows]


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
