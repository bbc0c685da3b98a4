"""PortOne V1 as its current PG modules behave (issue 14, items 8 and 9): the demo pays with the
minimal request_pay answer, and a closed window leaves the order pending until the sweep settles.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from payment_backend.services.order_schedule import ORDER_LIFETIME
from payment_backend.services.order_sweep import check_order

# The texts below are the demo's English ones: these tests switch the language on purpose.
pytestmark = pytest.mark.english

TEA = "Jeju green tea, 100 g"  # 15,000 KRW
WINDOW_CLOSED = "The payment window was closed before paying."
# Keeps what IMP.request_pay handed the demo's callback in window.__rsp.
RECORD_CALLBACK = """
(() => {
  let imp;
  Object.defineProperty(window, "IMP", {
    configurable: true,
    get() { return imp; },
    set(value) {
      const requestPay = value.request_pay;
      value.request_pay = (params, callback) =>
        requestPay(params, (rsp) => { window.__rsp = rsp; callback(rsp); });
      imp = value;
    },
  });
})();
"""


def sweep_once(system, order_id: str) -> str:
    """One look of the sweep at the order (the worker's check_order job); its status after."""
    with system.backend_app.app_context():
        return check_order(order_id)[1]


def test_the_demo_pays_with_the_minimal_callback(shop, backend_db, fake_iamport, screenshot):
    assert fake_iamport.gateway.config["CALLBACK"] == "minimal"
    page = shop.page
    page.add_init_script(RECORD_CALLBACK)
    shop.fill_cart(TEA, 1, gateway="PortOne", method="Card")
    window = shop.open_portone_window()
    shop.pay_portone_window(window)

    order_id = shop.order_id_from_url()
    expect(shop.status()).to_have_text("Paid")
    rsp = page.evaluate("window.__rsp")
    assert rsp == {
        "imp_uid": rsp["imp_uid"],
        "merchant_uid": order_id,
        "error_code": None,
        "error_msg": None,
    }  # no success, no paid_amount, no status: only the backend's look-up decided
    order = backend_db.order(order_id)
    assert (order.status, order.payment.vendor_payment_id) == ("paid", rsp["imp_uid"])
    screenshot()


def test_a_closed_window_leaves_the_order_pending_then_the_sweep_settles(
    shop, backend_db, fake_iamport, add_fault, screenshot
):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="PortOne", method="Card")
    window = shop.open_portone_window()
    expect(window.get_by_role("heading", name="Payment")).to_be_visible()
    window.close()

    expect(page.get_by_role("alert")).to_contain_text(WINDOW_CLOSED)
    order_id = shop.order_id_from_link()
    [at_gateway] = fake_iamport.payments_of(order_id)
    assert at_gateway["status"] == "ready"  # closed, not failed: the PG may still approve it
    page.get_by_role("link", name=f"View order {order_id}").click()
    expect(shop.status()).to_have_text("Pending")
    assert backend_db.order(order_id).status == "pending"

    # The PG approves after all and its webhook is lost: the sweep's next look finds it.
    add_fault(fake_iamport, {"target": "webhook", "action": "drop", "times": 1})
    fake_iamport.approve_late(at_gateway["imp_uid"])
    assert sweep_once(shop.system, order_id) == "paid"
    page.reload()
    expect(shop.status()).to_have_text("Paid")
    assert backend_db.order(order_id).payment.vendor_payment_id == at_gateway["imp_uid"]
    screenshot()


def test_a_closed_window_that_nobody_approves_expires(shop, backend_db, fake_iamport):
    page = shop.page
    shop.fill_cart(TEA, 1, gateway="PortOne", method="Card")
    window = shop.open_portone_window()
    expect(window.get_by_role("heading", name="Payment")).to_be_visible()
    window.close()
    order_id = shop.order_id_from_link()
    assert sweep_once(shop.system, order_id) == "pending"

    clock = shop.system.backend_app.extensions["clock"]
    try:
        clock.advance(ORDER_LIFETIME.total_seconds() + 60)
        assert sweep_once(shop.system, order_id) == "expired"
    finally:
        clock.reset()
    page.get_by_role("link", name=f"View order {order_id}").click()
    expect(shop.status()).to_have_text("Expired")
    assert fake_iamport.payments_of(order_id)[0]["status"] == "ready"  # no money moved
