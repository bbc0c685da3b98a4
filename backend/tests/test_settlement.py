"""Daily settlement: the gateways' listings beside the ledger, differences named, as JSON, CSV
and the `settle` command."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from payment_backend.clock import now
from payment_backend.extensions import db
from payment_backend.models import Payment, PaymentCancel
from payment_backend.services.settlement import day_bounds


@pytest.fixture()
def owner(app) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.config['PAYMENT_ADMIN_TOKEN']}"}


def paid_order(shop, vendor: str) -> dict:
    order = shop.create_order(vendor)
    payment_id, _ = shop.pay(order)
    response = shop.complete(order, payment_id)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture()
def day_of_trading(app, shop, client, owner) -> dict:
    """Today's business: matched payments and a refund, a payment the ledger lacks (paid at the
    gateway, never completed here), a refund the gateway lacks, a refund whose amount differs."""
    matched = paid_order(shop, "iamport")
    refunded = paid_order(shop, "toss")
    url = f"/api/checkout/orders/{refunded['order_id']}/refund"
    answer = client.post(url, json={"amount": 3000, "reason": "one back"}, headers=owner)
    assert answer.status_code == 200, answer.get_json()
    unrecorded = shop.create_order("iamport")
    unrecorded_id, _ = shop.pay(unrecorded)  # the browser never came back
    with app.app_context():
        payment = db.session.scalars(
            select(Payment).where(Payment.vendor_payment_id == matched["payment"]["payment_id"])
        ).one()
        db.session.add(
            PaymentCancel(
                payment_id=payment.id,
                vendor_cancel_id=f"ledger-only-{payment.id[:8]}",
                amount=700,
                reason="recorded here only",
                cancelled_at=now(),
                sealed_data="",
            )
        )
        toss_refund = db.session.scalars(
            select(PaymentCancel)
            .join(Payment, PaymentCancel.payment_id == Payment.id)
            .where(Payment.vendor_payment_id == refunded["payment"]["payment_id"])
        ).one()
        toss_refund.amount += 1  # our record says 3,001
        db.session.commit()
        start, _, _ = day_bounds(now().date())
        today = now().astimezone(start.tzinfo).date().isoformat()
    return {
        "date": today,
        "matched": matched["payment"]["payment_id"],
        "refunded": refunded["payment"]["payment_id"],
        "unrecorded": unrecorded_id,
        "ledger_only": f"ledger-only-{payment.id[:8]}",
    }


def lines_of(body: dict, payment_id: str) -> list[dict]:
    return [line for line in body["lines"] if line["payment_id"] == payment_id]


def test_the_day_is_settled_line_by_line_with_each_difference_named(client, owner, day_of_trading):
    day = day_of_trading
    assert client.get(f"/api/admin/settlement?date={day['date']}").status_code == 401
    answer = client.get(f"/api/admin/settlement?date={day['date']}", headers=owner)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["date"] == day["date"] and body["timezone"] == "Asia/Seoul"
    assert body["unavailable"] == {}

    matched = lines_of(body, day["matched"])
    payment = next(line for line in matched if line["kind"] == "payment")
    assert payment["difference"] is None
    assert payment["gateway_amount"] == payment["ledger_amount"] == 30000
    ledger_only = next(line for line in matched if line["kind"] == "refund")
    assert ledger_only["transaction_id"] == day["ledger_only"]
    assert ledger_only["difference"] == "missing_at_gateway"
    assert (ledger_only["gateway_amount"], ledger_only["ledger_amount"]) == (None, 700)

    unrecorded = lines_of(body, day["unrecorded"])
    assert [(line["kind"], line["difference"]) for line in unrecorded] == [
        ("payment", "missing_in_ledger")
    ]
    assert unrecorded[0]["ledger_amount"] is None and unrecorded[0]["gateway_amount"] > 0

    refunded = {line["kind"]: line for line in lines_of(body, day["refunded"])}
    assert refunded["payment"]["difference"] is None
    assert refunded["refund"]["difference"] == "amount_differs"
    assert (refunded["refund"]["gateway_amount"], refunded["refund"]["ledger_amount"]) == (
        3000,
        3001,
    )
    assert body["differences"] >= 3

    totals = {(t["vendor"], t["method"], t["currency"]): t for t in body["totals"]}
    toss_card = totals[("toss", "card", "KRW")]
    assert toss_card["refunds"] >= 3000 and toss_card["refund_count"] >= 1
    assert toss_card["net"] == toss_card["payments"] - toss_card["refunds"]
    gateway_toss_card = sum(
        (1 if line["kind"] == "payment" else -1) * (line["gateway_amount"] or 0)
        for line in body["lines"]
        if (line["vendor"], line["method"]) == ("toss", "card")
    )
    assert toss_card["net"] == gateway_toss_card


def test_the_settlement_downloads_as_csv(client, owner, day_of_trading):
    day = day_of_trading
    answer = client.get(f"/api/admin/settlement/csv?date={day['date']}", headers=owner)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert f"settlement-{day['date']}.csv" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    mine = {row["transaction_id"]: row for row in rows}
    assert mine[day["unrecorded"]]["difference"] == "missing_in_ledger"
    assert mine[day["ledger_only"]]["difference"] == "missing_at_gateway"
    assert mine[day["ledger_only"]]["ledger_amount"] == "700"
    assert mine[day["matched"]]["difference"] == ""
    assert all(row["date"] == day["date"] for row in rows)


def test_the_settle_command_prints_totals_and_differences(app, day_of_trading, tmp_path):
    day = day_of_trading
    target = tmp_path / "day.csv"
    result = app.test_cli_runner().invoke(
        args=["settle", "--date", day["date"], "--csv", str(target)]
    )
    assert result.exit_code == 1, result.output  # differences: a cron job's alert
    assert f"Settlement of {day['date']} (Asia/Seoul)" in result.output
    assert "toss     card" in result.output
    assert day["unrecorded"] in result.output and "missing_in_ledger" in result.output
    assert day["ledger_only"] in result.output and "missing_at_gateway" in result.output
    assert day["unrecorded"] in target.read_text(encoding="utf-8-sig")


def test_a_bad_date_is_a_validation_error(client, owner):
    answer = client.get("/api/admin/settlement?date=2026-13-40", headers=owner)
    assert answer.status_code == 422
    assert answer.get_json()["code"] == "VALIDATION_ERROR"
