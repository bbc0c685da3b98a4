"""Toss's bank codes, and the card-company codes of the cards in the test table."""

from __future__ import annotations

from dataclasses import dataclass

from fake_toss.errors import TossError


@dataclass(frozen=True)
class Bank:
    """A bank as Toss names it: two-character code, short Korean name, English name."""

    code: str
    name: str
    english: str


BANKS: list[Bank] = [
    Bank("06", "국민", "KOOKMIN"),
    Bank("88", "신한", "SHINHAN"),
    Bank("20", "우리", "WOORI"),
    Bank("81", "하나", "HANA"),
    Bank("11", "농협", "NONGHYEOP"),
    Bank("03", "기업", "IBK"),
    Bank("90", "카카오", "KAKAOBANK"),
    Bank("89", "케이", "KBANK"),
    Bank("92", "토스", "TOSSBANK"),
    Bank("23", "SC제일", "SC"),
    Bank("27", "씨티", "CITI"),
    Bank("02", "산업", "KDBBANK"),
    Bank("07", "수협", "SUHYEOP"),
    Bank("31", "대구", "DAEGUBANK"),
    Bank("32", "부산", "BUSANBANK"),
    Bank("34", "광주", "GWANGJUBANK"),
    Bank("35", "제주", "JEJUBANK"),
    Bank("37", "전북", "JEONBUKBANK"),
    Bank("39", "경남", "KYONGNAMBANK"),
    Bank("12", "단위농협", "LOCALNONGHYEOP"),
    Bank("45", "새마을", "SAEMAUL"),
    Bank("48", "신협", "SHINHYEOP"),
    Bank("50", "저축", "SAVINGBANK"),
    Bank("54", "홍콩상하이", "HSBC"),
    Bank("64", "산림", "SANLIM"),
    Bank("71", "우체국", "POST"),
]

_ALIASES: dict[str, Bank] = {}
for _bank in BANKS:
    for _alias in (_bank.code, _bank.name, _bank.english, _bank.name + "은행"):
        _ALIASES[_alias.upper()] = _bank
for _alias, _code in {
    "KB국민은행": "06",
    "KB국민": "06",
    "IBK기업은행": "03",
    "NH농협은행": "11",
    "NH농협": "11",
    "SH수협은행": "07",
    "DGB대구은행": "31",
    "KDB산업은행": "02",
    "카카오뱅크": "90",
    "케이뱅크": "89",
    "토스뱅크": "92",
    "새마을금고": "45",
    "우체국예금보험": "71",
    "저축은행중앙회": "50",
    "지역농축협": "12",
    "산림조합": "64",
    "홍콩상하이은행": "54",
}.items():
    _ALIASES[_alias.upper()] = next(b for b in BANKS if b.code == _code)


def find_bank(value: object) -> Bank:
    """Return the bank named by a code, a Korean or an English name; INVALID_BANK otherwise."""
    bank = _ALIASES.get(str(value or "").strip().upper())
    if bank is None:
        raise TossError("INVALID_BANK")
    return bank


# Toss card-company codes (issuerCode/acquirerCode) by the issuer names of fake_common's cards.
CARD_COMPANIES: dict[str, str] = {
    "신한": "41",
    "KB국민": "11",
    "국민": "11",
    "현대": "61",
    "삼성": "51",
    "하나": "21",
    "롯데": "71",
    "BC": "31",
    "비씨": "31",
    "우리": "33",
    "농협": "91",
    "NH농협": "91",
    "씨티": "36",
}


def card_company_code(issuer_name: str) -> str:
    """The Toss code of a card company named like "신한카드"; 신한 when unknown."""
    short = issuer_name.removesuffix("카드").strip()
    return CARD_COMPANIES.get(short, "41")
