"""The official PortOne Python client (iamport-rest-client 0.9.0) pointed at the fake."""

from __future__ import annotations

import pytest
from iamport import Iamport

CARD = {
    "card_number": "4242-4242-4242-4242",
    "expiry": "2099-12",
    "birth": "900101",
    "pwd_2digit": "00",
}


@pytest.fixture
def client(iamport) -> Iamport:
    return Iamport(imp_key="test_imp_key", imp_secret="test_imp_secret", imp_url=iamport.url + "/")


def test_token_and_wrong_keys(client, iamport):
    assert client._get_token() == client._get_token()
    wrong = Iamport(imp_key="test_imp_key", imp_secret="wrong", imp_url=iamport.url + "/")
    with pytest.raises(Iamport.HttpError) as error:
        wrong._get_token()
    assert error.value.code == 401


def test_onetime_find_is_paid_and_cancel(client):
    payment = client.pay_onetime(merchant_uid="py-1", amount=10000, name="Shoes", **CARD)
    assert payment["status"] == "paid" and payment["amount"] == 10000
    imp_uid = payment["imp_uid"]
    assert client.find(imp_uid=imp_uid)["merchant_uid"] == "py-1"
    assert client.find(merchant_uid="py-1")["imp_uid"] == imp_uid
    assert client.is_paid(10000, imp_uid=imp_uid) and not client.is_paid(9000, imp_uid=imp_uid)

    partial = client.cancel("one pair returned", imp_uid=imp_uid, amount=4000, checksum=10000)
    assert partial["cancel_amount"] == 4000 and partial["status"] == "paid"
    with pytest.raises(Iamport.ResponseError) as refused:
        client.cancel("stale checksum", imp_uid=imp_uid, amount=1000, checksum=10000)
    assert refused.value.code == 1
    rest = client.cancel("the rest", merchant_uid="py-1", checksum=6000)
    assert rest["cancel_amount"] == 10000 and rest["status"] == "cancelled"


def test_official_test_expectations(client):
    with pytest.raises(Iamport.HttpError) as not_found:
        client.find(imp_uid="imp_000000000000")
    assert not_found.value.code == 404
    with pytest.raises(Iamport.HttpError) as by_merchant:
        client.find(merchant_uid="no-such-order")
    assert by_merchant.value.code == 404
    with pytest.raises(Iamport.ResponseError) as cancel:
        client.cancel("nothing", imp_uid="imp_000000000000")
    assert (cancel.value.code, cancel.value.message) == (1, "취소할 결제건이 존재하지 않습니다.")
    with pytest.raises(Iamport.ResponseError) as onetime:
        client.pay_onetime(
            merchant_uid="py-bad",
            amount=1000,
            card_number="4092-0230-1234-1234",
            expiry="2019-03",
            birth="500203",
            pwd_2digit="19",
        )
    assert onetime.value.code == -1
    with pytest.raises(Iamport.ResponseError) as create:
        client.customer_create(
            customer_uid="bad", card_number="4000-0000-0000-0069", expiry="2099-12", birth="900101"
        )
    assert create.value.code == -1 and create.value.message.startswith(
        "카드정보 인증 및 빌키 발급에 실패하였습니다."
    )
    with pytest.raises(Iamport.ResponseError) as schedule:
        client.pay_schedule(
            customer_uid="000000", schedules=[{"merchant_uid": "s", "schedule_at": 1, "amount": 1}]
        )
    assert (schedule.value.code, schedule.value.message) == (1, "등록된 고객정보가 없습니다.")
    with pytest.raises(Iamport.ResponseError) as unschedule:
        client.pay_unschedule(customer_uid="000000")
    assert unschedule.value.code == 1


def test_customers_again_and_schedules(client, iamport):
    customer = client.customer_create(customer_uid="py-cust", **CARD)
    assert customer["customer_uid"] == "py-cust"
    assert client.customer_get("py-cust")["card_number"] == "424242******4242"
    charge = client.pay_again(
        customer_uid="py-cust", merchant_uid="py-again", amount=9900, name="Plan"
    )
    assert charge["status"] == "paid" and charge["customer_uid"] == "py-cust"

    now = iamport.gateway.now()
    scheduled = client.pay_schedule(
        customer_uid="py-cust",
        schedules=[
            {"merchant_uid": "py-s1", "schedule_at": now + 100, "amount": 9900, "name": "Month 1"},
            {"merchant_uid": "py-s2", "schedule_at": now + 200, "amount": 9900, "name": "Month 2"},
        ],
    )
    assert [s["schedule_status"] for s in scheduled] == ["scheduled", "scheduled"]
    assert client.pay_schedule_get("py-s1")["amount"] == 9900
    between = client.pay_schedule_get_between(schedule_from=now, schedule_to=now + 150)
    assert [s["merchant_uid"] for s in between] == ["py-s1"]
    revoked = client.pay_unschedule(customer_uid="py-cust", merchant_uid="py-s2")
    assert revoked[0]["schedule_status"] == "revoked"

    iamport.advance(101)
    assert client.pay_schedule_get("py-s1")["payment_status"] == "paid"
    assert client.find(merchant_uid="py-s1")["status"] == "paid"

    deleted = client.customer_delete("py-cust")
    assert deleted["customer_uid"] == "py-cust"
    with pytest.raises(Iamport.HttpError) as gone:
        client.customer_get("py-cust")
    assert gone.value.code == 404


def test_prepare_foreign_and_vbank_revoke(client, iamport):
    assert client.prepare(merchant_uid="py-prep", amount=12000)["amount"] == 12000
    assert client.prepare_validate(merchant_uid="py-prep", amount=12000)
    assert not client.prepare_validate(merchant_uid="py-prep", amount=13000)

    foreign = client.pay_foreign(
        merchant_uid="py-usd",
        amount=19.99,
        currency="USD",
        card_number="4111111111111111",
        expiry="2099-12",
    )
    assert foreign["amount"] == 19.99 and foreign["currency"] == "USD"

    account = iamport.post(
        "/vbanks",
        {
            "merchant_uid": "py-vb",
            "amount": 5000,
            "vbank_code": "004",
            "vbank_due": iamport.gateway.now() + 3600,
        },
    ).json()["response"]
    assert client.revoke_vbank_by_imp_uid(account["imp_uid"])["status"] == "cancelled"
