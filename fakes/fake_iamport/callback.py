"""What IMP.request_pay answers: the callback's rsp and the m_redirect_url query, minimal or rich.

Current PG modules on v1/iamport.js answer only imp_uid, merchant_uid, error_code and error_msg
(developers.portone.io/sdk/ko/v1-sdk/javascript-sdk/payrt, …/opi/ko/integration/pg/v1/newtoss);
older ones add success/imp_success, paid_amount, status and the rest (CALLBACK = "rich").
"""

from __future__ import annotations

MINIMAL = "minimal"
RICH = "rich"
MINIMAL_FIELDS = ("imp_uid", "merchant_uid", "error_code", "error_msg")


def callback(rsp: dict, style: str) -> dict:
    """The rsp the merchant's callback gets, in the configured style."""
    if style == RICH:
        return {"imp_success": rsp.get("success"), **rsp}
    return {key: rsp.get(key) for key in MINIMAL_FIELDS}


def redirect_query(rsp: dict, style: str) -> dict:
    """The query m_redirect_url gets: ids, the error on failure, imp_success only when rich."""
    query = {"imp_uid": rsp.get("imp_uid") or "", "merchant_uid": rsp.get("merchant_uid") or ""}
    if style == RICH:
        query["imp_success"] = "true" if rsp.get("success") else "false"
    if rsp.get("error_code"):
        query["error_code"] = rsp["error_code"]
        query["error_msg"] = rsp.get("error_msg") or ""
    return query
