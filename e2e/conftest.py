"""The whole system as real servers (both fakes and the backend serving the built demo), and
what the browser tests read besides the page: the backend's records and the fakes' records."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import Page, expect

from fake_common.server import RunningServer, serve_in_thread
from fake_common.testing import ControlClient
from fake_common.window_client import agree_to_terms
from fake_iamport.testing import IamportTestClient, running_fake_iamport
from fake_portone.testing import PortOneTestClient, running_fake_portone
from fake_toss.testing import TossTestClient, running_fake_toss
from payment_backend import MIGRATIONS, create_app

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

APPROVED_CARD = "4242 4242 4242 4242"  # fakes/fake_common/cards.py
ORDER_URL = re.compile(r"/orders/(ord_[0-9a-f]+)$")


def pytest_configure(config: pytest.Config) -> None:
    """Keep a failing test's trace even without the Makefile's flags; the `english` marker."""
    config.addinivalue_line(
        "markers", "english: the demo in English (its language switch) instead of Korean"
    )
    if config.getoption("--tracing", default=None) == "off":
        config.option.tracing = "retain-on-failure"
    if config.getoption("--output", default=None) == "test-results":
        config.option.output = str(ARTIFACTS / "test-results")


def _newest_mtime(folder: Path) -> float:
    return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)


@pytest.fixture(scope="session")
def frontend_dist() -> Path:
    """frontend/dist, built when missing or older than its sources."""
    dist = FRONTEND / "dist"
    sources = [FRONTEND / "src", FRONTEND / "index.html", FRONTEND / "package-lock.json"]
    newest_source = max(_newest_mtime(p) if p.is_dir() else p.stat().st_mtime for p in sources)
    if not (dist / "index.html").exists() or _newest_mtime(dist) < newest_source:
        if not (FRONTEND / "node_modules").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
        subprocess.run(["npm", "run", "build"], cwd=FRONTEND, check=True)
    return dist


@dataclass
class System:
    """URLs and apps of the running system."""

    backend: RunningServer
    backend_app: Flask
    iamport: IamportTestClient
    toss: TossTestClient
    portone: PortOneTestClient

    @property
    def url(self) -> str:
        """The shop's URL."""
        return self.backend.url


@pytest.fixture(scope="session")
def system(frontend_dist: Path, tmp_path_factory) -> Iterator[System]:
    """Start fake iamport, fake Toss, fake PortOne V2 and the backend on free ports, wired as
    `make run` wires them."""
    # A snapshot, so that a rebuild of frontend/dist while the suite runs cannot break it.
    dist = shutil.copytree(frontend_dist, tmp_path_factory.mktemp("frontend") / "dist")
    # PortOne V1's real default: test-channel payments only with include_sandbox=true.
    with (
        running_fake_iamport({"HIDE_SANDBOX": True}) as iamport,
        running_fake_toss() as toss,
        running_fake_portone() as portone,
    ):
        app = create_app(
            {
                "PAYMENT_MODE": "test",
                "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
                "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('db') / 'e2e.sqlite3'}",
                "IAMPORT_API_URL": iamport.url,
                "TOSS_API_URL": toss.url,
                "PORTONE_API_URL": portone.url,
                "FRONTEND_DIST": str(dist),
                # Every browser test pays from 127.0.0.1: far more checkouts than one buyer makes.
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade(directory=str(MIGRATIONS))
        backend = serve_in_thread(app)
        app.config["PUBLIC_URL"] = backend.url
        # The merchant's webhook URLs, as set in each gateway's console (iamport: notice_url wins).
        iamport.gateway.config["WEBHOOK_URL"] = backend.url + "/payments/webhooks/iamport"
        toss.gateway.config["WEBHOOK_URL"] = backend.url + "/payments/webhooks/toss"
        portone.gateway.config["WEBHOOK_URL"] = backend.url + "/payments/webhooks/portone"
        yield System(backend=backend, backend_app=app, iamport=iamport, toss=toss, portone=portone)
        backend.close()
    with app.app_context():
        from payment_backend.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(system: System) -> str:
    """pytest-playwright's base URL: the shop."""
    return system.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict, base_url: str) -> dict:
    """Pages open relative URLs on the shop.

    pytest-playwright caches its own browser_context_args for the whole session; when the fakes'
    browser tests ran first in the same session, that copy has no base URL.
    """
    return {**browser_context_args, "base_url": base_url}


@pytest.fixture()
def screenshot(page, request):
    """Save a screenshot of the final page under e2e/artifacts/<test name>.png."""

    def take(name: str | None = None) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name or request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# -- the backend's records ---------------------------------------------------------------------


@dataclass
class PaymentRecord:
    """The backend's payment row of an order."""

    vendor_payment_id: str
    status: str
    amount: int
    refunded: int
    currency: str
    cancels: list[int]


@dataclass
class OrderRecord:
    """The backend's order row, its payment and its audit trail."""

    id: str
    vendor: str
    method: str
    status: str
    amount: int
    currency: str
    failure: dict[str, Any] | None
    payment: PaymentRecord | None
    audit: list[tuple[str, str]] = field(default_factory=list)  # (action, actor), oldest first


class BackendRecords:
    """Reads the backend's database directly (not through its API)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def order(self, order_id: str) -> OrderRecord:
        """The order as stored now; fails the test when there is none."""
        from sqlalchemy import select

        from payment_backend.extensions import db
        from payment_backend.models import Order
        from payment_backend.models.audit import AuditEntry

        with self.app.app_context():
            order = db.session.get(Order, order_id)
            assert order is not None, f"the backend has no order {order_id}"
            payment = order.payment
            entries = db.session.scalars(
                select(AuditEntry).where(AuditEntry.order_id == order_id).order_by(AuditEntry.id)
            )
            return OrderRecord(
                id=order.id,
                vendor=order.vendor,
                method=order.method,
                status=order.status,
                amount=order.amount,
                currency=order.currency,
                failure=order.failure,
                payment=PaymentRecord(
                    vendor_payment_id=payment.vendor_payment_id,
                    status=payment.status,
                    amount=payment.amount,
                    refunded=payment.refunded,
                    currency=payment.currency,
                    cancels=[c.amount for c in payment.cancels],
                )
                if payment
                else None,
                audit=[(e.action, e.actor) for e in entries],
            )


@pytest.fixture(scope="session")
def backend_db(system: System) -> BackendRecords:
    """The backend's database."""
    return BackendRecords(system.backend_app)


@pytest.fixture()
def iamport_prepare_off(system: System) -> Iterator[None]:
    """The backend stops pre-registering amounts at iamport (POST /payments/prepare) for one test."""
    config = system.backend_app.config
    before = config["IAMPORT_PREPARE"]
    config["IAMPORT_PREPARE"] = False
    yield
    config["IAMPORT_PREPARE"] = before


@pytest.fixture(scope="session")
def admin_token(system: System) -> str:
    """The owner's token (test mode generates one into the instance folder)."""
    return system.backend_app.config["PAYMENT_ADMIN_TOKEN"]


# -- the fakes' records, over their own REST and control APIs -------------------------------------


@pytest.fixture(scope="session")
def fake_iamport(system: System) -> IamportTestClient:
    """Fake PortOne, read as the merchant reads it (REST with a token) and through its control API."""
    return system.iamport


@pytest.fixture(scope="session")
def fake_toss(system: System) -> TossTestClient:
    """Fake Toss, read as the merchant reads it (REST with the secret key) and its control API."""
    return system.toss


@pytest.fixture(scope="session")
def fake_portone(system: System) -> PortOneTestClient:
    """Fake PortOne V2, read as the merchant reads it (REST with the API secret), its control API."""
    return system.portone


@pytest.fixture()
def add_fault() -> Iterator:
    """add_fault(fake, rule): a fault rule at a fake (its /__control/faults), removed after the test."""
    added: list[tuple[ControlClient, int]] = []

    def add(fake: ControlClient, rule: dict) -> dict:
        added_rule = fake.add_fault(rule)
        added.append((fake, added_rule["id"]))
        return added_rule

    yield add
    for fake, rule_id in added:
        fake.remove_fault(rule_id)


# -- the shop, driven as a buyer and an owner do ------------------------------------------------


# What the driver clicks and reads, in the demo's two languages (frontend/src/lib/texts.*.js).
TEXTS = {
    "ko": {
        "quantity_of": "{product} 수량",
        "gateway": "결제대행사",
        "method": "결제수단",
        "PortOne": "포트원 V1 (아임포트)",
        "PortOne V2": "포트원",
        "Toss Payments": "토스페이먼츠",
        "Card": "카드",
        "Virtual account": "가상계좌",
        "toss_integration": "토스페이먼츠 연동 방식",
        "window": "결제창",
        "widget": "결제위젯",
        "v1": "결제창 (v1 SDK)",
        "tamper": "금액 변조: 더 적은 금액으로 결제 (데모)",
        "pay": "결제하기",
        "view_order": "주문 {order_id} 보기",
        "orders": "주문 관리",
        "admin_token": "관리자 토큰",
        "save_token": "토큰 저장",
        "order_status": "주문 상태",
    },
    "en": {
        "quantity_of": "Quantity of {product}",
        "gateway": "Gateway",
        "method": "Payment method",
        "PortOne": "PortOne V1 (iamport)",
        "PortOne V2": "PortOne",
        "Toss Payments": "Toss Payments",
        "Card": "Card",
        "Virtual account": "Virtual account",
        "toss_integration": "Toss Payments integration",
        "window": "Payment window",
        "widget": "Payment widget",
        "v1": "Payment window (v1 SDK)",
        "tamper": "Tamper: pay a lower amount (demo)",
        "pay": "Pay",
        "view_order": "View order {order_id}",
        "orders": "Orders",
        "admin_token": "Admin token",
        "save_token": "Save token",
        "order_status": "Order status",
    },
}
WINDOW_PAY = "결제하기"  # the fake payment windows' Pay button ("결제하기 Pay")


def use_language(page: Page, lang: str) -> None:
    """Open every page of this browser page in `lang` (the demo keeps the choice in localStorage)."""
    page.add_init_script(f"window.localStorage.setItem('lang', '{lang}')")


@pytest.fixture()
def language(request: pytest.FixtureRequest) -> str:
    """Korean, the demo's default; English for tests marked `english` (a deliberate switch)."""
    return "en" if request.node.get_closest_marker("english") else "ko"


class Shop:
    """The demo's pages, used by role and accessible name, in the test's language."""

    def __init__(self, page: Page, system: System, lang: str = "ko") -> None:
        self.page = page
        self.system = system
        self.lang = lang
        self.texts = TEXTS[lang]

    def text(self, key: str, **values: str) -> str:
        """One of the driver's texts in the page's language."""
        return self.texts[key].format(**values)

    def fill_cart(
        self,
        product: str,
        quantity: int = 1,
        *,
        gateway: str = "PortOne",
        method: str = "Card",
        tamper: bool = False,
    ) -> None:
        """Open the shop, put quantity of a product in the cart and choose how to pay."""
        page = self.page
        page.goto("/")
        page.get_by_label(self.text("quantity_of", product=product), exact=True).fill(str(quantity))
        page.get_by_role("group", name=self.text("gateway")).get_by_role(
            "radio", name=self.text(gateway), exact=True
        ).check()
        page.get_by_role("group", name=self.text("method")).get_by_role(
            "radio", name=self.text(method)
        ).check()
        if tamper:
            page.get_by_label(self.text("tamper")).check()

    def choose_toss_integration(self, integration: str) -> None:
        """Pay Toss through its v2 payment "window", its v2 payment "widget" or the "v1" script."""
        self.page.get_by_role("group", name=self.text("toss_integration")).get_by_role(
            "radio", name=self.text(integration), exact=True
        ).check()

    def pay_button(self):
        """The shop's Pay button."""
        return self.page.get_by_role("button", name=self.text("pay"), exact=True)

    def open_portone_window(self) -> Page:
        """Press Pay; returns the PortOne payment popup once it shows the order."""
        with self.page.expect_popup() as popup:
            self.pay_button().click()
        window = popup.value
        window.wait_for_load_state()
        return window

    @staticmethod
    def pay_portone_window(window: Page, card: str | None = APPROVED_CARD) -> None:
        """Pay in the PortOne popup with a test card (None: a virtual account); it closes itself."""
        expect(window.get_by_role("heading", name="Payment")).to_be_visible()
        if card is not None:
            window.get_by_label("Card number").fill(card)
        elif not window.get_by_label("Bank").input_value():
            window.get_by_label("Bank").select_option(index=1)  # the first bank, unless preset
        agree_to_terms(window)
        with window.expect_event("close"):
            window.get_by_role("button", name=WINDOW_PAY).click()

    def open_toss_window(self) -> None:
        """Press Pay; the page itself goes to the Toss payment window."""
        self.pay_button().click()
        expect(self.page).to_have_url(re.compile(re.escape(self.system.toss.url) + "/window"))

    def pay_toss_window(self, card: str | None = APPROVED_CARD) -> None:
        """Pay in the Toss window with a test card (None: a virtual account at the first bank)."""
        page = self.page
        if card is None:
            page.get_by_label("Bank").select_option(index=1)
        else:
            page.get_by_label("Card number").fill(card)
        agree_to_terms(page)
        page.get_by_role("button", name=WINDOW_PAY).click()

    def order_id_from_url(self) -> str:
        """Wait for the order page and return its order id."""
        expect(self.page).to_have_url(ORDER_URL)
        return ORDER_URL.search(self.page.url).group(1)

    def order_id_from_link(self) -> str:
        """The order id of the "View order ..." link a failure shows."""
        link = self.page.get_by_role("link", name=re.compile(r"(ord_[0-9a-f]+)"))
        expect(link).to_be_visible()
        return re.search(r"ord_[0-9a-f]+", link.inner_text()).group(0)

    def order_link(self, order_id: str):
        """The "View order …" link of an order."""
        return self.page.get_by_role("link", name=self.text("view_order", order_id=order_id))

    def status(self):
        """The order page's status badge."""
        return self.page.get_by_role("status", name=self.text("order_status"))

    def open_admin(self, token: str) -> None:
        """Open the owner's page and give it the admin token (test mode needs one)."""
        page = self.page
        page.goto("/admin")
        expect(page.get_by_role("heading", name=self.text("orders"), exact=True)).to_be_visible()
        page.get_by_label(self.text("admin_token")).fill(token)
        page.get_by_role("button", name=self.text("save_token")).click()

    def admin_row(self, order_id: str):
        """The owner's table row of one order."""
        return self.page.get_by_role("row").filter(
            has=self.page.get_by_role("link", name=order_id, exact=True)
        )


@pytest.fixture()
def shop(page: Page, system: System, language: str) -> Shop:
    """The demo shop in a fresh browser page, in the test's language."""
    page.set_default_timeout(10_000)  # every step is local: fail in seconds, not 30
    use_language(page, language)
    return Shop(page, system, language)


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture()
def phone(browser, system: System) -> Iterator[Shop]:
    """The shop on a phone: 390 px wide, a mobile browser (gateways redirect, no popups)."""
    context = browser.new_context(
        base_url=system.url,
        user_agent=IPHONE,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    use_language(page, "ko")
    yield Shop(page, system, "ko")
    context.close()
