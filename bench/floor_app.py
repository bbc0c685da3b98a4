"""The floor: what a completion, a webhook intake and a refund cannot avoid, and nothing else.

Each endpoint parses the JSON, makes its one gateway call over a kept-alive connection (requests,
a session per thread, no environment scan), runs its one PostgreSQL transaction with raw psycopg
(a connection per thread, statements prepared by psycopg after a few uses), and answers JSON.
Served by gunicorn like the backend, so the backend's CPU per request over the floor's is what
our code costs beyond the work itself.

FLOOR_DATABASE_URL (a psycopg conninfo), FLOOR_IAMPORT_URL, FLOOR_IMP_KEY, FLOOR_IMP_SECRET.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import psycopg
import requests
from flask import Flask, request

SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_orders (
    id text PRIMARY KEY, amount bigint NOT NULL, status text NOT NULL, paid_at timestamptz);
CREATE TABLE IF NOT EXISTS floor_payments (
    id bigserial PRIMARY KEY, order_id text NOT NULL, vendor_payment_id text NOT NULL UNIQUE,
    amount bigint NOT NULL, status text NOT NULL, data jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS floor_cancels (
    id bigserial PRIMARY KEY, order_id text NOT NULL, amount bigint NOT NULL, data jsonb);
CREATE TABLE IF NOT EXISTS floor_inbound (
    id bigserial PRIMARY KEY, vendor_payment_id text NOT NULL, body jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS floor_outbox (
    id bigserial PRIMARY KEY, kind text NOT NULL, payload jsonb NOT NULL,
    due_at timestamptz NOT NULL DEFAULT now());
"""

_local = threading.local()


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["FLOOR_DATABASE_URL"])
    return conn


def _gateway() -> tuple[requests.Session, str]:
    session = getattr(_local, "http", None)
    if session is None:
        session = _local.http = requests.Session()
        session.trust_env = False
        base = os.environ["FLOOR_IAMPORT_URL"]
        answer = session.post(
            base + "/users/getToken",
            json={
                "imp_key": os.environ["FLOOR_IMP_KEY"],
                "imp_secret": os.environ["FLOOR_IMP_SECRET"],
            },
            timeout=10,
        )
        session.headers["Authorization"] = answer.json()["response"]["access_token"]
    return session, os.environ["FLOOR_IAMPORT_URL"]


def _payment(imp_uid: str) -> dict[str, Any]:
    http, base = _gateway()
    return http.get(f"{base}/payments/{imp_uid}", timeout=15).json()["response"]


def create_app() -> Flask:
    """The floor app: POST /floor/complete, /floor/webhook, /floor/refund."""
    app = Flask(__name__)

    @app.post("/floor/complete")
    def complete():
        """Read the payment at the gateway, record it and mark the order paid in one transaction."""
        body = request.get_json()
        paid = _payment(body["payment_id"])
        conn = _connection()
        with conn.transaction():
            amount, _status = conn.execute(
                "SELECT amount, status FROM floor_orders WHERE id = %s FOR UPDATE",
                (body["order_id"],),
            ).fetchone()
            conn.execute(
                "INSERT INTO floor_payments (order_id, vendor_payment_id, amount, status, data)"
                " VALUES (%s, %s, %s, 'paid', %s)",
                (
                    body["order_id"],
                    f"{body['payment_id']}:{body['order_id']}",
                    amount,
                    json.dumps(paid),
                ),
            )
            conn.execute(
                "UPDATE floor_orders SET status = 'paid', paid_at = now() WHERE id = %s",
                (body["order_id"],),
            )
            conn.execute(
                "INSERT INTO floor_outbox (kind, payload) VALUES ('deliver_webhook', %s)",
                (json.dumps({"order_id": body["order_id"]}),),
            )
        return {"order_id": body["order_id"], "status": "paid", "amount": amount}

    @app.post("/floor/webhook")
    def webhook():
        """Store the notification, re-read the payment and settle the order in one transaction."""
        body = request.get_json()
        paid = _payment(body["imp_uid"])
        conn = _connection()
        with conn.transaction():
            conn.execute(
                "INSERT INTO floor_inbound (vendor_payment_id, body) VALUES (%s, %s)",
                (body["imp_uid"], json.dumps(body)),
            )
            conn.execute(
                "SELECT status FROM floor_orders WHERE id = %s FOR UPDATE", (body["merchant_uid"],)
            ).fetchone()
            conn.execute(
                "UPDATE floor_orders SET status = %s WHERE id = %s",
                (paid.get("status", "paid"), body["merchant_uid"]),
            )
        return {"result": f"order {body['merchant_uid']}"}

    @app.post("/floor/refund")
    def refund():
        """Lock the order, cancel at the gateway, record the cancel and the outbox row."""
        body = request.get_json()
        http, base = _gateway()
        conn = _connection()
        with conn.transaction():
            conn.execute(
                "SELECT amount FROM floor_orders WHERE id = %s FOR UPDATE", (body["order_id"],)
            ).fetchone()
            cancelled = http.post(
                base + "/payments/cancel",
                json={"imp_uid": body["payment_id"], "amount": body["amount"], "reason": "bench"},
                timeout=15,
            ).json()
            conn.execute(
                "INSERT INTO floor_cancels (order_id, amount, data) VALUES (%s, %s, %s)",
                (body["order_id"], body["amount"], json.dumps(cancelled)),
            )
            conn.execute(
                "UPDATE floor_orders SET status = 'refunded' WHERE id = %s", (body["order_id"],)
            )
            conn.execute(
                "INSERT INTO floor_outbox (kind, payload) VALUES ('deliver_webhook', %s)",
                (json.dumps({"order_id": body["order_id"]}),),
            )
        return {"order_id": body["order_id"], "status": "refunded"}

    return app


def prepare(conninfo: str, orders: int) -> list[str]:
    """Create the floor's tables (if needed) and that many pending orders; their ids."""
    ids = [f"floor_{os.getpid()}_{n}_{os.urandom(4).hex()}" for n in range(orders)]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SCHEMA)
        with conn.cursor().copy("COPY floor_orders (id, amount, status) FROM STDIN") as copy:
            for order_id in ids:
                copy.write_row((order_id, 15000, "pending"))
    return ids
