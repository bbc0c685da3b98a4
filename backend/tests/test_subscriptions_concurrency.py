"""Two workers at once (threads calling run_due_jobs) on PostgreSQL never charge a period twice,
even with a second job for the same period (a lease that ran out while the first still ran)."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import select

from payment_backend.extensions import db
from payment_backend.models import ChargeAttempt, OutboxJob, Payment, SubscriptionCharge
from payment_backend.worker import run_due_jobs

SUBSCRIPTIONS = 4
# Every charge of a billing key at fake Toss (the keys end with "="; issue and auth routes do not).
CHARGE_ROUTE = "/v1/billing/*="


@pytest.fixture()
def slow_charges(fakes):
    """Charges take 300 ms at fake Toss (a wider window for a race); the rule counts them."""
    rule = requests.post(
        f"{fakes.toss.url}/__control/faults",
        json={"method": "POST", "path": CHARGE_ROUTE, "latency_ms": 300},
        timeout=10,
    ).json()
    yield lambda: next(
        r["hits"]
        for r in requests.get(f"{fakes.toss.url}/__control/faults", timeout=10).json()
        if r["id"] == rule["id"]
    )
    requests.delete(f"{fakes.toss.url}/__control/faults/{rule['id']}", timeout=10)


def test_two_workers_charge_each_period_once(subscriber, slow_charges):
    app = subscriber.app
    subs = [subscriber.subscribe("toss")["subscription_id"] for _ in range(SUBSCRIPTIONS)]
    assert slow_charges() == SUBSCRIPTIONS  # the first periods

    # A month on in this process only: the renewals are due, and nobody has run them yet.
    app.extensions["clock"].advance(31 * 86400)
    with app.app_context():
        due = db.session.scalars(
            select(OutboxJob).where(
                OutboxJob.kind == "charge_subscription",
                OutboxJob.status == "pending",
                OutboxJob.unique_key.in_([f"charge:{s}:2" for s in subs]),
            )
        ).all()
        assert len(due) == SUBSCRIPTIONS
        for job in due:  # a second job per period, as when a lease runs out mid-charge
            db.session.add(OutboxJob(kind=job.kind, payload=dict(job.payload), due_at=job.due_at))
        db.session.commit()

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            while run_due_jobs(app, limit=1):
                pass
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors

    assert slow_charges() == 2 * SUBSCRIPTIONS  # one more charge call per subscription, not two
    with app.app_context():
        for sub_id in subs:
            charges = db.session.scalars(
                select(SubscriptionCharge)
                .where(SubscriptionCharge.subscription_id == sub_id)
                .order_by(SubscriptionCharge.period)
            ).all()
            assert [(c.period, c.status) for c in charges] == [
                (1, "paid"),
                (2, "paid"),
                (3, "scheduled"),
            ]
            attempts = db.session.scalars(
                select(ChargeAttempt).where(ChargeAttempt.charge_id == charges[1].id)
            ).all()
            assert [a.outcome for a in attempts] == ["paid"]
            payments = db.session.scalars(
                select(Payment).where(Payment.source_id == f"{sub_id}_p2")
            ).all()
            assert len(payments) == 1
            next_jobs = db.session.scalars(
                select(OutboxJob).where(OutboxJob.unique_key == f"charge:{sub_id}:3")
            ).all()
            assert len(next_jobs) == 1
    for sub_id in subs:
        assert subscriber.toss_payment(f"{sub_id}_p2")["status"] == "DONE"
