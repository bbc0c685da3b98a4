"""Fault rules: error responses and latency for HTTP routes, and drop/duplicate/delay/reorder for webhooks."""

from __future__ import annotations

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

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[dict] = []
        self._ids = itertools.count(1)
        self._random = random.Random(seed)

    def add(self, rule: dict) -> dict:
        """Validate and store a rule; return it with its id and hit counter."""
        stored = _normalize(rule)
        with self._lock:
            stored["id"] = next(self._ids)
            self._rules.append(stored)
            return dict(stored)

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

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
            )
        )

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
                return Response(body, status=rule["status"], content_type="text/plain")
            response = jsonify(body if body is not None else {})
            response.status_code = rule["status"]
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
    )
    return stored
