"""Local and test mode: `flask --app payment_backend test-clock ...` (show, advance, reset, sync)."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import Flask

from payment_backend.devtools import clock


def _print(answer: dict[str, Any]) -> None:
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))


def register_clock_commands(app: Flask) -> None:
    """Add the test-clock command group."""

    @app.cli.group("test-clock")
    def test_clock() -> None:
        """The test clock of the backend and of the fake gateways (not in real mode)."""

    @test_clock.command("show")
    def show() -> None:
        """The backend's time and offset."""
        _print(clock.state())

    @test_clock.command("advance")
    @click.option("--seconds", type=click.FloatRange(0, 366 * 86400), default=None)
    @click.option("--days", type=click.IntRange(1, 366), default=None)
    @click.option("--months", type=click.IntRange(1, 12), default=None, help="calendar months")
    def advance(seconds: float | None, days: int | None, months: int | None) -> None:
        """Move every clock forward and run what became due."""
        given = [v for v in (seconds, days, months) if v is not None]
        if len(given) != 1:
            raise click.UsageError("give exactly one of --seconds, --days, --months")
        if months is not None:
            seconds = clock.month_seconds(months)
        elif days is not None:
            seconds = days * 86400.0
        _print(clock.advance(float(seconds or 0)))

    @test_clock.command("reset")
    def reset() -> None:
        """Back to wall-clock time, the fakes too."""
        _print(clock.reset())

    @test_clock.command("sync")
    def sync() -> None:
        """Set the fakes' clocks to the backend's stored offset (run at start-up by make run)."""
        answer = {**clock.state(), "fakes": clock.push_offset()}
        _print(answer)
        if any("error" in fake for fake in answer["fakes"].values()):
            raise SystemExit(1)
