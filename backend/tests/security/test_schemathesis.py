"""Schemathesis against /openapi.json of the backend served over HTTP: no 5xx, every error in the
envelope {code, message, ...}. The encrypted service API (text/plain bodies) is left out."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

# Per operation and mode (positive, negative); SCHEMATHESIS_EXAMPLES=200 for a deeper run.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def api_schema(fuzzed):
    _, backend = fuzzed
    return schemathesis.openapi.from_url(backend.url + "/openapi.json").exclude(
        path_regex=r"^/payments/(histories|reservations)"
    )


def assert_envelope(response) -> None:
    """Every 4xx/5xx answer is the JSON error envelope."""
    if response.status_code < 400:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/json"), (response.status_code, response.text[:300])
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("message"), str), body


def fuzz(operation, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> None:
    """Run EXAMPLES generated requests of one mode against one operation (a fixed seed)."""

    @seed(20261122)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        case.validate_response(response, checks=[not_a_server_error])
        assert_envelope(response)

    run()


def test_the_api_answers_generated_requests_without_5xx_and_in_the_envelope(api_schema, fuzzed):
    app, backend = fuzzed
    owner = {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, backend.url, owner)
            except Unsatisfiable:
                pass  # no way to make this operation's input invalid (no parameters)
            except (Exception, BaseExceptionGroup) as failure:  # every operation runs; all reported
                failures.append(f"{operation.label} ({mode.value}): {str(failure)[:1500]}")
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
