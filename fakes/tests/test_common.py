"""Tests for fake_common: clock, fault rules, webhook sender and the control blueprint."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from flask import Flask

from fake_common import cards
from fake_common.clock import Clock
from fake_common.control import register_control
from fake_common.faults import FaultRuleError, FaultRules
from fake_common.polling import wait_until
from fake_common.server import serve_in_thread
from fake_common.webhooks import WebhookSender


@pytest.fixture
def sender():
    clock = Clock()
    faults = FaultRules(seed=1)
    webhook_sender = WebhookSender(clock, faults, timeout=2.0, poll_interval=0.05)
    yield webhook_sender, clock, faults
    webhook_sender.close()


def test_clock_advances_sets_and_notifies():
    clock = Clock()
    calls = []
    clock.subscribe(lambda: calls.append(clock.now()))
    start = clock.now()
    clock.advance(3600)
    assert clock.now() - start == pytest.approx(3600, abs=1)
    clock.set(2_000_000_000)
    assert clock.now() == pytest.approx(2_000_000_000, abs=1)
    assert len(calls) == 2 and calls[1] == pytest.approx(2_000_000_000, abs=1)
    assert clock.to_dict()["iso"].startswith("2033-05-18")
    clock.reset()
    assert clock.now() == pytest.approx(time.time(), abs=1)


def test_fault_rules_match_count_and_validate():
    faults = FaultRules(seed=1)
    faults.add({"method": "POST", "path": "/payments/*", "status": 500, "times": 2})
    assert faults.match_http("GET", "/payments/x") is None
    assert faults.match_http("POST", "/payments/x")["status"] == 500
    assert faults.match_http("post", "/payments/y")["hits"] == 2
    assert faults.match_http("POST", "/payments/z") is None
    assert faults.list()[0]["times"] == 0

    faults.add({"path": "/flaky", "status": 503, "probability": 0.5})
    fired = sum(faults.match_http("GET", "/flaky") is not None for _ in range(200))
    assert 60 < fired < 140

    faults.add({"target": "webhook", "action": "drop", "url": "http://a/*", "times": 1})
    assert faults.webhook_action("http://b/x") is None
    assert faults.webhook_action("http://a/x")["action"] == "drop"
    assert faults.webhook_action("http://a/x") is None

    for bad in ({"path": "/x"}, {"target": "webhook", "action": "explode"}, {"status": 99}):
        with pytest.raises(FaultRuleError):
            faults.add(bad)
    faults.clear()
    assert faults.list() == []


def test_faults_installed_on_an_app_and_control_api():
    app = Flask("demo")
    clock, faults = Clock(), FaultRules()
    webhooks = WebhookSender(clock, faults)
    resets = []
    faults.install(app)
    register_control(
        app, reset=lambda: resets.append(1), clock=clock, faults=faults, webhooks=webhooks
    )
    app.add_url_rule("/payments/<x>", "p", lambda x: {"ok": x})

    with serve_in_thread(app) as server:
        url = server.url
        assert requests.get(f"{url}/payments/a").json() == {"ok": "a"}
        rule = requests.post(
            f"{url}/__control/faults",
            json={
                "method": "GET",
                "path": "/payments/*",
                "status": 502,
                "body": {"m": "bad"},
                "times": 1,
            },
        ).json()
        assert rule["id"] and rule["status"] == 502
        bad = requests.get(f"{url}/payments/a")
        assert bad.status_code == 502 and bad.json() == {"m": "bad"}
        assert requests.get(f"{url}/payments/a").status_code == 200

        requests.post(
            f"{url}/__control/faults", json={"path": "*", "latency_ms": 150, "jitter_ms": 20}
        )
        began = time.monotonic()
        assert requests.get(f"{url}/payments/b").status_code == 200
        assert time.monotonic() - began >= 0.12
        # The control API itself is never slowed or broken by rules.
        assert requests.get(f"{url}/__control/faults").json()[1]["hits"] == 1
        assert requests.post(f"{url}/__control/faults", json={"path": "/x"}).status_code == 400
        assert requests.delete(f"{url}/__control/faults").json() == {"cleared": True}

        before = requests.get(f"{url}/__control/clock").json()["now"]
        after = requests.post(f"{url}/__control/clock", json={"advance": 86400}).json()["now"]
        assert after - before == pytest.approx(86400, abs=2)
        assert requests.post(f"{url}/__control/clock", json={"now": 1_900_000_000}).json()[
            "now"
        ] == pytest.approx(1_900_000_000, abs=2)
        assert requests.post(f"{url}/__control/clock", json={}).status_code == 400
        shifted = requests.post(f"{url}/__control/clock", json={"offset": 3600}).json()
        assert shifted["offset"] == 3600 and shifted["now"] == pytest.approx(
            time.time() + 3600, abs=2
        )
        assert requests.post(f"{url}/__control/clock", json={"offset": 0}).json()["offset"] == 0
        assert requests.post(f"{url}/__control/reset").json()["reset"] is True
        assert resets == [1]
        assert requests.get(f"{url}/__control/clock").json()["offset"] == 0
        assert requests.get(f"{url}/__control/webhooks").json() == []


def test_webhook_delivered_with_json_and_headers(sender, webhook_receiver):
    webhooks, _, _ = sender
    webhook_id = webhooks.send(
        f"{webhook_receiver.url}/hook", {"a": 1, "이름": "값"}, {"X-Sig": "s"}
    )
    got = webhook_receiver.wait_for(1)
    assert got[0]["body"] == {"a": 1, "이름": "값"}
    assert got[0]["headers"]["X-Sig"] == "s"
    assert got[0]["headers"]["Content-Type"] == "application/json"
    assert webhooks.wait_idle(5)
    entry = webhooks.get(webhook_id)
    assert entry["delivered"] and entry["attempts"][0]["status"] == 200


def test_webhook_retries_follow_the_fake_clock(sender, webhook_receiver):
    webhooks, clock, _ = sender
    webhook_receiver.statuses = [500, 503]
    webhook_id = webhooks.send(
        f"{webhook_receiver.url}/hook",
        {"n": 1},
        lambda retry_count: {"X-Retry": str(retry_count)},  # made again for every attempt
        retry_delays=(60, 240, 960),
        success=lambda s: s == 200,
    )
    webhook_receiver.wait_for(1)
    entry = wait_until(lambda: (e := webhooks.get(webhook_id))["pending_retry_at"] and e)
    assert entry["pending_retry_at"] == pytest.approx(entry["attempts"][0]["at"] + 60, abs=0.01)
    time.sleep(0.2)  # real time alone does not reach a retry a fake minute away
    assert len(webhook_receiver.received) == 1

    clock.advance(61)
    webhook_receiver.wait_for(2)
    entry = wait_until(lambda: (e := webhooks.get(webhook_id))["pending_retry_at"] and e)
    assert entry["pending_retry_at"] == pytest.approx(entry["attempts"][0]["at"] + 240, abs=0.01)
    clock.advance(180)
    webhook_receiver.wait_for(3)
    assert webhooks.wait_idle(5)
    entry = webhooks.get(webhook_id)
    assert [a["status"] for a in entry["attempts"]] == [500, 503, 200]
    assert entry["delivered"] and entry["pending_retry_at"] is None
    assert [r["headers"]["X-Retry"] for r in webhook_receiver.received] == ["0", "1", "2"]
    assert entry["headers"] == {"X-Retry": "2"}  # the latest attempt's


def test_webhook_gives_up_after_the_last_retry(sender):
    webhooks, clock, _ = sender
    webhook_id = webhooks.send("http://127.0.0.1:9/nothing", {"n": 1}, retry_delays=(10,))
    wait_until(lambda: webhooks.get(webhook_id)["pending_retry_at"])
    clock.advance(11)
    entry = wait_until(lambda: (e := webhooks.get(webhook_id))["state"] == "failed" and e)
    assert len(entry["attempts"]) == 2 and entry["attempts"][1]["error"]
    assert not entry["delivered"]


def test_webhook_faults_drop_duplicate_delay_reorder(sender, webhook_receiver):
    webhooks, _, faults = sender
    url = f"{webhook_receiver.url}/hook"
    faults.add({"target": "webhook", "action": "drop", "times": 1})
    dropped = webhooks.send(url, {"n": "dropped"})
    assert webhooks.get(dropped)["state"] == "dropped"

    faults.add({"target": "webhook", "action": "duplicate", "times": 1})
    webhooks.send(url, {"n": "twice"})
    assert [r["body"]["n"] for r in webhook_receiver.wait_for(2)] == ["twice", "twice"]

    faults.add({"target": "webhook", "action": "reorder", "times": 1})
    webhooks.send(url, {"n": "first"})
    webhooks.send(url, {"n": "second"})
    got = webhook_receiver.wait_for(4)
    assert [r["body"]["n"] for r in got[2:]] == ["second", "first"]

    faults.add({"target": "webhook", "action": "delay", "delay_seconds": 0.3, "times": 1})
    began = time.monotonic()
    delayed = webhooks.send(url, {"n": "late"})
    assert webhooks.get(delayed)["state"] == "delayed"
    got = webhook_receiver.wait_for(5)
    assert got[4]["body"] == {"n": "late"} and time.monotonic() - began >= 0.3
    assert webhooks.wait_idle(5)
    assert len(webhooks.log()) == 6
    webhooks.reset()
    assert webhooks.log() == []


def test_card_table():
    assert cards.lookup("4242 4242 4242 4242").outcome == cards.APPROVED
    assert cards.lookup("4111-1111-1111-1111").approves_now
    assert cards.lookup("4000000000009995").outcome == cards.INSUFFICIENT_FUNDS
    assert cards.lookup("4000 0000 0000 0069").outcome == cards.EXPIRED
    later = cards.lookup("4000 0000 0000 0341")
    assert later.approves_now and not later.approves_later
    assert cards.lookup("6011 0000 0000 0004").outcome == cards.APPROVED
    assert cards.lookup("1234").outcome == cards.INVALID_NUMBER
    assert cards.lookup("4242424242424242").masked == "424242******4242"
    assert len({c.digits for c in cards.TABLE}) == len(cards.TABLE)


def test_readme_shows_the_test_card_table():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert cards.markdown_table() in readme, "paste fake_common.cards.markdown_table() into it"
