"""The shop owner refunds part of an order, is refused more than is left, then refunds the rest."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

# The texts below are the demo's English ones: these tests switch the language on purpose.
pytestmark = pytest.mark.english


@dataclass(frozen=True)
class Case:
    """One order to refund: what the owner types (major units) and what the pages show."""

    gateway: str
    product: str
    partial: str  # typed into "Refund amount"
    too_much: str
    shown: dict[str, str]  # partial, rest, total, zero as the pages format them
    minor: tuple[int, int]  # partial, total in minor units
    gateway_amounts: list[int | float]  # the two refunds as the gateway's JSON carries them


CASES = {
    "PortOne-KRW": Case(
        "PortOne",
        "Jeju green tea, 100 g",
        "5000",
        "20000",
        {"partial": "5,000원", "rest": "10,000원", "total": "15,000원", "zero": "0원"},
        (5000, 15000),
        [5000, 10000],
    ),
    "PortOneV2-KRW": Case(
        "PortOne V2",
        "Jeju green tea, 100 g",
        "5000",
        "20000",
        {"partial": "5,000원", "rest": "10,000원", "total": "15,000원", "zero": "0원"},
        (5000, 15000),
        [5000, 10000],
    ),
    "Toss-KRW": Case(
        "Toss Payments",
        "Jeju green tea, 100 g",
        "5000",
        "20000",
        {"partial": "5,000원", "rest": "10,000원", "total": "15,000원", "zero": "0원"},
        (5000, 15000),
        [5000, 10000],
    ),
    "PortOne-USD": Case(
        "PortOne",
        "Overseas gift card",
        "5.00",
        "10.00",
        {"partial": "$5.00", "rest": "$7.50", "total": "$12.50", "zero": "$0.00"},
        (500, 1250),
        [5, 7.5],
    ),
}


@pytest.mark.parametrize("case_id", list(CASES))
def test_partial_refund_over_refund_and_the_rest(
    case_id,
    request,
    shop,
    backend_db,
    fake_iamport,
    fake_toss,
    fake_portone,
    admin_token,
    screenshot,
):
    case = CASES[case_id]
    shown = case.shown
    partial_minor, total_minor = case.minor
    page = shop.page
    shop.fill_cart(case.product, 1, gateway=case.gateway, method="Card")
    if case.gateway in ("PortOne", "PortOne V2"):  # both open a popup
        shop.pay_portone_window(shop.open_portone_window())
    else:
        shop.open_toss_window()
        shop.pay_toss_window()
    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("Paid")

    shop.open_admin(admin_token)
    row = shop.admin_row(order_id)
    expect(row).to_contain_text("Paid")
    amount = row.get_by_label("Refund amount")
    reason = row.get_by_label("Reason")
    refund = row.get_by_role("button", name="Refund", exact=True)

    amount.fill(case.partial)
    reason.fill("Damaged box")
    refund.click()
    # Nothing is refunded before the owner says yes to the amount.
    confirm = row.get_by_role("alertdialog")
    expect(confirm).to_contain_text(f"Refund {shown['partial']}?")
    assert backend_db.order(order_id).payment.refunded == 0
    confirm.get_by_role("button", name="Yes, refund").click()
    expect(row.get_by_role("status")).to_have_text(
        f"Refunded {shown['partial']}. Remaining: {shown['rest']}."
    )
    expect(row).to_contain_text("Partially refunded")

    amount.fill(case.too_much)
    refund.click()
    confirm.get_by_role("button", name="Yes, refund").click()
    expect(row.get_by_role("alert")).to_have_text(
        f"Refund refused: only {shown['rest']} can still be refunded."
    )
    expect(row).to_contain_text("Partially refunded")
    assert backend_db.order(order_id).payment.refunded == partial_minor

    amount.fill("")  # empty: all that is left
    reason.fill("Returned")
    refund.click()
    expect(confirm).to_contain_text(f"Refund {shown['rest']}?")  # the rest, named before it goes
    confirm.get_by_role("button", name="Yes, refund").click()
    expect(row.get_by_role("status")).to_have_text(
        f"Refunded {shown['rest']}. Remaining: {shown['zero']}."
    )
    expect(refund).to_have_count(0)  # nothing left: no refund form on the row

    order = backend_db.order(order_id)
    assert order.status == "refunded"
    assert (order.payment.status, order.payment.refunded) == ("refunded", total_minor)
    # Both refunds may carry the same second; the order among equal times is not defined.
    assert sorted(order.payment.cancels) == sorted([partial_minor, total_minor - partial_minor])
    if case.gateway == "PortOne":
        at_gateway = fake_iamport.payment(order.payment.vendor_payment_id)
        assert at_gateway["status"] == "cancelled"
        assert [c["amount"] for c in at_gateway["cancel_history"]] == case.gateway_amounts
        gateway_status = '"status": "cancelled"'
    elif case.gateway == "PortOne V2":
        at_gateway = fake_portone.payment(order_id)  # V2: the payment id is the order id
        assert at_gateway["status"] == "CANCELLED"
        assert [c["totalAmount"] for c in at_gateway["cancellations"]] == case.gateway_amounts
        gateway_status = '"status": "CANCELLED"'
    else:
        at_gateway = fake_toss.payment_of(order_id)
        assert at_gateway["status"] == "CANCELED"
        assert [c["cancelAmount"] for c in at_gateway["cancels"]] == case.gateway_amounts
        gateway_status = '"status": "CANCELED"'

    row.get_by_text("Gateway view").click()
    expect(row.get_by_label(f"Gateway view of {order_id}")).to_contain_text(gateway_status)
    screenshot(f"{request.node.name}-owner")

    page.get_by_role("link", name=order_id, exact=True).click()
    expect(shop.status()).to_have_text("Refunded")
    refunds = page.get_by_role("region", name="Refunds")
    expect(refunds.get_by_role("listitem")).to_have_count(2)
    expect(refunds).to_contain_text(f"Refunded {shown['total']} in total; {shown['zero']} remains.")
    screenshot()
