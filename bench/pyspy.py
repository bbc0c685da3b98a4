"""py-spy in the background during a phase, and what its collapsed stacks say about where CPU goes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# Steps of a request, matched as "function (file" inside a stack frame; shares are inclusive.
STEPS = (
    ("whole request in Flask", "Flask.wsgi_app (flask/app.py"),
    ("checkout view", "complete (payment_backend/api/checkout.py"),
    ("verify-on-complete service", "complete (payment_backend/services/checkout.py"),
    ("lock the order (SELECT ... FOR UPDATE)", "lock (payment_backend/services/ledger.py"),
    ("gateway call (requests)", "GatewayHttp.send (payment_backend/vendors/http.py"),
    ("requests: proxy lookup in os.environ", "get_environ_proxies (requests/utils.py"),
    ("verify and record the payment", "settle (payment_backend/services/checkout.py"),
    ("order view for the answer", "order_view (payment_backend/services/orders_view.py"),
    ("seal / unseal (AES-GCM)", "Sealer."),
    ("SQLAlchemy flush", "Session._flush (sqlalchemy/orm/session.py"),
    ("SQLAlchemy commit", "SessionTransaction.commit (sqlalchemy/orm/session.py"),
    ("reload of expired rows", "_load_expired (sqlalchemy/orm/state.py"),
    ("pool pre-ping", "do_ping (sqlalchemy/"),
    ("session teardown (rollback)", "_teardown_session (flask_sqlalchemy/"),
    ("webhook intake", "_receive (payment_backend/api/webhooks.py"),
    ("refund", "refund_order (payment_backend/services/checkout.py"),
    ("request parsing (webargs)", "Parser.parse (webargs/core.py"),
    ("response schema (marshmallow dump)", "Schema.dump (marshmallow/schema.py"),
    ("access log", "Logger.access (gunicorn/glogging.py"),
)

# A completion's CPU split into parts that add up to 100 %: each sample goes to the first part
# whose frame is on its stack.
COMPLETION_PARTS = (
    (
        "order view for the answer, after the commit",
        "order_view (payment_backend/services/orders_view.py",
    ),
    ("commit", "scoped_session.commit (sqlalchemy/orm/scoping.py"),
    ("verify and record the payment", "settle (payment_backend/services/checkout.py"),
    ("gateway call", "GatewayHttp.send (payment_backend/vendors/http.py"),
    ("lock the order", "lock (payment_backend/services/ledger.py"),
    ("rest of the checkout service", "complete (payment_backend/services/checkout.py"),
    ("rest of the view (arguments, response schema)", "complete (payment_backend/api/checkout.py"),
    ("session teardown", "_teardown_session (flask_sqlalchemy/"),
    ("request parsing", "Parser.parse (webargs/core.py"),
    ("rest of Flask (routing, hooks, response)", "Flask.wsgi_app (flask/app.py"),
    ("gunicorn (HTTP, access log) and idle loop", ""),
)

# The library of the innermost frame, from the first part of its path.
LIBRARY_NAMES = {
    "payment_backend": "backend code",
    "sqlalchemy": "SQLAlchemy",
    "psycopg": "psycopg",
    "requests": "requests/urllib3/http",
    "urllib3": "requests/urllib3/http",
    "http": "requests/urllib3/http",
    "urllib": "requests/urllib3/http",
    "flask": "Flask/Werkzeug",
    "werkzeug": "Flask/Werkzeug",
    "flask_sqlalchemy": "SQLAlchemy",
    "flask_smorest": "marshmallow/webargs/smorest",
    "webargs": "marshmallow/webargs/smorest",
    "marshmallow": "marshmallow/webargs/smorest",
    "gunicorn": "gunicorn",
    "Crypto": "pycryptodome",
    "json": "json",
    "os.py": "os.environ",
    "<frozen os>": "os.environ",
    "<frozen _collections_abc>": "os.environ",
    "socket.py": "sockets",
    "selectors.py": "sockets",
    "fake_iamport": "fake code",
    "fake_toss": "fake code",
    "fake_common": "fake code",
    "jinja2": "Jinja2",
    "logging": "logging",
}


def py_spy() -> str | None:
    """The py-spy executable beside the interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Profiler:
    """py-spy record (GIL holders only: Python CPU time) of some processes, in the background."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.running: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, pid: int, seconds: float, *, subprocesses: bool = False) -> bool:
        """Sample pid (and its children) for seconds into out_dir/profile-name.txt."""
        spy = py_spy()
        if spy is None:
            return False
        out = self.out_dir / f"profile-{name}.txt"
        argv = [spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
        argv += ["--rate", "500", "--gil", "--format", "raw", "--output", str(out)]
        if subprocesses:
            argv.append("--subprocesses")
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.running.append((name, proc, out))
        return True

    def finish(self) -> dict[str, Path]:
        """Wait for the recorders; the files they wrote."""
        written = {}
        for name, proc, out in self.running:
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
            if out.exists() and out.stat().st_size:
                written[name] = out
        self.running.clear()
        return written

    def stop(self) -> None:
        """Kill recorders still running (on an error)."""
        for _, proc, _ in self.running:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.running.clear()


def _frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    if not stack or not count.isdigit():
        return [], 0
    return [f for f in stack.split(";") if not f.startswith("process ")], int(count)


def _library(frame: str) -> str:
    location = frame.rsplit(" (", 1)[-1]
    path = location.rsplit(":", 1)[0]
    first = path.split("/", 1)[0]
    return LIBRARY_NAMES.get(first) or LIBRARY_NAMES.get(path) or "other: " + first


def summarize(path: Path) -> dict[str, Any]:
    """Samples; share per request step (inclusive), per completion part, per leaf frame's library."""
    steps: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        frames, n = _frames(line)
        if not frames:
            continue
        total += n
        libraries[_library(frames[-1])] += n
        joined = ";".join(frames)
        for label, needle in STEPS:
            if needle in joined:
                steps[label] += n
        parts[next(label for label, needle in COMPLETION_PARTS if needle in joined)] += n
    if not total:
        return {"samples": 0, "steps": {}, "completion_parts": {}, "libraries": {}}
    return {
        "samples": total,
        "steps": {label: round(steps[label] / total, 3) for label, _ in STEPS if steps[label]},
        "completion_parts": {
            label: round(parts[label] / total, 3) for label, _ in COMPLETION_PARTS if parts[label]
        },
        "libraries": {k: round(v / total, 3) for k, v in libraries.most_common()},
    }
