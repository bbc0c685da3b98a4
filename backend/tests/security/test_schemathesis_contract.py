"""The OpenAPI document is the contract: Schemathesis with every check (`st run --checks all`:
statuses, schemas, headers, Allow, links, authentication, positive and negative data) against the
backend in test mode served over HTTP, with a fixed seed. The encrypted service API (text/plain
ciphertext, nothing a generator can fill in) is left out; the checks configured for a documented
reason are in schemathesis.toml beside this file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Cases per operation and phase; SCHEMATHESIS_CONTRACT_EXAMPLES=100 for a deeper run.
EXAMPLES = os.environ.get("SCHEMATHESIS_CONTRACT_EXAMPLES", "10")
SEED = os.environ.get("SCHEMATHESIS_CONTRACT_SEED", "20261122")
ENCRYPTED = r"^/payments/(histories|reservations)"


def test_the_api_answers_as_its_openapi_document_says_under_every_schemathesis_check(fuzzed):
    app, backend = fuzzed
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{backend.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",
        "--exclude-path-regex",
        ENCRYPTED,
        "--header",
        f"Authorization: Bearer {app.config['PAYMENT_ADMIN_TOKEN']}",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
