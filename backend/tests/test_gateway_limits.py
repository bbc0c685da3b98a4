"""The gateways' clients back off when throttled (429 with Retry-After, Toss's 403
FORBIDDEN_CONSECUTIVE_REQUEST) and try again, instead of failing the call."""

from __future__ import annotations

import time

import pytest
import requests

from payment_backend.vendors import gateway
from payment_backend.vendors.base import GatewayUnavailable
from payment_backend.vendors.http import MAX_THROTTLE_WAIT, retry_after


def _answer(status: int, retry: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    if retry is not None:
        response.headers["Retry-After"] = retry
    return response


def test_retry_after_is_read_as_seconds_or_a_date_and_capped():
    assert retry_after(_answer(429, "2"), 0) == 2
    assert retry_after(_answer(429, "3600"), 0) == MAX_THROTTLE_WAIT
    soon = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 2))
    assert 0.5 < retry_after(_answer(429, soon), 0) <= 2.0
    assert 0 < retry_after(_answer(429, None), 0) <= 0.375


def test_toss_reads_are_repeated_after_a_429s_retry_after(app, shop, fakes):
    order = shop.create_order("toss")
    payment_key, _ = shop.pay(order)
    fakes.toss.add_fault({"template": "rate_limit", "rate": {"limit": 1, "seconds": 1}})
    try:
        with app.app_context():
            client = gateway("toss")
            started = time.monotonic()
            first = client.get_payment(payment_key)
            second = client.get_payment(payment_key)
            waited = time.monotonic() - started
        assert first.payment_id == second.payment_id == payment_key
        assert waited >= 0.9  # the second read waited for the gateway's Retry-After
        assert fakes.toss.faults()[0]["hits"] >= 1
    finally:
        fakes.toss.clear_faults()


def test_a_consecutive_request_refusal_is_waited_out_too(app, shop, fakes):
    order = shop.create_order("toss")
    payment_key, _ = shop.pay(order)
    fakes.toss.add_fault({"template": "consecutive_request"})
    try:
        with app.app_context():
            client = gateway("toss")
            client.get_payment(payment_key)
            assert client.get_payment(payment_key).payment_id == payment_key
        assert fakes.toss.faults()[0]["hits"] >= 1
    finally:
        fakes.toss.clear_faults()


def test_iamport_backs_off_on_429_and_a_lasting_limit_is_unavailable_not_a_refusal(app, fakes):
    fakes.iamport.add_fault({"template": "rate_limit", "rate": {"limit": 0, "seconds": 60}})
    try:
        with app.app_context(), pytest.raises(GatewayUnavailable, match="throttled"):
            gateway("iamport").get_payment("imp_000000000001")
        assert fakes.iamport.faults()[0]["hits"] == 4  # the call and three repeats
    finally:
        fakes.iamport.clear_faults()
