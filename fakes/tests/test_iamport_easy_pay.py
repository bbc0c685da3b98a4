"""fake_iamport's easy pay: a card window offers kakaopay/naverpay/tosspay; a payment made with
one has that pay_method and emb_pg_provider and no card; over HTTP."""

from __future__ import annotations

import json

import pytest

from fake_common.window_client import iamport_pay


@pytest.mark.parametrize("provider", ["kakaopay", "naverpay", "tosspay"])
def test_an_easy_pay_payment_names_its_app_and_has_no_card(iamport, provider):
    query = iamport_pay(
        iamport.url, merchant_uid=f"ord-{provider}", amount=15000, easy_pay=provider
    )
    payment = iamport.payment(query["imp_uid"])
    assert payment["status"] == "paid"
    assert (payment["pay_method"], payment["emb_pg_provider"]) == (provider, provider)
    assert payment["card_number"] is None and payment["card_name"] is None


def test_the_window_offers_the_apps_beside_cards_or_alone_when_asked_for(iamport):
    def window(pay_method: str) -> str:
        params = {
            "pg": "html5_inicis",
            "pay_method": pay_method,
            "merchant_uid": f"o-{pay_method}",
            "amount": 1000,
            "name": "x",
        }
        return iamport.http.get(
            iamport.url + "/window",
            params={
                "code": "imp00000000",
                "mode": "redirect",
                "return_url": "http://s.test/r",
                "params": json.dumps(params),
            },
            timeout=5,
        ).text

    card = window("card")
    assert "카카오페이" in card and "card_number" in card
    kakao = window("kakaopay")
    assert "카카오페이" in kakao and "네이버페이" not in kakao and 'name="card_number"' not in kakao


def test_a_window_asked_for_kakaopay_pays_with_it(iamport):
    query = iamport_pay(
        iamport.url, merchant_uid="ord-k", amount=15000, pay_method="kakaopay", easy_pay="kakaopay"
    )
    assert iamport.payment(query["imp_uid"])["emb_pg_provider"] == "kakaopay"
