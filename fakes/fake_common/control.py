"""The /__control blueprint every fake shares: reset, clock, fault rules and the webhook log."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, jsonify, request

from fake_common.clock import Clock
from fake_common.faults import FaultRuleError, FaultRules
from fake_common.webhooks import WebhookSender


def register_control(
    app: Flask,
    *,
    reset: Callable[[], None],
    clock: Clock,
    faults: FaultRules,
    webhooks: WebhookSender,
) -> Blueprint:
    """Register /__control on app and return the (already registered) blueprint."""
    bp = Blueprint("fake_control", __name__, url_prefix="/__control")

    @bp.post("/reset")
    def reset_all():
        """Forget all state, fault rules and webhooks; return the clock to real time."""
        faults.clear()
        webhooks.reset()
        clock.reset()
        reset()
        return jsonify({"reset": True, "clock": clock.to_dict()})

    @bp.get("/clock")
    def get_clock():
        """Show the fake time."""
        return jsonify(clock.to_dict())

    @bp.post("/clock")
    def move_clock():
        """Advance ({"advance": seconds}), set ({"now": unix_seconds}) or shift ({"offset":
        seconds from real time}, 0 = real time again) the clock; due work runs."""
        body = request.get_json(silent=True) or {}
        try:
            if "offset" in body:
                clock.set_offset(float(body["offset"]))
            elif "now" in body:
                clock.set(float(body["now"]))
            elif "advance" in body:
                seconds = float(body["advance"])
                if seconds < 0:
                    return jsonify({"error": "advance must not be negative"}), 400
                clock.advance(seconds)
            else:
                hint = 'give {"advance": seconds}, {"now": unix_seconds} or {"offset": seconds}'
                return jsonify({"error": hint}), 400
        except (TypeError, ValueError):
            return jsonify({"error": "advance and now are numbers"}), 400
        return jsonify(clock.to_dict())

    @bp.post("/faults")
    def add_fault():
        """Add a fault rule."""
        try:
            rule = faults.add(request.get_json(silent=True))
        except (FaultRuleError, TypeError, ValueError) as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify(rule)

    @bp.get("/faults/templates")
    def fault_templates():
        """The fake's ready-made rules: add one with {"template": name, ...overrides}."""
        return jsonify(faults.templates)

    @bp.get("/faults")
    def list_faults():
        """List the fault rules with their hit counts."""
        return jsonify(faults.list())

    @bp.delete("/faults")
    def clear_faults():
        """Remove every fault rule."""
        faults.clear()
        return jsonify({"cleared": True})

    @bp.delete("/faults/<int:rule_id>")
    def remove_fault(rule_id: int):
        """Remove one fault rule."""
        if not faults.remove(rule_id):
            return jsonify({"error": "no such rule"}), 404
        return jsonify({"removed": rule_id})

    @bp.get("/webhooks")
    def list_webhooks():
        """Every webhook sent, with each attempt; ?wait=seconds waits for deliveries in progress."""
        wait = request.args.get("wait", type=float)
        if wait:
            webhooks.wait_idle(min(wait, 30.0))
        return jsonify(webhooks.log())

    app.register_blueprint(bp)
    return bp
