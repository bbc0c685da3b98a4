"""What the buyer's browser does at the fake gateways, done server-side (as the seed's tests do).

Only for the fakes (and sandboxes): a real shop never handles card numbers itself.
"""

from __future__ import annotations

import base64

import requests

from payment_api.examples.environment import Environment

TEST_CARD = "4242-4242-4242-4242"  # approved by both fakes


def iamport_card_payment(env: Environment, merchant_uid: str, amount: int, name: str) -> str:
    """A paid iamport card payment for merchant_uid (key-in, as the window would make it); its imp_uid."""
    token = requests.post(
        f"{env.iamport_url}/users/getToken",
        json={"imp_key": env.iamport_key, "imp_secret": env.iamport_secret},
        timeout=10,
    ).json()["response"]["access_token"]
    response = requests.post(
        f"{env.iamport_url}/subscribe/payments/onetime",
        headers={"Authorization": token},
        json={
            "merchant_uid": merchant_uid,
            "amount": amount,
            "card_number": TEST_CARD,
            "expiry": "2035-12",
            "name": name,
        },
        timeout=10,
    ).json()
    if response["code"] != 0 or response["response"]["status"] != "paid":
        raise RuntimeError(f"fake iamport did not take the payment: {response}")
    return response["response"]["imp_uid"]


def toss_card_payment(env: Environment, order_id: str, amount: int, name: str) -> str:
    """A Toss card payment for order_id, authenticated and waiting for confirm; its paymentKey."""
    auth = base64.b64encode(f"{env.toss_secret_key}:".encode()).decode()
    response = requests.post(
        f"{env.toss_url}/v1/payments/key-in",
        headers={"Authorization": f"Basic {auth}"},
        json={
            "orderId": order_id,
            "orderName": name,
            "amount": amount,
            "cardNumber": TEST_CARD.replace("-", ""),
            "cardExpirationYear": "35",
            "cardExpirationMonth": "12",
            "__approved": False,  # the seed's flag: leave it for the backend to confirm
        },
        timeout=10,
    )
    body = response.json()
    if response.status_code != 200:
        raise RuntimeError(f"fake Toss did not take the payment: {body}")
    return body["paymentKey"]
