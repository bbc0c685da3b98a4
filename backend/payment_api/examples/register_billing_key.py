"""Register billing keys (PortOne and Toss) with the service, then read them back.

python -m payment_api.examples.register_billing_key

The keys are issued at the fake gateways from the test card, as the buyer's card window would;
the service reads each one back from its gateway before recording it, sealed.
"""

from __future__ import annotations

import secrets
import uuid

from payment_api import IAMPORT, TOSS, PaymentClient, PaymentReservation, Source, Vendor, errors
from payment_api.examples import buyer
from payment_api.examples.environment import Environment, from_environment


def run(env: Environment) -> list[PaymentReservation]:
    """Issue a key at each gateway, record it, read it by id and by source, register it twice."""
    member_id = f"member-{uuid.uuid4().hex[:12]}"  # the shop's member who owns the cards
    recorded = []
    with PaymentClient(env.api_url, env.key, env.iv) as client:
        # PortOne: the billing key is the customer_uid the shop chose.
        customer_uid = f"cus_{uuid.uuid4().hex}"
        buyer.iamport_billing_key(env, customer_uid)
        iamport_source = Source(schema="shop", table="member_cards", id=f"{member_id}-iamport")
        # Toss: the gateway makes the billingKey for the shop's customerKey (source.id).
        customer_key = f"ck_{uuid.uuid4().hex}"
        billing_key = buyer.toss_billing_key(env, customer_key)
        toss_source = Source(schema="shop", table="member_cards", id=customer_key)

        for vendor, source in (
            (Vendor(IAMPORT, customer_uid, store_id="example-store"), iamport_source),
            (Vendor(TOSS, billing_key), toss_source),
        ):
            password = secrets.token_urlsafe(24)  # per record; keep it with the member
            reservation = client.create_reservation(vendor, source, "Monthly plan", password)
            card = reservation.card or {}
            print(
                f"registered {vendor.code} billing key {reservation.id}: "
                f"{card.get('company')} {card.get('number')}"
            )
            by_id = client.get_reservation_by_id(reservation.id, password)
            by_source = client.get_reservation(source, password)
            assert by_id == by_source == reservation
            print(f"read back by id and by source: created at {by_id.created_at:%Y-%m-%d %H:%M:%S}")
            try:
                client.create_reservation(vendor, source, "Another title", password)
            except errors.AlreadyRegistered as error:
                print(f"registering it again is refused: {error.code}")
            recorded.append(reservation)
    return recorded


if __name__ == "__main__":
    run(from_environment())
