"""fake_toss webhooks, received by a real HTTP server: bodies, headers, retries, drops, duplicates."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from fake_common.receiver import WebhookReceiver
from fake_toss.events import RETRY_OFFSETS_SECONDS
from fake_toss.testing import TossTestClient, running_fake_toss

REFUND_ACCOUNT = {"bank": "88", "accountNumber": "110123456789", "holderName": "홍길동"}
CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


@pytest.fixture(scope="module")
def module_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def toss_server(module_receiver: WebhookReceiver) -> Iterator[TossTestClient]:
    """Overrides conftest's: this module's fake Toss sends its webhooks to the receiver."""
    with running_fake_toss({"WEBHOOK_URL": module_receiver.url + "/webhooks/toss"}) as fake:
        yield fake


@pytest.fixture
def receiver(module_receiver: WebhookReceiver) -> WebhookReceiver:
    """The module's webhook receiver, emptied."""
    module_receiver.reset()
    return module_receiver


def confirmed_card(toss, order_id="order-0001", amount=15000) -> dict:
    key = toss.authenticated_payment(order_id=order_id, amount=amount)["paymentKey"]
    response = toss.post(
        "/v1/payments/confirm", {"paymentKey": key, "orderId": order_id, "amount": amount}
    )
    return response.json()


def issued_account(toss, order_id="order-va-1", **extra) -> dict:
    body = {
        "amount": 19900,
        "orderId": order_id,
        "orderName": "Tea",
        "customerName": "홍길동",
        "bank": "88",
        **extra,
    }
    return toss.post("/v1/virtual-accounts", body).json()


def test_payment_status_changed_carries_the_full_payment_and_headers(toss, receiver):
    payment = confirmed_card(toss)
    (delivery,) = receiver.wait_for(1)
    assert delivery["path"] == "/webhooks/toss"
    body = delivery["body"]
    assert body["eventType"] == "PAYMENT_STATUS_CHANGED"
    assert CREATED_AT.match(body["createdAt"])
    assert body["data"] == payment
    headers = delivery["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["tosspayments-webhook-transmission-id"].startswith("whtrans_")
    assert headers["tosspayments-webhook-transmission-retried-count"] == "0"
    assert headers["tosspayments-webhook-transmission-time"].endswith("+09:00")
    assert "tosspayments-webhook-signature" not in headers


def test_no_webhook_for_authentication_or_billing_approval(toss, receiver):
    toss.authenticated_payment(order_id="order-unconfirmed")
    auth_key = toss.register_card("cust-1")["query"]["authKey"]
    billing = toss.post(
        "/v1/billing/authorizations/issue", {"authKey": auth_key, "customerKey": "cust-1"}
    ).json()
    charged = toss.post(
        f"/v1/billing/{billing['billingKey']}",
        {"customerKey": "cust-1", "amount": 9900, "orderId": "sub-0001", "orderName": "Plan"},
    ).json()
    assert charged["status"] == "DONE"
    # Webhooks go out in order, so anything sent above would arrive before this one.
    confirmed_card(toss, order_id="order-marker")
    (delivery,) = receiver.wait_for(1)
    assert delivery["body"]["data"]["orderId"] == "order-marker"


def test_cancels_send_partial_then_canceled(toss, receiver):
    key = confirmed_card(toss)["paymentKey"]
    toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "part", "cancelAmount": 5000})
    toss.post(f"/v1/payments/{key}/cancel", {"cancelReason": "rest"})
    deliveries = receiver.wait_for(3)
    statuses = [d["body"]["data"]["status"] for d in deliveries]
    assert statuses == ["DONE", "PARTIAL_CANCELED", "CANCELED"]
    assert deliveries[1]["body"]["data"]["balanceAmount"] == 10000
    assert len(deliveries[2]["body"]["data"]["cancels"]) == 2


def test_deposit_callback_is_flat_with_the_payment_secret(toss, receiver):
    issued = issued_account(toss)
    first = receiver.wait_for(2)
    assert first[0]["body"]["eventType"] == "PAYMENT_STATUS_CHANGED"
    assert first[0]["body"]["data"]["status"] == "WAITING_FOR_DEPOSIT"
    callback = first[1]["body"]
    assert set(callback) == {"createdAt", "secret", "status", "transactionKey", "orderId"}
    assert callback["secret"] == issued["secret"]
    assert callback["status"] == "WAITING_FOR_DEPOSIT"
    assert callback["orderId"] == "order-va-1"
    assert CREATED_AT.match(callback["createdAt"])
    assert first[1]["headers"]["tosspayments-webhook-transmission-retried-count"] == "0"

    toss.control("POST", f"/deposit/{issued['paymentKey']}")
    deposited = receiver.wait_for(4)[2:]
    assert deposited[0]["body"]["data"]["status"] == "DONE"
    assert deposited[1]["body"]["status"] == "DONE"
    assert deposited[1]["body"]["secret"] == issued["secret"]
    assert (
        deposited[1]["body"]["transactionKey"] == deposited[0]["body"]["data"]["lastTransactionKey"]
    )

    toss.post(
        f"/v1/payments/{issued['paymentKey']}/cancel",
        {"cancelReason": "refund", "refundReceiveAccount": REFUND_ACCOUNT},
    )
    cancelled = receiver.wait_for(6)[4:]
    assert cancelled[0]["body"]["data"]["status"] == "CANCELED"
    assert cancelled[1]["body"]["status"] == "CANCELED"


def test_deposit_callback_goes_to_the_payments_own_callback_url(toss, receiver):
    issued_account(toss, virtualAccountCallbackUrl=receiver.url + "/va-callback")
    deliveries = receiver.wait_for(2)
    assert deliveries[0]["path"] == "/webhooks/toss"
    assert deliveries[1]["path"] == "/va-callback"
    assert "secret" in deliveries[1]["body"]


def test_expired_payment_sends_expired(toss, receiver):
    key = toss.authenticated_payment()["paymentKey"]
    toss.advance(601)
    (delivery,) = receiver.wait_for(1)
    assert delivery["body"]["data"]["paymentKey"] == key
    assert delivery["body"]["data"]["status"] == "EXPIRED"


def test_billing_deleted(toss, receiver):
    body = {
        "customerKey": "cust-9",
        "cardNumber": "4242424242424242",
        "cardExpirationYear": "39",
        "cardExpirationMonth": "12",
    }
    billing_key = toss.post("/v1/billing/authorizations/card", body).json()["billingKey"]
    assert toss.delete(f"/v1/billing/{billing_key}").status_code == 200
    (delivery,) = receiver.wait_for(1)
    assert delivery["body"]["eventType"] == "BILLING_DELETED"
    assert delivery["body"]["data"] == {"billingKey": billing_key, "reason": "삭제 API 요청"}
    assert CREATED_AT.match(delivery["body"]["createdAt"])


def test_retries_follow_the_fake_clock_until_http_200(toss, receiver):
    receiver.respond_with(500, 201)
    confirmed_card(toss)
    receiver.wait_for(1)
    (logged,) = toss.webhooks(wait=2)
    assert logged["state"] == "retrying"
    assert logged["pending_retry_at"] == pytest.approx(logged["attempts"][0]["at"] + 60, abs=0.01)

    toss.advance(50)
    toss.webhooks(wait=2)
    assert len(receiver.received) == 1

    toss.advance(15)  # 1 minute after the first attempt
    receiver.wait_for(2)
    (logged,) = toss.webhooks(wait=2)
    assert [a["status"] for a in logged["attempts"]] == [500, 201]  # 201 is not 200: retried
    assert logged["pending_retry_at"] == pytest.approx(logged["attempts"][0]["at"] + 300, abs=1)

    toss.advance(4 * 60)  # 1 + 4 minutes after the first attempt
    deliveries = receiver.wait_for(3)
    (logged,) = toss.webhooks(wait=2)
    assert logged["delivered"] is True
    assert [
        d["headers"]["tosspayments-webhook-transmission-retried-count"] for d in deliveries
    ] == [
        "0",
        "1",
        "2",
    ]
    assert len({d["headers"]["tosspayments-webhook-transmission-id"] for d in deliveries}) == 1
    assert len({d["raw"] for d in deliveries}) == 1


def test_seven_retries_then_it_gives_up(toss, receiver):
    receiver.respond_with(*([503] * 8))
    confirmed_card(toss)
    receiver.wait_for(1)
    assert [offset / 60 for offset in RETRY_OFFSETS_SECONDS] == [1, 5, 21, 85, 341, 1365, 5461]
    elapsed = 0.0
    for count, offset in enumerate(RETRY_OFFSETS_SECONDS, start=2):
        toss.advance(offset - elapsed + 1)
        elapsed = offset + 1
        receiver.wait_for(count)
    (logged,) = toss.webhooks(wait=2)
    assert len(logged["attempts"]) == 8
    assert logged["state"] == "failed"
    assert logged["pending_retry_at"] is None
    toss.advance(10 * 24 * 3600)
    assert len(toss.webhooks(wait=1)[0]["attempts"]) == 8


def test_dropped_and_duplicated_webhooks(toss, receiver):
    rule = {"target": "webhook", "action": "drop", "times": 1}
    assert toss.control("POST", "/faults", rule).ok
    confirmed_card(toss, order_id="order-dropped")
    confirmed_card(toss, order_id="order-kept")
    (delivery,) = receiver.wait_for(1)
    assert delivery["body"]["data"]["orderId"] == "order-kept"
    log = toss.webhooks(wait=2)
    assert [entry["state"] for entry in log] == ["dropped", "delivered"]

    receiver.reset()
    rule = {"target": "webhook", "action": "duplicate", "times": 1}
    assert toss.control("POST", "/faults", rule).ok
    confirmed_card(toss, order_id="order-twice")
    deliveries = receiver.wait_for(2)
    assert deliveries[0]["raw"] == deliveries[1]["raw"]
    assert deliveries[0]["body"]["data"]["orderId"] == "order-twice"


def test_registered_events_only(receiver):
    config = {"WEBHOOK_URL": receiver.url + "/only-deposit", "WEBHOOK_EVENTS": ["DEPOSIT_CALLBACK"]}
    with running_fake_toss(config) as toss:
        issued_account(toss)
        (delivery,) = receiver.wait_for(1)
        assert delivery["body"]["status"] == "WAITING_FOR_DEPOSIT"
        assert "eventType" not in delivery["body"]
