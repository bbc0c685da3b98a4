"""What the buyer's browser does at the fake gateways, done server-side (as the seed's tests do).

Only for the fakes (and sandboxes): a real shop never handles card numbers itself.
"""

from __future__ import annotations

import base64
import time

import requests

from payment_api.examples.environment import Environment

TEST_CARD = "4242-4242-4242-4242"  # approved by both fakes


def gateway_now(base_url: str) -> float:
    """The fake gateway's clock (UNIX seconds), which the service's test clock keeps in step;
    real time when the gateway has no such clock."""
    try:
        answer = requests.get(f"{base_url}/__control/clock", timeout=5)
        return float(answer.json()["now"]) if answer.status_code == 200 else time.time()
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return time.time()


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


def _iamport_token(env: Environment) -> str:
    return requests.post(
        f"{env.iamport_url}/users/getToken",
        json={"imp_key": env.iamport_key, "imp_secret": env.iamport_secret},
        timeout=10,
    ).json()["response"]["access_token"]


def iamport_virtual_account(
    env: Environment, merchant_uid: str, amount: int, name: str, notice_url: str
) -> dict:
    """An iamport virtual account waiting for amount (POST /vbanks); the gateway's payment.

    notice_url is where the gateway reports the deposit: the service's inbound webhook.
    """
    response = requests.post(
        f"{env.iamport_url}/vbanks",
        headers={"Authorization": _iamport_token(env)},
        json={
            "merchant_uid": merchant_uid,
            "amount": amount,
            "name": name,
            "vbank_code": "088",  # Shinhan
            "vbank_due": int(gateway_now(env.iamport_url)) + 3 * 86400,
            "vbank_holder": "Example Shop",
            "notice_url": notice_url,
        },
        timeout=10,
    ).json()
    if response["code"] != 0 or response["response"]["status"] != "ready":
        raise RuntimeError(f"fake iamport did not issue the account: {response}")
    return response["response"]


def iamport_deposit(env: Environment, imp_uid: str) -> None:
    """The buyer pays into the virtual account (the fake's control API; real banks need a human)."""
    response = requests.post(f"{env.iamport_url}/__control/deposit/{imp_uid}", json={}, timeout=10)
    if response.status_code != 200:
        raise RuntimeError(f"fake iamport refused the deposit: {response.text[:300]}")


def iamport_billing_key(env: Environment, customer_uid: str) -> dict:
    """Issue a PortOne billing key for customer_uid from the test card (key-in); the customer."""
    response = requests.post(
        f"{env.iamport_url}/subscribe/customers/{customer_uid}",
        headers={"Authorization": _iamport_token(env)},
        json={"card_number": TEST_CARD, "expiry": "2035-12", "customer_name": "Hong Gildong"},
        timeout=10,
    ).json()
    if response["code"] != 0:
        raise RuntimeError(f"fake iamport did not issue the billing key: {response}")
    return response["response"]


def toss_billing_key(env: Environment, customer_key: str) -> str:
    """Issue a Toss billing key for customer_key from the test card (key-in); the billingKey."""
    auth = base64.b64encode(f"{env.toss_secret_key}:".encode()).decode()
    response = requests.post(
        f"{env.toss_url}/v1/billing/authorizations/card",
        headers={"Authorization": f"Basic {auth}"},
        json={
            "customerKey": customer_key,
            "cardNumber": TEST_CARD.replace("-", ""),
            "cardExpirationYear": "35",
            "cardExpirationMonth": "12",
            "customerIdentityNumber": "881212",
        },
        timeout=10,
    )
    body = response.json()
    if response.status_code != 200:
        raise RuntimeError(f"fake Toss did not issue the billing key: {body}")
    return body["billingKey"]
