"""Fault rules: error responses and latency for HTTP routes, and drop/duplicate/delay/reorder for webhooks.

An HTTP rule with `rate` {limit, seconds} fires only for requests past `limit` within `seconds`
(real time, per method and path: a gateway's limit on tight polling); `headers` go on its answer
(e.g. Retry-After). A fake names ready-made rules (`templates`); `{"template": name, ...}` adds one
with the given fields overriding the template's.
"""

from __future__ import annotations

import collections
import copy
import fnmatch
import itertools
import random
import threading
import time

from flask import Flask, Response, jsonify, request

WEBHOOK_ACTIONS = ("drop", "duplicate", "delay", "reorder")
# Actions on a signed webhook's first attempt, applied by a fake that signs (fake_portone): a wrong
# signature, or a timestamp older than receivers accept. The sender's webhook_action skips them.
SIGNING_ACTIONS = ("corrupt_signature", "stale_timestamp")


class FaultRuleError(ValueError):
    """A fault rule that cannot be applied."""


class FaultRules:
    """A thread-safe list of fault rules, matched first-added first."""

    def __init__(self, seed: int | None = None, templates: dict[str, dict] | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[dict] = []
        self._ids = itertools.count(1)
        self._random = random.Random(seed)
        self.templates: dict[str, dict] = dict(templates or {})
        # rule id -> (method, path) -> admitted request times (rate rules only)
        self._admitted: dict[int, dict[tuple[str, str], collections.deque]] = {}

    def add(self, rule: dict) -> dict:
        """Validate and store a rule (or a template's, overridden by the rule's own fields); return
        it with its id and hit counter."""
        if isinstance(rule, dict) and "template" in rule:
            name = rule["template"]
            if name not in self.templates:
                known = ", ".join(sorted(self.templates)) or "none"
                raise FaultRuleError(f"no template {name!r} (this fake has: {known})")
            rule = {**copy.deepcopy(self.templates[name]), **rule}
            rule.pop("template")
            rule["from_template"] = name
        stored = _normalize(rule)
        with self._lock:
            stored["id"] = next(self._ids)
            self._rules.append(stored)
            return dict(stored)

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()
            self._admitted.clear()

    def remove(self, rule_id: int) -> bool:
        """Remove one rule by id; return whether it existed."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r["id"] != rule_id]
            return len(self._rules) != before

    def list(self) -> list[dict]:
        """Return copies of the stored rules."""
        with self._lock:
            return [dict(r) for r in self._rules]

    def match_http(self, method: str, path: str) -> dict | None:
        """Return (and consume) the first HTTP rule that fires for this request."""
        return self._fire(
            lambda r: (
                r["target"] == "http"
                and r["method"] in ("*", method.upper())
                and fnmatch.fnmatchcase(path, r["path"])
                and not self._admits(r, method.upper(), path)
            )
        )

    def _admits(self, rule: dict, method: str, path: str) -> bool:
        """A rate rule lets `limit` requests per method and path through within `seconds`."""
        rate = rule.get("rate")
        if rate is None:
            return False
        now = time.monotonic()
        seen = self._admitted.setdefault(rule["id"], {})
        times = seen.setdefault((method, path), collections.deque())
        while times and now - times[0] >= rate["seconds"]:
            times.popleft()
        if len(times) < rate["limit"]:
            times.append(now)
            return True
        return False

    def webhook_action(self, url: str) -> dict | None:
        """Return (and consume) the first webhook rule that fires for url, or None."""
        rule = self._fire(
            lambda r: (
                r["target"] == "webhook"
                and r["action"] not in SIGNING_ACTIONS
                and fnmatch.fnmatchcase(url, r["url"])
            )
        )
        if rule is None:
            return None
        return {
            "action": rule["action"],
            "delay_seconds": rule["delay_seconds"],
            "rule_id": rule["id"],
        }

    def signing_action(self, url: str) -> str | None:
        """Return (and consume) the first signing rule (SIGNING_ACTIONS) that fires for url."""
        rule = self._fire(
            lambda r: (
                r["target"] == "webhook"
                and r["action"] in SIGNING_ACTIONS
                and fnmatch.fnmatchcase(url, r["url"])
            )
        )
        return rule["action"] if rule else None

    def _fire(self, matches) -> dict | None:
        with self._lock:
            for rule in self._rules:
                if not matches(rule):
                    continue
                if rule["times"] is not None and rule["times"] <= 0:
                    continue
                if rule["probability"] is not None and self._random.random() >= rule["probability"]:
                    continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                rule["hits"] += 1
                return dict(rule)
        return None

    def install(self, app: Flask) -> None:
        """Apply HTTP rules to every request outside /__control."""

        @app.before_request
        def _apply_faults() -> Response | None:
            if request.path.startswith("/__control"):
                return None
            rule = self.match_http(request.method, request.path)
            if rule is None:
                return None
            latency = rule["latency_ms"]
            if latency:
                jitter = rule["jitter_ms"]
                delay_ms = latency + (self._random.uniform(-jitter, jitter) if jitter else 0)
                time.sleep(max(0.0, delay_ms) / 1000)
            if rule["status"] is None:
                return None
            body = rule["body"]
            if isinstance(body, str):
                response = Response(body, status=rule["status"], content_type="text/plain")
            else:
                response = jsonify(body if body is not None else {})
                response.status_code = rule["status"]
            for name, value in (rule.get("headers") or {}).items():
                response.headers[name] = str(value)
            return response


def _normalize(rule: dict) -> dict:
    if not isinstance(rule, dict):
        raise FaultRuleError("a rule is a JSON object")
    target = rule.get("target", "http")
    if target not in ("http", "webhook"):
        raise FaultRuleError("target is http or webhook")
    times = rule.get("times")
    probability = rule.get("probability")
    if times is not None and (not isinstance(times, int) or times < 0):
        raise FaultRuleError("times is a non-negative integer")
    if probability is not None and not (0 <= float(probability) <= 1):
        raise FaultRuleError("probability is between 0 and 1")
    stored = {
        "target": target,
        "times": times,
        "probability": float(probability) if probability is not None else None,
        "hits": 0,
    }
    if rule.get("from_template"):
        stored["from_template"] = rule["from_template"]
    if target == "webhook":
        action = rule.get("action")
        if action not in WEBHOOK_ACTIONS + SIGNING_ACTIONS:
            actions = ", ".join(WEBHOOK_ACTIONS + SIGNING_ACTIONS)
            raise FaultRuleError(f"action is one of {actions}")
        stored.update(
            url=rule.get("url") or "*",
            action=action,
            delay_seconds=float(rule.get("delay_seconds", 1.0 if action == "delay" else 0.0)),
        )
        return stored
    status = rule.get("status")
    latency_ms = float(rule.get("latency_ms") or 0)
    jitter_ms = float(rule.get("jitter_ms") or 0)
    if status is None and not latency_ms:
        raise FaultRuleError("an HTTP rule needs status or latency_ms")
    if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
        raise FaultRuleError("status is an HTTP status code")
    stored.update(
        method=str(rule.get("method") or "*").upper(),
        path=rule.get("path") or "*",
        status=status,
        body=rule.get("body"),
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        headers=_headers(rule.get("headers")),
        rate=_rate(rule.get("rate")),
    )
    return stored


def _headers(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FaultRuleError("headers is an object of header names to values")
    return {str(k): str(v) for k, v in value.items()}


def _rate(value: object) -> dict | None:
    """{limit, seconds}: how many requests per method and path pass within seconds."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FaultRuleError("rate is {limit, seconds}")
    limit, seconds = value.get("limit", 1), value.get("seconds", 1)
    if not isinstance(limit, int) or limit < 0:
        raise FaultRuleError("rate.limit is a non-negative integer")
    if not isinstance(seconds, int | float) or seconds <= 0:
        raise FaultRuleError("rate.seconds is a positive number")
    return {"limit": limit, "seconds": float(seconds)}
