"""The official PortOne V2 server SDK against the fake: reads, lists, pre-registration, cancels,
virtual accounts, credentials. The SDK's strict deserialisation is the fidelity check."""

from __future__ import annotations

import pytest
from portone_server_sdk import errors
from portone_server_sdk.common import CardCredential, PageInput, PaymentAmountInput
from portone_server_sdk.payment import (
    CancelledPayment,
    FailedPayment,
    InstantPaymentMethodInput,
    InstantPaymentMethodInputCard,
    InstantPaymentMethodInputVirtualAccount,
    InstantPaymentMethodInputVirtualAccountExpiry,
    InstantPaymentMethodInputVirtualAccountOption,
    PaidPayment,
    PartialCancelledPayment,
    PaymentFilterInput,
    ReadyPayment,
    SucceededPaymentCancellation,
    VirtualAccountIssuedPayment,
)

from fake_portone import STORE_ID

DECLINED = "4000000000000002"


def key_in(sdk, payment_id: str, amount: int = 15000, number: str = "4242424242424242"):
    """A key-in card payment through the SDK's pay_instantly."""
    card = InstantPaymentMethodInputCard(
        credential=CardCredential(number=number, expiry_year="39", expiry_month="12")
    )
    return sdk.payment.pay_instantly(
        payment_id=payment_id,
        channel_key="channel-key-00000000-0000-4000-8000-000000000001",
        method=InstantPaymentMethodInput(card=card),
        order_name="Coffee beans 1kg",
        amount=PaymentAmountInput(total=amount),
        currency="KRW",
    )


def test_a_paid_payment_reads_back_as_the_sdk_expects(portone, portone_sdk):
    query = portone.pay_in_window("order-read-1", 15000, customData='{"item":"beans"}')
    payment = portone_sdk.payment.get_payment(payment_id="order-read-1")
    assert isinstance(payment, PaidPayment)
    assert payment.transaction_id == query["txId"]
    assert payment.store_id == STORE_ID
    assert payment.amount.total == payment.amount.paid == 15000
    assert payment.amount.vat == 1364 and payment.amount.supply == 13636
    assert payment.currency == "KRW" and payment.channel.type == "TEST"
    assert payment.method.card.number == "424242******4242"
    assert payment.disputes == [] and payment.paid_at.endswith("Z")
    assert payment.custom_data == '{"item":"beans"}'


def test_an_unknown_payment_is_payment_not_found(portone_sdk):
    with pytest.raises(errors.PaymentNotFoundError):
        portone_sdk.payment.get_payment(payment_id="nobody")


def test_an_opened_window_leaves_a_ready_payment(portone, portone_sdk):
    page = portone.open_window("payment", portone.payment_request("order-ready-1"))
    assert page.status_code == 200
    assert isinstance(portone_sdk.payment.get_payment(payment_id="order-ready-1"), ReadyPayment)


def test_a_declined_key_in_is_a_pg_provider_error_and_a_failed_payment(portone_sdk):
    with pytest.raises(errors.PgProviderError) as caught:
        key_in(portone_sdk, "order-decline-1", number=DECLINED)
    assert caught.value.pg_code and caught.value.pg_message
    payment = portone_sdk.payment.get_payment(payment_id="order-decline-1")
    assert isinstance(payment, FailedPayment)
    assert payment.failure.pg_code == caught.value.pg_code


def test_pre_registered_amount_is_enforced_in_the_window(portone, portone_sdk):
    portone_sdk.payment.pre_register_payment(
        payment_id="order-pre-1", total_amount=15000, currency="KRW"
    )
    refused = portone.pay_in_window("order-pre-1", 1000)
    assert refused["code"] == "AmountNotEqualToPredefined"
    with pytest.raises(errors.PaymentNotFoundError):
        portone_sdk.payment.get_payment(payment_id="order-pre-1")
    assert "code" not in portone.pay_in_window("order-pre-1", 15000)
    with pytest.raises(errors.AlreadyPaidError):
        portone_sdk.payment.pre_register_payment(payment_id="order-pre-1", total_amount=15000)


def test_partial_then_rest_cancel_with_the_expected_balance(portone_sdk):
    key_in(portone_sdk, "order-cancel-1", 15000)
    first = portone_sdk.payment.cancel_payment(
        payment_id="order-cancel-1",
        amount=5000,
        reason="one item",
        current_cancellable_amount=15000,
    )
    assert isinstance(first.cancellation, SucceededPaymentCancellation)
    assert first.cancellation.total_amount == 5000
    partly = portone_sdk.payment.get_payment(payment_id="order-cancel-1")
    assert isinstance(partly, PartialCancelledPayment)
    assert partly.amount.cancelled == 5000 and len(partly.cancellations) == 1
    rest = portone_sdk.payment.cancel_payment(
        payment_id="order-cancel-1", reason="the rest", current_cancellable_amount=10000
    )
    assert rest.cancellation.total_amount == 10000
    cancelled = portone_sdk.payment.get_payment(payment_id="order-cancel-1")
    assert isinstance(cancelled, CancelledPayment)
    assert cancelled.amount.cancelled == 15000 and len(cancelled.cancellations) == 2
    with pytest.raises(errors.PaymentAlreadyCancelledError):
        portone_sdk.payment.cancel_payment(payment_id="order-cancel-1", reason="again")


def test_over_cancel_and_a_stale_expected_balance_are_refused(portone_sdk):
    key_in(portone_sdk, "order-cancel-2", 10000)
    with pytest.raises(errors.CancelAmountExceedsCancellableAmountError):
        portone_sdk.payment.cancel_payment(payment_id="order-cancel-2", amount=10001, reason="x")
    with pytest.raises(errors.CancellableAmountConsistencyBrokenError):
        portone_sdk.payment.cancel_payment(
            payment_id="order-cancel-2", amount=100, reason="x", current_cancellable_amount=9000
        )
    payment = portone_sdk.payment.get_payment(payment_id="order-cancel-2")
    assert isinstance(payment, PaidPayment) and payment.amount.cancelled == 0


def test_cancelling_an_unpaid_payment_is_payment_not_paid(portone, portone_sdk):
    portone.open_window("payment", portone.payment_request("order-unpaid-1"))
    with pytest.raises(errors.PaymentNotPaidError):
        portone_sdk.payment.cancel_payment(payment_id="order-unpaid-1", reason="x")


def _virtual_account(sdk, payment_id: str):
    account = InstantPaymentMethodInputVirtualAccount(
        bank="SHINHAN",
        expiry=InstantPaymentMethodInputVirtualAccountExpiry(valid_hours=24),
        option=InstantPaymentMethodInputVirtualAccountOption(type="NORMAL"),
    )
    return sdk.payment.pay_instantly(
        payment_id=payment_id,
        channel_key="channel-key-00000000-0000-4000-8000-000000000001",
        method=InstantPaymentMethodInput(virtual_account=account),
        order_name="Desk",
        amount=PaymentAmountInput(total=30000),
        currency="KRW",
    )


def test_a_virtual_account_is_issued_then_deposited(portone, portone_sdk):
    _virtual_account(portone_sdk, "order-va-1")
    issued = portone_sdk.payment.get_payment(payment_id="order-va-1")
    assert isinstance(issued, VirtualAccountIssuedPayment)
    assert issued.method.bank == "SHINHAN" and issued.method.account_number
    assert issued.amount.paid == 0
    portone.deposit("order-va-1")
    paid = portone_sdk.payment.get_payment(payment_id="order-va-1")
    assert isinstance(paid, PaidPayment) and paid.amount.paid == 30000
    with pytest.raises(errors.InvalidRequestError):  # a deposited account needs refundAccount
        portone_sdk.payment.cancel_payment(payment_id="order-va-1", reason="refund")


def test_an_unpaid_virtual_account_is_closed(portone_sdk):
    _virtual_account(portone_sdk, "order-va-2")
    closed = portone_sdk.payment.close_virtual_account(payment_id="order-va-2")
    assert closed.closed_at
    assert isinstance(portone_sdk.payment.get_payment(payment_id="order-va-2"), CancelledPayment)
    with pytest.raises(errors.PaymentNotWaitingForDepositError):
        portone_sdk.payment.close_virtual_account(payment_id="order-va-2")


def test_the_list_filters_by_status_and_pages(portone, portone_sdk):
    for n in range(3):
        key_in(portone_sdk, f"order-list-{n}", 1000 + n)
    portone.open_window("payment", portone.payment_request("order-list-ready"))
    listed = portone_sdk.payment.get_payments(
        page=PageInput(number=0, size=2), filter=PaymentFilterInput(status=["PAID"])
    )
    assert listed.page.total_count == 3 and len(listed.items) == 2
    assert all(isinstance(p, PaidPayment) for p in listed.items)
    everything = portone_sdk.payment.get_payments()
    assert everything.page.total_count == 4


def test_a_wrong_secret_is_unauthorized_and_a_token_works(portone):
    import portone_server_sdk as sdk_module

    wrong = sdk_module.PortOneClient(secret="wrong", base_url=portone.url)
    with pytest.raises(errors.UnauthorizedError):
        wrong.payment.get_payment(payment_id="x")
    tokens = portone.sdk().auth.login_via_api_secret(api_secret=portone.api_secret)
    bearer = {"Authorization": f"Bearer {tokens.access_token}"}
    response = portone.http.get(f"{portone.url}/payments/none", headers=bearer, timeout=5)
    assert response.status_code == 404 and response.json()["type"] == "PAYMENT_NOT_FOUND"
    refreshed = portone.sdk().auth.refresh_token(refresh_token=tokens.refresh_token)
    assert refreshed.access_token != tokens.access_token
    with pytest.raises(errors.UnauthorizedError):  # a refresh token is good once
        portone.sdk().auth.refresh_token(refresh_token=tokens.refresh_token)


def test_a_foreign_store_is_forbidden(portone):
    response = portone.get("/payments/x", params={"storeId": "store-someone-else"})
    assert response.status_code == 403 and response.json()["type"] == "FORBIDDEN"


def test_an_idempotency_key_replays_the_first_answer(portone, portone_sdk):
    key_in(portone_sdk, "order-idem-1", 9000)
    headers = {"Idempotency-Key": '"refund-order-idem-1-a"'}
    body = {"amount": 1000, "reason": "once", "currentCancellableAmount": 9000}
    first = portone.post("/payments/order-idem-1/cancel", body, headers=headers)
    again = portone.post("/payments/order-idem-1/cancel", body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert portone.payment("order-idem-1")["amount"]["cancelled"] == 1000
