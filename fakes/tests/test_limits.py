"""Test-environment limits as fault-rule templates: 429 with Retry-After under tight polling
(Toss, PortOne V1) and Toss's 403 FORBIDDEN_CONSECUTIVE_REQUEST, over HTTP."""

from __future__ import annotations

import time


def test_the_control_api_lists_each_fakes_templates(toss, iamport):
    toss_templates = toss.control_json("GET", "faults/templates")
    assert {"rate_limit", "consecutive_request"} <= set(toss_templates)
    assert toss_templates["rate_limit"]["status"] == 429
    assert iamport.control_json("GET", "faults/templates")["rate_limit"]["status"] == 429


def test_toss_answers_429_with_retry_after_past_the_limit_and_lets_requests_through_later(toss):
    rule = toss.add_fault({"template": "rate_limit", "rate": {"limit": 2, "seconds": 1}})
    assert rule["from_template"] == "rate_limit" and rule["status"] == 429
    answers = [toss.get("/v1/payments/nope") for _ in range(3)]
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert answers[2].json()["code"] == "TOO_MANY_REQUESTS"
    assert answers[2].headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert toss.get("/v1/payments/nope").status_code == 404
    assert toss.faults()[0]["hits"] == 1


def test_toss_refuses_a_consecutive_request_on_one_payment_but_not_on_another(toss):
    toss.add_fault({"template": "consecutive_request"})
    first = toss.get("/v1/payments/one")
    again = toss.get("/v1/payments/one")
    other = toss.get("/v1/payments/two")
    assert (first.status_code, other.status_code) == (404, 404)
    assert again.status_code == 403
    assert again.json()["code"] == "FORBIDDEN_CONSECUTIVE_REQUEST"


def test_iamport_answers_429_in_its_envelope(iamport):
    iamport.add_fault({"template": "rate_limit", "rate": {"limit": 0, "seconds": 60}})
    answer = iamport.call("GET", "/payments/imp_1")
    assert answer.status_code == 429
    assert answer.json() == {"code": -1, "message": "Too Many Requests", "response": None}
    assert answer.headers["Retry-After"] == "1"


def test_an_unknown_template_or_a_bad_rate_is_refused(toss):
    assert toss.control("POST", "faults", {"template": "nope"}).status_code == 400
    bad = {"path": "*", "status": 429, "rate": {"limit": -1}}
    assert toss.control("POST", "faults", bad).status_code == 400
