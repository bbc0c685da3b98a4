"""The owner's subscription dashboard over three months of test time, in Korean and English at
1440 and 390 px: each chart drawn, the table beside it showing what the API answers, and the
subscribers listed with name and email. Also takes the README's two screenshots (1440 px)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from fake_common.window_client import APPROVED, iamport_pay, toss_register_card

System = Any  # e2e/conftest.py's System
DECLINES_LATER = "4000000000000341"  # a billing key issues; every later charge declines
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
README_SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
HEADINGS = {"ko": "구독자 관리", "en": "Subscriptions"}
CHARTS = ("members", "money", "mrr")
MONEY = {"revenue", "refunds", "net", "mrr"}
SUBSCRIBERS = [  # (name, email, vendor, plan, card)
    ("홍길동", "gildong@example.com", "toss", 1, APPROVED),
    ("김민지", "minji@example.com", "iamport", 2, DECLINES_LATER),
    ("이서준", "seojun@example.com", "toss", 1, APPROVED),
    ("박지우", "jiwoo@example.com", "iamport", 1, APPROVED),
]


class Owner:
    """The subscribers' and the owner's calls over HTTP, and the test clock."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.url = system.url
        token = system.backend_app.config["PAYMENT_ADMIN_TOKEN"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def subscribe(self, name: str, email: str, vendor: str, plan: int, card: str) -> str:
        created = requests.post(
            f"{self.url}/api/subscriptions",
            json={"plan_id": plan, "vendor": vendor, "buyer": {"name": name, "email": email}},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        sub, setup = created.json(), created.json()["setup"]
        if vendor == "iamport":
            query = iamport_pay(
                self.system.iamport.url,
                merchant_uid=setup["merchant_uid"],
                amount=setup["amount"],
                customer_uid=setup["customer_uid"],
                notice_url=setup["notice_url"],
                pg=setup["pg"],
                card=card,
            )
            proof = {"imp_uid": query["imp_uid"]}
        else:
            query = toss_register_card(
                self.system.toss.url, customer_key=setup["customer_key"], card=card
            )
            proof = {"auth_key": query["authKey"], "customer_key": query["customerKey"]}
        sub_id = sub["subscription_id"]
        active = requests.post(
            f"{self.url}/api/subscriptions/{sub_id}/activate", json=proof, timeout=30
        )
        assert active.status_code == 200 and active.json()["status"] == "active", active.text
        return sub_id

    def cancel(self, sub_id: str) -> None:
        answer = requests.post(
            f"{self.url}/api/subscriptions/{sub_id}/cancel", json={"reason": "이사"}, timeout=30
        )
        assert answer.status_code == 200, answer.text

    def refund(self, sub_id: str, period: int, amount: int) -> None:
        answer = requests.post(
            f"{self.url}/api/admin/subscriptions/{sub_id}/charges/{period}/refund",
            json={"amount": amount, "reason": "goodwill"},
            headers=self.headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text

    def clock(self, body: dict | None = None, path: str = "") -> dict:
        answer = requests.post(f"{self.url}/api/test/clock{path}", json=body or {}, timeout=120)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def dashboard(self) -> dict:
        answer = requests.get(
            f"{self.url}/api/admin/subscriptions/dashboard", headers=self.headers, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def three_months(system: System) -> Iterator[Owner]:
    """Subscribers who join, cancel, renew, are churned by dunning and refunded over three
    months of test time; the clocks are back at real time afterwards."""
    owner = Owner(system)
    owner.clock(path="/reset")
    ids = [owner.subscribe(*s) for s in SUBSCRIBERS]
    owner.cancel(ids[2])
    owner.refund(ids[2], 1, 4000)
    owner.clock({"months": 1})  # the renewals: 김민지's card declines
    for _ in range(6):  # retried 1, 3 and 5 days after the first decline, then canceled
        owner.clock({"advance": 86400})
    owner.subscribe("최유나", "yuna@example.com", "toss", 2, APPROVED)
    owner.refund(ids[0], 2, 3000)
    owner.clock({"months": 1})
    yield owner
    owner.clock(path="/reset")


def open_dashboard(page: Page, system: System, lang: str, width: int) -> None:
    token = system.backend_app.config["PAYMENT_ADMIN_TOKEN"]
    page.add_init_script(
        f"localStorage.setItem('lang', '{lang}'); localStorage.setItem('adminToken', '{token}')"
    )
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(15_000)
    page.goto("/admin/subscriptions")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[lang])


def shown(key: str, value: int) -> str:
    return f"{value:,}원" if key in MONEY else str(value)


@pytest.mark.parametrize("width", [1440, 390])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_dashboard_charts_each_month_with_the_apis_numbers_beside(
    lang, width, three_months, system, page, screenshot
):
    answer = three_months.dashboard()
    months = answer["months"]
    assert sum(m["joined"] for m in months) == 5
    assert sum(m["churned"] for m in months) == 1 and sum(m["canceled"] for m in months) == 1
    assert sum(m["refunds"] for m in months) == 7000

    open_dashboard(page, system, lang, width)
    for chart in CHARTS:
        section = page.locator(f"section[data-chart='{chart}']")
        expect(section.locator(".recharts-wrapper svg.recharts-surface").first).to_be_visible()
        expect(section.locator(".recharts-bar-rectangle").first).to_be_attached()
        box = section.locator(".monthly-chart").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 200, box
        rows = section.locator("tbody tr")
        expect(rows).to_have_count(len(months))
        for month in months:
            row = section.locator(f"tr[data-month='{month['month']}']")
            cells = row.locator("td[data-key]")
            keys = cells.evaluate_all("cells => cells.map(c => c.dataset.key)")
            assert keys, chart
            expect(cells).to_have_text([shown(key, month[key]) for key in keys])
    table = page.locator("section[data-chart='members'] .monthly-table")
    chart = page.locator("section[data-chart='members'] .monthly-chart")
    table_box, chart_box = table.bounding_box(), chart.bounding_box()
    if width == 1440:  # beside the chart
        assert table_box["x"] > chart_box["x"] + chart_box["width"] - 1
    else:  # below it, and the page never scrolls sideways
        assert table_box["y"] >= chart_box["y"] + chart_box["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    subscribers = page.get_by_role("region", name="구독자 목록" if lang == "ko" else "Subscribers")
    for name, email, *_ in [*SUBSCRIBERS, ("최유나", "yuna@example.com")]:
        row = subscribers.get_by_role("row").filter(has_text=email)
        expect(row).to_contain_text(name)
    screenshot(f"subscription-dashboard-{lang}-{width}")


def test_the_readmes_screenshots_at_1440_px(three_months, system, page):
    """The shop and the owner's dashboard for the README (copied into docs/screenshots/ when
    UPDATE_README_SCREENSHOTS=1)."""
    folder = ARTIFACTS / "readme"
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.add_init_script("localStorage.setItem('lang', 'ko')")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("상점")
    page.get_by_label("Jeju green tea, 100 g 수량").fill("2")
    page.get_by_role("button", name="Jeju green tea, 100 g 장바구니에 담기").click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(folder / "shop.png"), full_page=True)
    open_dashboard(page, system, "ko", 1440)
    expect(page.locator(".recharts-wrapper")).to_have_count(3)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(folder / "dashboard.png"), full_page=True)
    if os.environ.get("UPDATE_README_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        for name in ("shop.png", "dashboard.png"):
            shutil.copy(folder / name, README_SHOTS / name)
