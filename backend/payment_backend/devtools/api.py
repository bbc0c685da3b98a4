"""Routes that exist only outside real mode: the test clock and simulated deposits."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from payment_backend.devtools import clock, deposits
from payment_backend.errors import ApiError, error_doc
from payment_backend.limits import rate_limited
from payment_backend.schemas.checkout import OrderSchema
from payment_backend.schemas.devtools import ClockMoveSchema, ClockStateSchema
from payment_backend.services import checkout
from payment_backend.services.orders_view import order_view

clock_blp = Blueprint(
    "test_clock",
    __name__,
    url_prefix="/api/test/clock",
    description="Local and test mode: the backend's clock (and the fakes' clocks)",
)
deposits_blp = Blueprint(
    "test_deposits",
    __name__,
    url_prefix="/api/checkout",
    description="Local and test mode: deposits into virtual accounts",
)


def _never_in_real_mode() -> None:
    """A second guard: these routes are not even registered in real mode (register_devtools)."""
    if current_app.config["PAYMENT_MODE"] == "real":
        raise ApiError(404, "NOT_FOUND", "Dev tools do not exist in real mode.")


clock_blp.before_request(_never_in_real_mode)
deposits_blp.before_request(_never_in_real_mode)


@clock_blp.route("")
@clock_blp.response(200, ClockStateSchema)
def get_clock():
    """The backend's time and how far it was moved."""
    return clock.state()


@clock_blp.route("", methods=["POST"])
@clock_blp.arguments(ClockMoveSchema)
@clock_blp.response(200, ClockStateSchema)
def advance_clock(body):
    """Move the backend's and the fakes' clocks forward (seconds, or calendar months); what
    became due runs before the answer."""
    if "months" in body:
        return clock.advance(clock.month_seconds(body["months"]))
    return clock.advance(body["advance"])


@clock_blp.route("/reset", methods=["POST"])
@clock_blp.response(200, ClockStateSchema)
def reset_clock():
    """Back to wall-clock time: the backend's clock and both fakes' clocks."""
    return clock.reset()


@deposits_blp.route("/orders/<order_id>/simulate-deposit", methods=["POST"])
@rate_limited("checkout")
@deposits_blp.response(200, OrderSchema)
@deposits_blp.alt_response(404, **error_doc("ORDER_NOT_FOUND"))
@deposits_blp.alt_response(409, **error_doc("NOT_AWAITING_DEPOSIT", "GATEWAY_REFUSED"))
@deposits_blp.alt_response(502, **error_doc("GATEWAY_UNAVAILABLE"))
def simulate_deposit(order_id: str):
    """Ask the fake gateway to deposit into the order's virtual account."""
    return order_view(deposits.simulate_deposit(checkout.get_order(order_id)))
