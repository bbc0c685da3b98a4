"""The test clock resets, moves by calendar months, and keeps the fakes in step (also after a
restart, through `flask test-clock sync`)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from payment_backend.clock import add_months


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, 9, tzinfo=UTC), 1, datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2028, 1, 31, 9, tzinfo=UTC), 1, datetime(2028, 2, 29, 9, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), 3, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2026, 3, 15, tzinfo=UTC), 12, datetime(2027, 3, 15, tzinfo=UTC)),
    ],
)
def test_a_month_is_a_calendar_month(start, months, expected):
    assert add_months(start, months) == expected


def test_advancing_one_month_moves_every_clock_to_the_same_day_next_month(subscriber):
    before = at(subscriber.client.get("/api/test/clock").get_json()["now"])
    moved = subscriber.client.post("/api/test/clock", json={"months": 1})
    assert moved.status_code == 200, moved.get_json()
    after = at(moved.get_json()["now"])
    assert (after - add_months(before, 1)).total_seconds() == pytest.approx(0, abs=5)
    for fake in (subscriber.fakes.iamport, subscriber.fakes.toss):
        assert fake.clock()["now"] == pytest.approx(after.timestamp(), abs=5)


def test_the_clock_move_takes_seconds_or_months_not_both(subscriber):
    for body in ({}, {"advance": 60, "months": 1}, {"months": 0}, {"months": 13}):
        answer = subscriber.client.post("/api/test/clock", json=body)
        assert answer.status_code == 422, body
        assert answer.get_json()["code"] == "VALIDATION_ERROR"


def test_reset_returns_the_backend_and_both_fakes_to_real_time(subscriber):
    subscriber.advance(10 * 86400)
    answer = subscriber.client.post("/api/test/clock/reset")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["offset_seconds"] == pytest.approx(0, abs=1)
    assert at(body["now"]).timestamp() == pytest.approx(time.time(), abs=5)
    assert set(body["fakes"]) == {"iamport", "toss", "portone"}
    for fake in (subscriber.fakes.iamport, subscriber.fakes.toss):
        assert fake.clock()["offset"] == pytest.approx(0, abs=1)
    # Other processes read the stored offset: it is gone too.
    from payment_backend.clock import Clock, DatabaseOffset

    assert Clock(DatabaseOffset(subscriber.app), ttl=0).offset().total_seconds() == pytest.approx(
        0, abs=1
    )


def test_the_cli_sets_restarted_fakes_to_the_stored_offset_and_resets(subscriber):
    subscriber.advance(5 * 86400)
    for fake in (subscriber.fakes.iamport, subscriber.fakes.toss):
        fake.set_clock(time.time())  # as a fake restarted at real time
    runner = subscriber.app.test_cli_runner()
    synced = runner.invoke(args=["test-clock", "sync"])
    assert synced.exit_code == 0, synced.output
    for fake in (subscriber.fakes.iamport, subscriber.fakes.toss):
        assert fake.clock()["offset"] == pytest.approx(5 * 86400, abs=5)
    advanced = runner.invoke(args=["test-clock", "advance", "--days", "1"])
    assert advanced.exit_code == 0, advanced.output
    assert json.loads(advanced.output)["offset_seconds"] == pytest.approx(6 * 86400, abs=5)
    assert runner.invoke(args=["test-clock", "advance"]).exit_code != 0
    reset = runner.invoke(args=["test-clock", "reset"])
    assert reset.exit_code == 0, reset.output
    for fake in (subscriber.fakes.iamport, subscriber.fakes.toss):
        assert fake.clock()["offset"] == pytest.approx(0, abs=1)
