"""Register a Toss card payment (the service confirms it), refund it in parts, then too much.

python -m payment_api.examples.partial_refund
"""

from __future__ import annotations

import secrets
import uuid

from payment_api import TOSS, PaymentClient, PaymentHistory, Source, Vendor, errors
from payment_api.examples import buyer
from payment_api.examples.environment import Environment, from_environment


def run(env: Environment) -> PaymentHistory:
    """Pay 30,000 won, refund 10,000 twice, see a 20,000 refund refused, refund the rest."""
    order_id = str(uuid.uuid4())
    payment_key = buyer.toss_card_payment(env, order_id, 30_000, "Example order")
    password = secrets.token_urlsafe(24)
    source = Source(schema="shop", table="orders", id=order_id)
    with PaymentClient(env.api_url, env.key, env.iv) as client:
        history = client.create_history(
            Vendor(TOSS, payment_key), source, 30_000, password, env.webhook_url
        )
        print(f"confirmed and registered {history.id}: {history.status}")
        for item in (1, 2):
            # Two refunds, two bodies: the same body again would replay the first refund.
            history = client.cancel_history(source, password, 10_000, f"item {item} returned")
            print(f"refunded {history.refunded}, {history.remaining} left ({history.status})")
        try:
            client.cancel_history(source, password, 20_000, "too much")
        except errors.OverRefund as error:
            print(f"refused: {error.message} (remaining {error.remaining})")
        history = client.cancel_history(source, password, None, "the rest")
        print(
            f"refunded everything: {history.refunded}, {history.status}, {len(history.cancels)} cancels"
        )
    return history


if __name__ == "__main__":
    run(from_environment())
