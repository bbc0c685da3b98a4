"""The browser's completion call and the gateway's webhook: either one is enough to settle."""

from __future__ import annotations

import pytest
from playwright.sync_api import Route, expect

# The texts below are the demo's English ones: these tests switch the language on purpose.
pytestmark = pytest.mark.english

TEA = "Jeju green tea, 100 g"  # 15,000 KRW


def test_paid_through_the_webhook_when_the_completion_is_lost(
    shop, backend_db, fake_iamport, screenshot
):
    page = shop.page
    lost: list[dict] = []

    def drop(route: Route) -> None:
        lost.append(route.request.post_data_json)
        route.abort("internetdisconnected")

    # The buyer's connection drops right after paying: /complete never reaches the backend.
    page.route("**/api/checkout/complete", drop)
    shop.fill_cart(TEA, 1, gateway="PortOne", method="Card")
    window = shop.open_portone_window()
    shop.pay_portone_window(window)

    expect(page.get_by_role("alert")).to_contain_text("It may have gone through")
    order_id = shop.order_id_from_link()
    assert [body["order_id"] for body in lost] == [order_id]

    # PortOne's notification (notice_url) is the only word the backend gets.
    hooks = [h for h in fake_iamport.webhooks() if h["body"].get("merchant_uid") == order_id]
    assert hooks, "fake PortOne sent no webhook for the order"
    assert all(h["delivered"] for h in hooks), hooks
    order = backend_db.order(order_id)
    assert order.status == "paid"
    assert ("order.paid", "webhook:iamport") in order.audit

    page.unroute("**/api/checkout/complete")
    page.goto(f"/orders/{order_id}")  # the buyer comes back later
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    expect(page.get_by_text(f"Order number {order_id}")).to_be_visible()
    expect(shop.status()).to_have_text("Paid")
    expect(page.get_by_role("region", name="Receipt")).to_contain_text(
        order.payment.vendor_payment_id
    )
    assert fake_iamport.payment(order.payment.vendor_payment_id)["status"] == "paid"
    screenshot()


def test_webhook_racing_the_completion(shop, system, backend_db, add_fault, screenshot):
    # Make the usual race certain: the webhook lands while /complete waits for the gateway.
    add_fault(system.iamport, {"target": "webhook", "action": "delay", "delay_seconds": 0.5})
    add_fault(
        system.iamport,
        {"method": "GET", "path": "/payments/imp_*", "latency_ms": 2500, "times": 1},
    )
    shop.fill_cart(TEA, 1, gateway="PortOne", method="Card")
    window = shop.open_portone_window()
    shop.pay_portone_window(window)

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("Paid")
    assert backend_db.order(order_id).status == "paid"
    screenshot()
