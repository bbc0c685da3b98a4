"""The owner's commands: `flask --app payment_backend settle --date 2026-11-29 [--csv FILE]`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import click
from flask import Flask

from payment_backend.clock import now
from payment_backend.services import settlement


def _amount(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _print_settlement(result: settlement.Settlement) -> None:
    """Totals per vendor and method, then every line that differs."""
    click.echo(f"Settlement of {result.day.isoformat()} ({result.timezone})")
    for vendor, why in result.unavailable.items():
        click.echo(f"  ! {vendor} could not be listed: {why}")
    click.echo(
        f"  {'vendor':<8} {'method':<7} {'cur':<4} {'payments':>14} {'refunds':>14} "
        f"{'net':>14} {'ledger net':>14}"
    )
    for t in result.totals:
        click.echo(
            f"  {t.vendor:<8} {t.method:<7} {t.currency:<4} "
            f"{_amount(t.payments):>10} ({t.payment_count:>2}) {_amount(t.refunds):>10} "
            f"({t.refund_count:>2}) {_amount(t.net):>14} {_amount(t.ledger_net):>14}"
        )
    click.echo(f"{len(result.lines)} transactions, {result.differences} differences")
    for line in result.lines:
        if line.difference:
            click.echo(
                f"  {line.difference:<19} {line.vendor:<7} {line.kind:<7} {line.transaction_id} "
                f"order {line.order_id}: gateway {_amount(line.gateway_amount)} "
                f"{line.gateway_status or ''} / ledger {_amount(line.ledger_amount)} "
                f"{line.ledger_status or ''}"
            )


def register_owner_commands(app: Flask) -> None:
    """Add the settle command."""

    @app.cli.command("settle")
    @click.option(
        "--date",
        "day",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="The day (YYYY-MM-DD, Korean time); default: yesterday.",
    )
    @click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path))
    def settle_command(day: datetime | None, csv_path: Path | None) -> None:
        """Settle a day: each gateway's payments and refunds beside the ledger.

        Exits 1 when any line differs (or a gateway could not be listed), for a cron job's alert.
        """
        chosen: date = day.date() if day else _yesterday()
        result = settlement.settle(chosen)
        _print_settlement(result)
        if csv_path is not None:
            csv_path.write_text(settlement.to_csv(result), encoding="utf-8-sig")
            click.echo(f"CSV written to {csv_path}")
        if result.differences or result.unavailable:
            raise SystemExit(1)


def _yesterday() -> date:
    """Yesterday in the settlement time zone (the app clock's)."""
    start, _, _ = settlement.day_bounds(now().date())
    return (now().astimezone(start.tzinfo) - timedelta(days=1)).date()
