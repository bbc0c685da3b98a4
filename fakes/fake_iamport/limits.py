"""PortOne V1's rate limit as a fault-rule template (POST /__control/faults {"template": ...})."""

from __future__ import annotations

FAULT_TEMPLATES: dict[str, dict] = {
    # PortOne documents no limit for V1 (a guess): a 429 in its envelope, with Retry-After.
    "rate_limit": {
        "path": "/payments*",
        "status": 429,
        "body": {"code": -1, "message": "Too Many Requests", "response": None},
        "headers": {"Retry-After": "1"},
        "rate": {"limit": 100, "seconds": 60},
    },
}
