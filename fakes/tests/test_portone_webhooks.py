"""Fake PortOne V2's webhooks: the 2024-04-25 bodies, Standard Webhooks signatures that the
official SDK's webhook.verify (and the standardwebhooks library) accept, retries, and faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from portone_server_sdk import webhook as portone_webhook
from portone_server_sdk.common import PaymentAmountInput
from standardwebhooks.webhooks import Webhook as StandardWebhook

from fake_common.receiver import WebhookReceiver
from fake_portone.events import RETRY_OFFSETS_SECONDS
from fake_portone.testing import PortOneTestClient, running_fake_portone


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    """One receiver for the module's fake."""
    with WebhookReceiver() as hooks:
        yield hooks


@pytest.fixture(scope="module")
def hooked_server(receiver) -> Iterator[PortOneTestClient]:
    """A fake whose console webhook URL is the receiver."""
    with running_fake_portone({"WEBHOOK_URL": receiver.url + "/portone"}) as fake:
        yield fake


@pytest.fixture
def fake(hooked_server, receiver) -> PortOneTestClient:
    """The hooked fake and its receiver, both reset."""
    hooked_server.reset()
    receiver.reset()
    return hooked_server


def types_of(received: list[dict]) -> list[str]:
    return [r["body"]["type"] for r in received]


def test_a_window_payment_sends_ready_then_paid_and_the_sdk_verifies_both(fake, receiver):
    query = fake.pay_in_window("order-hook-1")
    received = receiver.wait_for(2)
    assert types_of(received) == ["Transaction.Ready", "Transaction.Paid"]
    ready, paid = (fake.verify(r) for r in received)
    assert isinstance(ready, portone_webhook.WebhookTransactionReady)
    assert isinstance(paid, portone_webhook.WebhookTransactionPaid)
    assert paid.data.payment_id == "order-hook-1"
    assert paid.data.transaction_id == query["txId"]
    assert paid.data.store_id == fake.store_id
    assert received[1]["headers"]["Content-Type"].startswith("application/json")


def test_the_standardwebhooks_library_accepts_them_too(fake, receiver):
    fake.pay_in_window("order-hook-2")
    for delivery in receiver.wait_for(2):
        body = StandardWebhook(fake.webhook_secret).verify(
            delivery["raw"], dict(delivery["headers"])
        )
        assert body["data"]["paymentId"] == "order-hook-2"


def test_a_cancel_sends_partial_cancelled_with_the_cancellation_id(fake, receiver):
    key = fake.issue_billing_key()
    sdk = fake.sdk()
    sdk.payment.pay_with_billing_key(
        payment_id="sub-hook-1",
        billing_key=key,
        order_name="Monthly plan",
        amount=PaymentAmountInput(total=9900),
        currency="KRW",
    )
    cancel = sdk.payment.cancel_payment(payment_id="sub-hook-1", amount=900, reason="partial")
    received = receiver.wait_for(3)
    assert types_of(received) == [
        "BillingKey.Issued",
        "Transaction.Paid",
        "Transaction.PartialCancelled",
    ]
    issued = fake.verify(received[0])
    assert isinstance(issued, portone_webhook.WebhookBillingKeyIssued)
    assert issued.data.billing_key == key
    partial = fake.verify(received[2])
    assert isinstance(partial, portone_webhook.WebhookTransactionCancelledPartialCancelled)
    assert partial.data.cancellation_id == cancel.cancellation.id


def test_skip_webhook_sends_nothing(fake, receiver):
    response = fake.post(
        "/billing-keys",
        {
            "method": {
                "card": {
                    "credential": {
                        "number": "4242424242424242",
                        "expiryYear": "39",
                        "expiryMonth": "12",
                    }
                }
            },
            "skipWebhook": True,
        },
    )
    assert response.status_code == 200
    assert fake.webhooks() == []


def test_a_corrupted_signature_is_refused_and_the_retry_verifies(fake, receiver):
    fake.add_fault({"target": "webhook", "action": "corrupt_signature", "times": 1})
    receiver.respond_with(401)  # a receiver refuses what it cannot verify
    fake.issue_billing_key()
    first = receiver.wait_for(1)[0]
    with pytest.raises(portone_webhook.WebhookVerificationError) as caught:
        fake.verify(first)
    assert caught.value.reason == "NO_MATCHING_SIGNATURE"
    fake.advance(RETRY_OFFSETS_SECONDS[0])
    retry = receiver.wait_for(2)[1]
    assert retry["headers"]["webhook-id"] == first["headers"]["webhook-id"]
    assert isinstance(fake.verify(retry), portone_webhook.WebhookBillingKeyIssued)


def test_a_stale_timestamp_is_refused(fake, receiver):
    fake.add_fault({"target": "webhook", "action": "stale_timestamp", "times": 1})
    fake.issue_billing_key()
    with pytest.raises(portone_webhook.WebhookVerificationError) as caught:
        fake.verify(receiver.wait_for(1)[0])
    assert caught.value.reason == "TIMESTAMP_TOO_OLD"


def test_another_secret_does_not_verify(fake, receiver):
    fake.issue_billing_key()
    delivery = receiver.wait_for(1)[0]
    with pytest.raises(portone_webhook.WebhookVerificationError):
        fake.verify(delivery, secret="whsec_" + "QUJD" * 11)


def test_failed_deliveries_are_retried_on_portones_schedule(fake, receiver):
    receiver.respond_with(500, 500)
    fake.issue_billing_key()
    receiver.wait_for(1)
    fake.advance(60)
    receiver.wait_for(2)
    fake.advance(4 * 60)
    deliveries = receiver.wait_for(3)
    assert len({d["headers"]["webhook-id"] for d in deliveries}) == 1
    assert all(
        isinstance(fake.verify(d), portone_webhook.WebhookBillingKeyIssued) for d in deliveries
    )
    log = fake.webhooks()
    assert log[0]["delivered"] and len(log[0]["attempts"]) == 3


def test_duplicate_drop_and_reorder_faults(fake, receiver):
    fake.add_fault({"target": "webhook", "action": "duplicate", "times": 1})
    fake.issue_billing_key()
    twins = receiver.wait_for(2)
    assert twins[0]["headers"]["webhook-id"] == twins[1]["headers"]["webhook-id"]
    receiver.reset()
    fake.add_fault({"target": "webhook", "action": "drop", "times": 1})
    fake.issue_billing_key()
    fake.webhooks()
    assert receiver.received == []
    fake.add_fault({"target": "webhook", "action": "reorder", "times": 1})
    first, second = fake.issue_billing_key(), fake.issue_billing_key()
    keys = [r["body"]["data"]["billingKey"] for r in receiver.wait_for(2)]
    assert keys == [second, first]


def test_resend_webhook_sends_the_latest_again(fake, receiver):
    fake.pay_in_window("order-hook-3")
    receiver.wait_for(2)
    resent = fake.sdk().payment.resend_webhook(payment_id="order-hook-3")
    assert resent.webhook.payment_status == "PAID"
    again = receiver.wait_for(3)[2]
    assert again["body"]["type"] == "Transaction.Paid"
    fake.webhooks()  # waits until the sender has recorded the resend's answer
    payment = fake.sdk().payment.get_payment(payment_id="order-hook-3")
    assert {w.status for w in payment.webhooks} == {"SUCCEEDED"}
