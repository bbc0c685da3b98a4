"""Register a card payment (iamport), then read it back by id and by source.

python -m payment_api.examples.register_card_payment
"""

from __future__ import annotations

import secrets
import uuid

from payment_api import IAMPORT, PaymentClient, PaymentHistory, Source, Vendor
from payment_api.examples import buyer
from payment_api.examples.environment import Environment, from_environment


def run(env: Environment) -> PaymentHistory:
    """Pay at the gateway, register the payment with the service, read it twice."""
    order_id = str(uuid.uuid4())  # the shop's order id is the gateway's merchant_uid
    price = 20_000  # KRW: minor unit = won
    imp_uid = buyer.iamport_card_payment(env, order_id, price, "Example order")

    password = secrets.token_urlsafe(24)  # per record; keep it with the order
    source = Source(schema="shop", table="orders", id=order_id)
    with PaymentClient(env.api_url, env.key, env.iv) as client:
        history = client.create_history(
            Vendor(IAMPORT, imp_uid, store_id="example-store"),
            source,
            price,
            password,
            env.webhook_url,
        )
        print(f"registered {history.id}: {history.price} {history.currency}, {history.status}")
        by_id = client.get_history_by_id(history.id, password)
        by_source = client.get_history(source, password)
        assert by_id == by_source == history
        print(f"read back by id and by source: paid at {by_id.paid_at:%Y-%m-%d %H:%M:%S}")
    return history


if __name__ == "__main__":
    run(from_environment())
