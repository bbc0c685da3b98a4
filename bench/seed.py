"""Work for the worker phases, written into the run's database by the backend's own code.

Run with the backend's environment (DATABASE_URL, PAYMENT_INSTANCE_PATH, ...):

    python bench/seed.py renewals --templates sub_a,sub_b --count 10000 --out ids.json
    python bench/seed.py deliveries --healthy URL --slow URL --count 1000 --rate 100 --out log.jsonl

renewals: `count` active subscriptions whose period 2 is charged by the worker, each a copy of
one of the templates (real subscriptions activated through the API, so their billing keys exist
at the fake), with its charge row and its charge job as booking.plan_next leaves them; due in a
day, so that the benchmark makes them all due at one instant when the workers are ready.

deliveries: outbound webhooks queued by services.notifications.notify_event, one transaction
each, at `rate` per second; every `slow_every`-th goes to the slow URL. Each line written is
{"id", "slow", "queued_at"} (unix time just after the commit).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

BATCH = 1000


def seed_renewals(templates: list[str], count: int, out: Path) -> None:
    """count copies of the templates, period 2 due in a day; their ids written to out."""
    from sqlalchemy import insert

    from payment_backend import create_app
    from payment_backend.clock import now
    from payment_backend.extensions import db
    from payment_backend.jobs import PRIORITIES
    from payment_backend.models import OutboxJob, Subscription, SubscriptionCharge
    from payment_backend.services.subscriptions.periods import CHARGE_JOB, charge_order_id

    app = create_app()
    with app.app_context():
        models = [db.session.get(Subscription, sub_id) for sub_id in templates]
        moment = now()
        due = moment + timedelta(days=1)
        anchor = due - timedelta(days=31)
        ids: list[str] = []
        for start in range(0, count, BATCH):
            subs, charges, jobs = [], [], []
            for n in range(start, min(start + BATCH, count)):
                model = models[n % len(models)]
                sub_id = "sub_" + secrets.token_hex(10)
                ids.append(sub_id)
                subs.append(
                    {
                        "id": sub_id,
                        "vendor": model.vendor,
                        "plan_id": model.plan_id,
                        "amount": model.amount,
                        "currency": model.currency,
                        "status": "active",
                        "buyer": model.buyer,
                        "customer_key": model.customer_key,
                        "card_changes": 0,
                        "reservation_id": model.reservation_id,
                        "anchor_at": anchor,
                        "activated_at": anchor,
                        "paid_periods": 1,
                        "created_at": anchor,
                        "updated_at": moment,
                    }
                )
                charges.append(
                    {
                        "subscription_id": sub_id,
                        "period": 2,
                        "key_issue": False,
                        "order_id": charge_order_id(sub_id, 2),
                        "amount": model.amount,
                        "currency": model.currency,
                        "status": "scheduled",
                        "due_at": due,
                        "attempts": 0,
                        "created_at": moment,
                    }
                )
                jobs.append(
                    {
                        "kind": CHARGE_JOB,
                        "payload": {"subscription_id": sub_id, "period": 2},
                        "unique_key": f"charge:{sub_id}:2",
                        "status": "pending",
                        "due_at": due,
                        "attempts": 0,
                        "failures": 0,
                        "created_at": moment,
                        "priority": PRIORITIES[CHARGE_JOB],
                    }
                )
            db.session.execute(insert(Subscription), subs)
            db.session.execute(insert(SubscriptionCharge), charges)
            db.session.execute(insert(OutboxJob), jobs)
            db.session.commit()
    out.write_text(json.dumps(ids))


def seed_deliveries(
    healthy: str, slow: str | None, count: int, rate: float, slow_every: int, out: Path
) -> None:
    """count notifications at rate per second, one transaction each; a line per delivery."""
    from payment_backend import create_app
    from payment_backend.extensions import db
    from payment_backend.services.notifications import notify_event

    app = create_app()
    with app.app_context(), out.open("w") as log:
        started = time.monotonic()
        for n in range(count):
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            to_slow = bool(slow) and slow_every > 0 and n % slow_every == slow_every - 1
            delivery = notify_event(
                slow if to_slow else healthy,
                "bench.ping",
                source={"schema": "bench", "table": "pings", "id": str(n)},
                previous=None,
                current={"n": n},
            )
            delivery_id = delivery.id
            db.session.commit()
            line = {"id": delivery_id, "slow": to_slow, "queued_at": time.time()}
            log.write(json.dumps(line) + "\n")
            log.flush()
        db.session.remove()


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    renewals = commands.add_parser("renewals")
    renewals.add_argument("--templates", required=True)
    renewals.add_argument("--count", type=int, required=True)
    renewals.add_argument("--out", type=Path, required=True)
    deliveries = commands.add_parser("deliveries")
    deliveries.add_argument("--healthy", required=True)
    deliveries.add_argument("--slow", default=None)
    deliveries.add_argument("--count", type=int, required=True)
    deliveries.add_argument("--rate", type=float, required=True)
    deliveries.add_argument("--slow-every", type=int, default=10)
    deliveries.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "renewals":
        seed_renewals(args.templates.split(","), args.count, args.out)
    else:
        seed_deliveries(args.healthy, args.slow, args.count, args.rate, args.slow_every, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
