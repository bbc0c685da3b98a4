"""Profile summaries, process accounting and the phase plan."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pyspy import summarize
from run import Plan
from stack import cpu_seconds, free_port, memory_kb, worker_pids


def test_a_profile_is_summed_by_step_and_by_library(tmp_path: Path) -> None:
    flask = "Flask.wsgi_app (flask/app.py:1)"
    view = "complete (payment_backend/api/checkout.py:80)"
    profile = tmp_path / "profile.txt"
    profile.write_text(
        f'process 1:"gunicorn";{flask};{view};Session._flush (sqlalchemy/orm/session.py:4) 6\n'
        f"{flask};{view};GatewayHttp.send (payment_backend/vendors/http.py:9);"
        "get_environ_proxies (requests/utils.py:3) 3\n"
        f"{flask} 1\n"
    )
    summary = summarize(profile)
    assert summary["samples"] == 10
    assert summary["steps"]["whole request in Flask"] == 1.0
    assert summary["steps"]["checkout view"] == 0.9
    assert summary["steps"]["SQLAlchemy flush"] == 0.6
    assert summary["steps"]["requests: proxy lookup in os.environ"] == 0.3
    assert summary["completion_parts"] == {
        "gateway call": 0.3,
        "rest of the view (arguments, response schema)": 0.6,
        "rest of Flask (routing, hooks, response)": 0.1,
    }
    assert summary["libraries"] == {
        "SQLAlchemy": 0.6,
        "requests/urllib3/http": 0.3,
        "Flask/Werkzeug": 0.1,
    }


def test_process_accounting_reads_proc() -> None:
    assert memory_kb(os.getpid())["VmRSS"] > 1000
    assert cpu_seconds(os.getpid()) > 0
    assert cpu_seconds(2**22 + 12345) == 0.0  # no such process
    assert 1024 < free_port() < 65536


def test_worker_pids_are_the_children_of_a_process() -> None:
    # A child of this test, itself childless (this pytest may have other children: browsers).
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in worker_pids(os.getpid())
        assert worker_pids(child.pid) == []
    finally:
        child.kill()
        child.wait()


def test_the_plan_scales_with_the_duration_and_has_a_floor() -> None:
    assert Plan.for_total(60).throughput == 6
    assert Plan.for_total(5) == Plan.for_total(20)
