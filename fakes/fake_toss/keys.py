"""Toss's two key families: 결제위젯 연동 키 (widget) and API 개별 연동 키 (API-individual)."""

from __future__ import annotations

import re

WIDGET = "widget"
API_INDIVIDUAL = "api"

_WIDGET_KEY = re.compile(r"^(test|live)_(gck|gsk)_")


def family_of(key: str | None) -> str:
    """WIDGET for test_gck_/test_gsk_ (and live_) keys; API_INDIVIDUAL for every other key."""
    return WIDGET if _WIDGET_KEY.match(key or "") else API_INDIVIDUAL
