"""gunicorn settings for the payment backend: gthread workers, sized from the CPU count."""

import multiprocessing
import os
from pathlib import Path


def _setting(name: str, default: str) -> str:
    """An environment setting; empty counts as unset (docker compose passes empty strings)."""
    return os.environ.get(name) or default


bind = _setting("GUNICORN_BIND", f"0.0.0.0:{_setting('PORT', '37821')}")
worker_class = "gthread"
workers = int(_setting("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(_setting("GUNICORN_THREADS", "4"))
timeout = int(_setting("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(_setting("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
accesslog = _setting("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# No preload_app: on HUP each new worker imports the code afresh, so a reload deploys new code.


# /metrics under several workers: prometheus_client's multiprocess mode keeps each worker's values
# in files there. Stale files of an earlier run are removed before the workers start.
METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server) -> None:  # noqa: ANN001 (gunicorn's hook signature)
    """Start each run with an empty metrics folder."""
    if METRICS_DIR:
        folder = Path(METRICS_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:  # noqa: ANN001
    """Forget a dead worker's live gauges (its counters stay counted)."""
    if METRICS_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
