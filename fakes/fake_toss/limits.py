"""Toss's test-environment limits as fault-rule templates (POST /__control/faults {"template": ...})."""

from __future__ import annotations

FAULT_TEMPLATES: dict[str, dict] = {
    # toss-v1.md §2: the test environment allows 100 requests per minute per API; HTTP 429 exists.
    # The 429's code and message are not documented (a guess), Retry-After too.
    "rate_limit": {
        "path": "/v1/*",
        "status": 429,
        "body": {
            "code": "TOO_MANY_REQUESTS",
            "message": "요청이 너무 많습니다. 잠시 후 다시 시도해주세요.",
        },
        "headers": {"Retry-After": "1"},
        "rate": {"limit": 100, "seconds": 60},
    },
    # toss-v1.md §3.2: 403 FORBIDDEN_CONSECUTIVE_REQUEST on get and cancel under tight polling of
    # one payment (the window of one request per second per path is a guess).
    "consecutive_request": {
        "path": "/v1/payments/*",
        "status": 403,
        "body": {
            "code": "FORBIDDEN_CONSECUTIVE_REQUEST",
            "message": "반복적인 요청은 허용되지 않습니다. 잠시 후 다시 시도해주세요.",
        },
        "rate": {"limit": 1, "seconds": 1},
    },
}
