"""The official PortOne V2 server SDK against the fake: billing keys, charges with them, and
payment schedules charged when the fake clock passes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from portone_server_sdk import errors
from portone_server_sdk.common import CardCredential, PaymentAmountInput
from portone_server_sdk.payment import FailedPayment, PaidPayment
from portone_server_sdk.payment.billing_key import (
    DeletedBillingKeyInfo,
    InstantBillingKeyPaymentMethodInput,
    InstantBillingKeyPaymentMethodInputCard,
    IssuedBillingKeyInfo,
)
from portone_server_sdk.payment.payment_schedule import (
    BillingKeyPaymentScheduleInput,
    PaymentScheduleFilterInput,
    RevokedPaymentSchedule,
    ScheduledPaymentSchedule,
    SucceededPaymentSchedule,
)

BILLING_DECLINES_LATER = "4000000000000341"
INSUFFICIENT_FUNDS = "4000000000009995"


def issue(sdk, number: str = "4242424242424242") -> str:
    """A billing key from card data through the SDK."""
    card = InstantBillingKeyPaymentMethodInputCard(
        credential=CardCredential(number=number, expiry_year="39", expiry_month="12")
    )
    issued = sdk.payment.billing_key.issue_billing_key(
        method=InstantBillingKeyPaymentMethodInput(card=card)
    )
    return issued.billing_key_info.billing_key


def charge(sdk, payment_id: str, billing_key: str, amount: int = 9900):
    """pay_with_billing_key for a monthly plan."""
    return sdk.payment.pay_with_billing_key(
        payment_id=payment_id,
        billing_key=billing_key,
        order_name="Monthly plan",
        amount=PaymentAmountInput(total=amount),
        currency="KRW",
    )


def at(moment: datetime) -> str:
    """RFC 3339 in UTC."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_a_billing_key_is_read_then_deleted(portone_sdk):
    key = issue(portone_sdk)
    info = portone_sdk.payment.billing_key.get_billing_key_info(billing_key=key)
    assert isinstance(info, IssuedBillingKeyInfo)
    assert info.methods[0].card.number == "424242******4242"
    deleted = portone_sdk.payment.billing_key.delete_billing_key(billing_key=key, reason="quit")
    assert deleted.deleted_at
    info = portone_sdk.payment.billing_key.get_billing_key_info(billing_key=key)
    assert isinstance(info, DeletedBillingKeyInfo)
    with pytest.raises(errors.BillingKeyAlreadyDeletedError):
        portone_sdk.payment.billing_key.delete_billing_key(billing_key=key)
    with pytest.raises(errors.BillingKeyAlreadyDeletedError):
        charge(portone_sdk, "sub-deleted-1", key)
    with pytest.raises(errors.BillingKeyNotFoundError):
        portone_sdk.payment.billing_key.get_billing_key_info(billing_key="billing-key-nobody")


def test_a_refused_card_gets_no_billing_key(portone_sdk):
    with pytest.raises(errors.PgProviderError):
        issue(portone_sdk, INSUFFICIENT_FUNDS)


def test_a_charge_is_paid_and_the_payment_id_is_spent(portone_sdk):
    key = issue(portone_sdk)
    summary = charge(portone_sdk, "sub-1-2026-01", key).payment
    assert summary.pg_tx_id and summary.paid_at
    payment = portone_sdk.payment.get_payment(payment_id="sub-1-2026-01")
    assert isinstance(payment, PaidPayment)
    assert payment.billing_key == key and payment.amount.paid == 9900
    with pytest.raises(errors.AlreadyPaidError):
        charge(portone_sdk, "sub-1-2026-01", key)


def test_a_declined_charge_is_a_pg_provider_error(portone_sdk):
    key = issue(portone_sdk, BILLING_DECLINES_LATER)
    charge(portone_sdk, "sub-2-2026-01", key)  # the first charge goes through
    with pytest.raises(errors.PgProviderError) as caught:
        charge(portone_sdk, "sub-2-2026-02", key)
    assert caught.value.pg_code == "CD0002"
    failed = portone_sdk.payment.get_payment(payment_id="sub-2-2026-02")
    assert isinstance(failed, FailedPayment) and failed.failure.pg_code == "CD0002"


def test_a_schedule_is_created_read_and_charged_when_the_clock_passes_it(portone, portone_sdk):
    key = issue(portone_sdk)
    when = datetime.now(UTC) + timedelta(days=30)
    created = portone_sdk.payment.payment_schedule.create_payment_schedule(
        payment_id="sub-3-2026-02",
        payment=BillingKeyPaymentScheduleInput(
            billing_key=key,
            order_name="Monthly plan",
            amount=PaymentAmountInput(total=9900),
            currency="KRW",
        ),
        time_to_pay=at(when),
    )
    schedule_id = created.schedule.id
    booked = portone_sdk.payment.payment_schedule.get_payment_schedule(
        payment_schedule_id=schedule_id
    )
    assert isinstance(booked, ScheduledPaymentSchedule)
    assert booked.payment_id == "sub-3-2026-02" and booked.total_amount == 9900
    with pytest.raises(errors.PaymentScheduleAlreadyExistsError):  # revoke first
        portone_sdk.payment.billing_key.delete_billing_key(billing_key=key)
    listed = portone_sdk.payment.payment_schedule.get_payment_schedules(
        filter=PaymentScheduleFilterInput(
            billing_key=key, from_=at(when - timedelta(days=1)), until=at(when + timedelta(days=1))
        )
    )
    assert [s.id for s in listed.items] == [schedule_id]
    portone.advance(31 * 24 * 3600)
    done = portone_sdk.payment.payment_schedule.get_payment_schedule(
        payment_schedule_id=schedule_id
    )
    assert isinstance(done, SucceededPaymentSchedule)
    payment = portone_sdk.payment.get_payment(payment_id="sub-3-2026-02")
    assert isinstance(payment, PaidPayment) and payment.schedule_id == schedule_id


def test_schedules_are_revoked_by_billing_key_and_by_id(portone_sdk):
    key = issue(portone_sdk)
    base = datetime.now(UTC) + timedelta(days=30)
    ids = []
    for month in range(2):
        created = portone_sdk.payment.payment_schedule.create_payment_schedule(
            payment_id=f"sub-4-{month}",
            payment=BillingKeyPaymentScheduleInput(
                billing_key=key,
                order_name="Monthly plan",
                amount=PaymentAmountInput(total=9900),
                currency="KRW",
            ),
            time_to_pay=at(base + timedelta(days=30 * month)),
        )
        ids.append(created.schedule.id)
    one = portone_sdk.payment.payment_schedule.revoke_payment_schedules(schedule_ids=[ids[0]])
    assert one.revoked_schedule_ids == [ids[0]]
    with pytest.raises(errors.PaymentScheduleAlreadyRevokedError):
        portone_sdk.payment.payment_schedule.revoke_payment_schedules(schedule_ids=[ids[0]])
    rest = portone_sdk.payment.payment_schedule.revoke_payment_schedules(billing_key=key)
    assert rest.revoked_schedule_ids == [ids[1]]
    revoked = portone_sdk.payment.payment_schedule.get_payment_schedule(payment_schedule_id=ids[1])
    assert isinstance(revoked, RevokedPaymentSchedule)
    portone_sdk.payment.billing_key.delete_billing_key(billing_key=key)  # nothing booked now


def test_a_scheduled_payment_id_cannot_be_charged_directly(portone_sdk):
    key = issue(portone_sdk)
    portone_sdk.payment.payment_schedule.create_payment_schedule(
        payment_id="sub-5-1",
        payment=BillingKeyPaymentScheduleInput(
            billing_key=key,
            order_name="Monthly plan",
            amount=PaymentAmountInput(total=9900),
            currency="KRW",
        ),
        time_to_pay=at(datetime.now(UTC) + timedelta(days=3)),
    )
    with pytest.raises(errors.PaymentScheduleAlreadyExistsError):
        charge(portone_sdk, "sub-5-1", key)
    with pytest.raises(errors.PaymentScheduleNotFoundError):
        portone_sdk.payment.payment_schedule.get_payment_schedule(payment_schedule_id="nope")
