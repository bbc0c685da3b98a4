"""Subscriptions through the demo's pages: subscribe with each gateway, move the test clock a
month, see the renewal, cancel and see no further charge; a declining card shows Past due and
Replace card recovers it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from fake_common.window_client import agree_to_terms

System = Any  # e2e/conftest.py's System (the running servers and the backend app)

APPROVED = "4242 4242 4242 4242"
DECLINES_LATER = "4000 0000 0000 0341"  # issues a billing key; later charges decline
SUBSCRIPTION_URL = re.compile(r"/subscriptions/(sub_[0-9a-f]{20})$")
PAID = {"iamport": "paid", "toss": "DONE", "portone": "PAID"}  # each fake's paid status
GATEWAYS = {"iamport": "PortOne V1 (iamport)", "portone": "PortOne", "toss": "Toss Payments"}


class Subscriber:
    """The subscription pages, used by role and accessible name."""

    def __init__(self, page: Page, system: System) -> None:
        self.page = page
        self.system = system

    def subscribe(self, vendor: str, card: str = APPROVED, plan: str = "Basic monthly") -> str:
        """Subscribe on /subscribe, register the card in the gateway's window; the id."""
        page = self.page
        page.goto("/subscribe")
        page.get_by_role("radio", name=re.compile(f"^{plan}")).check()
        page.get_by_role("group", name="Gateway").get_by_role(
            "radio", name=GATEWAYS[vendor], exact=True
        ).check()
        if vendor in ("iamport", "portone"):  # both PortOne windows are popups
            with page.expect_popup() as popup:
                page.get_by_role("button", name="Subscribe", exact=True).click()
            self.register_in_portone(popup.value, card, vendor)
        else:
            page.get_by_role("button", name="Subscribe", exact=True).click()
            self.register_in_toss(card)
        expect(page).to_have_url(SUBSCRIPTION_URL, timeout=15_000)
        return SUBSCRIPTION_URL.search(page.url).group(1)

    @staticmethod
    def register_in_portone(window: Page, card: str, vendor: str = "iamport") -> None:
        window.wait_for_load_state()
        expect(window.get_by_role("heading", name="Register a card for billing")).to_be_visible()
        window.get_by_label("Card number").fill(card)
        window.get_by_label("Expiry").fill("12/35")  # MM/YY in every window
        agree_to_terms(window)
        with window.expect_event("close"):
            window.get_by_role("button", name="Register card").click()

    def register_in_toss(self, card: str) -> None:
        page = self.page
        expect(page).to_have_url(re.compile(re.escape(self.system.toss.url) + "/billing-window"))
        page.get_by_label("Card number").fill(card)
        page.get_by_label("Expiry").fill("12/35")
        agree_to_terms(page)
        page.get_by_role("button", name="Register card").click()

    def replace_card(self, vendor: str, card: str) -> None:
        """Replace card (in the Payment failed panel while past due), then the card window."""
        page = self.page
        button = page.get_by_role("button", name="Replace card")
        if vendor in ("iamport", "portone"):
            with page.expect_popup() as popup:
                button.click()
            self.register_in_portone(popup.value, card, vendor)
        else:
            button.click()
            self.register_in_toss(card)
            expect(page).to_have_url(SUBSCRIPTION_URL, timeout=15_000)

    def status(self):
        return self.page.get_by_role("status", name="Subscription status")

    def charge(self, period: int):
        """The Charges table's row of one period."""
        charges = self.page.get_by_role("region", name="Charges")
        return charges.get_by_role("row").filter(
            has=self.page.get_by_role("rowheader", name=str(period), exact=True)
        )

    def charge_rows(self):
        return self.page.get_by_role("region", name="Charges").get_by_role("row")

    def advance(self, label: str) -> None:
        """Press a Test clock button and wait for its answer."""
        clock = self.page.get_by_role("region", name="Test clock")
        clock.get_by_role("button", name=f"Advance {label}").click()
        expect(clock.get_by_text(re.compile(f"^Advanced {label}"))).to_be_visible(timeout=30_000)

    def cancel(self) -> None:
        page = self.page
        page.get_by_role("button", name="Cancel subscription").click()
        page.get_by_role("button", name="Yes, cancel").click()
        expect(self.status()).to_have_text("Canceled")


@pytest.fixture()
def subscriber(page: Page, system: System) -> Iterator[Subscriber]:
    """The pages in a fresh browser page; the clocks back at wall time afterwards."""
    page.set_default_timeout(10_000)
    # The texts below are the demo's English ones: these tests switch the language on purpose.
    page.add_init_script("window.localStorage.setItem('lang', 'en')")
    yield Subscriber(page, system)
    system.backend_app.extensions["clock"].reset()
    for fake in (system.iamport, system.toss, system.portone):
        requests.post(f"{fake.url}/__control/clock", json={"now": time.time()}, timeout=10)


def gateway_payments(system: System, vendor: str, order_id: str) -> list[str]:
    """The statuses of the payments a fake holds for an order id."""
    if vendor == "iamport":
        token = requests.post(
            f"{system.iamport.url}/users/getToken",
            json={"imp_key": "test_imp_key", "imp_secret": "test_imp_secret"},
            timeout=10,
        ).json()["response"]["access_token"]
        found = requests.get(
            f"{system.iamport.url}/payments/findAll/{order_id}",
            headers={"Authorization": token},
            timeout=10,
        )
        return [] if found.status_code == 404 else [p["status"] for p in found.json()["response"]]
    if vendor == "portone":  # one payment id per try: the order id, then order id-2, -3, ...
        tries = [order_id] + [f"{order_id}-{n}" for n in range(2, 6)]
        return [found["status"] for t in tries if (found := system.portone.payment(t))]
    found = requests.get(
        f"{system.toss.url}/v1/payments/orders/{order_id}",
        auth=("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R", ""),
        timeout=10,
    )
    return [] if found.status_code == 404 else [found.json()["status"]]


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_subscribe_renew_and_cancel(subscriber, system, vendor, screenshot):
    page = subscriber.page
    sub_id = subscriber.subscribe(vendor)
    expect(page.get_by_role("heading", name=f"Subscription {sub_id}")).to_be_visible()
    expect(subscriber.status()).to_have_text("Active")
    expect(subscriber.charge(1)).to_contain_text("Paid")
    expect(subscriber.charge(2)).to_contain_text("Scheduled")
    if vendor == "iamport":
        expect(subscriber.charge(1)).to_contain_text("first payment (card registration)")

    subscriber.advance("1 month")
    expect(subscriber.charge(2)).to_contain_text("Paid")
    expect(subscriber.charge(3)).to_contain_text("Scheduled")
    expect(subscriber.charge(1)).to_contain_text("Paid")
    expect(subscriber.status()).to_have_text("Active")
    paid = PAID[vendor]
    assert gateway_payments(system, vendor, f"{sub_id}_p2") == [paid]

    subscriber.cancel()
    expect(page.get_by_text("No further charges")).to_be_visible()
    expect(subscriber.charge(3)).to_have_count(0)  # the next charge is gone

    subscriber.advance("1 month")
    expect(subscriber.status()).to_have_text("Canceled")
    expect(subscriber.charge_rows()).to_have_count(3)  # the header and periods 1 and 2
    assert gateway_payments(system, vendor, f"{sub_id}_p3") == []
    assert gateway_payments(system, vendor, f"{sub_id}_p1") == [paid]  # nothing refunded
    screenshot()


@pytest.mark.parametrize("vendor", ["iamport", "toss", "portone"])
def test_a_declining_card_is_past_due_and_a_new_card_recovers_it(
    subscriber, system, vendor, screenshot
):
    page = subscriber.page
    if vendor in ("iamport", "portone"):
        # Its first charge goes through (PortOne V2: the first charge with the key).
        sub_id = subscriber.subscribe(vendor, DECLINES_LATER)
    else:
        # Toss charges the first period with the billing key itself: the declining card would
        # be refused at once, so the subscription switches to it after starting.
        sub_id = subscriber.subscribe("toss")
        subscriber.replace_card("toss", DECLINES_LATER)
    expect(subscriber.status()).to_have_text("Active")

    subscriber.advance("1 month")
    expect(subscriber.status()).to_have_text("Past due")
    past_due = page.get_by_role("region", name="Payment failed")
    expect(past_due).to_contain_text("We will try the card again")
    expect(subscriber.charge(2)).to_contain_text("Failed")

    subscriber.advance("1 day")
    expect(past_due).to_contain_text("retry 2")

    expect(past_due.get_by_role("button", name="Replace card")).to_be_visible()
    subscriber.replace_card(vendor, APPROVED)
    expect(subscriber.status()).to_have_text("Active")
    expect(subscriber.charge(2)).to_contain_text("Paid")
    expect(subscriber.charge(3)).to_contain_text("Scheduled")
    expect(page.get_by_role("region", name="Payment failed")).to_have_count(0)
    paid = PAID[vendor]
    assert paid in gateway_payments(system, vendor, f"{sub_id}_p2")

    subscriber.advance("1 month")
    expect(subscriber.charge(3)).to_contain_text("Paid")
    screenshot()
    subscriber.cancel()


def test_the_test_clock_moves_a_calendar_month_and_resets(subscriber, system, screenshot):
    page = subscriber.page
    subscriber.subscribe("iamport")
    clock = page.get_by_role("region", name="Test clock")
    expect(clock.get_by_role("button", name="Reset clock")).to_be_disabled()  # at real time
    subscriber.advance("1 month")
    expect(clock.get_by_text(re.compile(r"\(\d+ days ahead\)"))).to_be_visible()
    moved = [
        requests.get(f"{f.url}/__control/clock", timeout=10).json()
        for f in (system.iamport, system.toss)
    ]
    assert all(27 * 86400 < fake["offset"] < 32 * 86400 for fake in moved)

    clock.get_by_role("button", name="Reset clock").click()
    expect(clock.get_by_text(re.compile("^Clock reset to real time"))).to_be_visible(timeout=30_000)
    expect(clock.get_by_text("days ahead")).to_have_count(0)
    expect(clock.get_by_role("button", name="Reset clock")).to_be_disabled()
    for fake in (system.iamport, system.toss, system.portone):
        assert abs(requests.get(f"{fake.url}/__control/clock", timeout=10).json()["offset"]) < 5
    screenshot()
