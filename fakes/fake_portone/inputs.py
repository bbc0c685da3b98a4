"""Reading request bodies: amounts, currencies, customers, card credentials; INVALID_REQUEST
when a field has the wrong type (PortOne is strict about JSON types, the fake is too)."""

from __future__ import annotations

from fake_common import cards
from fake_portone.errors import PortOneError, invalid

CURRENCIES = ("KRW", "USD", "JPY", "EUR", "CNY")


def text(body: dict, name: str, *, required: bool = True) -> str | None:
    """A string field; INVALID_REQUEST when required and missing, or not a string."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise invalid(f"{name} 값이 필요합니다.")
        return None
    if not isinstance(value, str):
        raise invalid(f"{name} 값은 문자열이어야 합니다.")
    return value


def integer(body: dict, name: str, *, required: bool = True, minimum: int = 0) -> int | None:
    """A JSON integer field (int64, never a float or a string); INVALID_REQUEST otherwise."""
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"{name} 값이 필요합니다.")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{name} 값은 정수여야 합니다.")
    if value < minimum:
        raise invalid(f"{name} 값은 {minimum} 이상이어야 합니다.")
    return value


def currency(value: object) -> str:
    """An ISO 4217 code; the browser SDK's CURRENCY_KRW spelling is accepted too."""
    if not isinstance(value, str):
        raise invalid("currency 값이 필요합니다.")
    code = value.upper().removeprefix("CURRENCY_")
    if code not in CURRENCIES:
        raise invalid(f"지원하지 않는 통화입니다: {value}")
    return code


def amount_input(body: dict) -> tuple[int, int, int | None]:
    """PaymentAmountInput {total, taxFree?, vat?} as (total, tax_free, vat)."""
    amount = body.get("amount")
    if not isinstance(amount, dict):
        raise invalid("amount 값이 필요합니다.")
    total = integer(amount, "total", minimum=1)
    tax_free = integer(amount, "taxFree", required=False) or 0
    vat = integer(amount, "vat", required=False)
    if tax_free + (vat or 0) > total:
        raise invalid_sum()
    return total, tax_free, vat


def invalid_sum() -> PortOneError:
    """SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT."""
    return PortOneError("SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT")


def customer_from_rest(value: object) -> dict:
    """A REST CustomerInput as the Customer the API shows ({} when none)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("customer 값은 객체여야 합니다.")
    name = value.get("name")
    full = None
    if isinstance(name, dict):
        separated = name.get("separated") or {}
        full = name.get("full") or " ".join(
            p for p in (separated.get("last"), separated.get("first")) if p
        )
    customer = {
        "id": value.get("id"),
        "name": full or None,
        "email": value.get("email"),
        "phoneNumber": value.get("phoneNumber"),
        "zipcode": value.get("zipcode"),
        "gender": value.get("gender"),
        "birthYear": value.get("birthYear"),
        "birthMonth": value.get("birthMonth"),
        "birthDay": value.get("birthDay"),
    }
    address = value.get("address")
    if isinstance(address, dict) and address.get("addressLine1"):
        line1, line2 = address["addressLine1"], address.get("addressLine2", "")
        customer["address"] = {
            "type": "SEPARATED",
            "oneLine": f"{line1} {line2}".strip(),
            "addressLine1": line1,
            "addressLine2": line2,
        }
    return {k: v for k, v in customer.items() if isinstance(v, str | dict) and v}


def customer_from_browser(value: object) -> dict:
    """The browser SDK's customer {customerId, fullName, ...} as the Customer the API shows."""
    if not isinstance(value, dict):
        return {}
    full = value.get("fullName") or " ".join(
        p for p in (value.get("lastName"), value.get("firstName")) if p
    )
    customer = {
        "id": value.get("customerId"),
        "name": full or None,
        "email": value.get("email"),
        "phoneNumber": value.get("phoneNumber"),
        "zipcode": value.get("zipcode"),
    }
    return {k: v for k, v in customer.items() if isinstance(v, str) and v}


def card_credential(value: object) -> tuple[str, tuple[int, int] | None]:
    """CardCredential {number, expiryYear, expiryMonth, ...} as (digits, (year, month))."""
    if not isinstance(value, dict):
        raise invalid("card.credential 값이 필요합니다.")
    number = text(value, "number")
    expiry = cards.expiry_from_fields(value.get("expiryYear"), value.get("expiryMonth"))
    if expiry is None:
        raise invalid("expiryYear, expiryMonth 값이 올바르지 않습니다.")
    return cards.normalize(number), expiry


def notice_urls(body: dict) -> list[str] | None:
    """noticeUrls: a list of URLs (an empty list means the console's URL)."""
    urls = body.get("noticeUrls")
    if urls is None:
        return None
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise invalid("noticeUrls 값은 문자열 배열이어야 합니다.")
    return urls or None


def custom_data(value: object) -> str | None:
    """customData is a string on the REST API (the browser SDK serialises its object)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("customData 값은 문자열이어야 합니다.")
    return value
