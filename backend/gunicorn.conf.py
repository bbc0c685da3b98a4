"""gunicorn settings for the payment backend: gthread workers, sized from the CPU count."""

import multiprocessing
import os


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
