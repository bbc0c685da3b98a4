"""Virtual-account refunds paid out later, and deposits the bank reverses (fake_toss).

A deposited virtual account is refunded by a bank transfer to the buyer's refundReceiveAccount:
the cancel takes the amount off the balance at once, `virtualAccount.refundStatus` is `PENDING`
and the cancel's `cancelStatus` `IN_PROGRESS` until the payout (toss-v1.md §4 lists refundStatus
NONE/PENDING/FAILED/PARTIAL_FAILED/COMPLETED; the per-cancel state borrows the documented
IN_PROGRESS -> DONE/ABORTED of asynchronous cancels: a guess). Paid out, the cancel is `DONE`; a
failed transfer is `ABORTED` and its amount is back in `balanceAmount` (a guess). The payout runs
on the next business day at 09:00 KST of the fake clock (a guess), or now through the control API.
A refund account number starting with 999 fails at payout (fake-only).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fake_toss.models import KST, Cancel, Payment

IN_PROGRESS, DONE, ABORTED = "IN_PROGRESS", "DONE", "ABORTED"
COMPLETED, FAILED = "COMPLETED", "FAILED"
FAILING_ACCOUNT_PREFIX = "999"
PAYOUT_HOUR = 9


def payout_time(now: float) -> float:
    """The next business day at 09:00 KST (weekends skipped; holidays are not known)."""
    day = datetime.fromtimestamp(now, KST).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, PAYOUT_HOUR, tzinfo=KST).timestamp()


def start(payment: Payment, cancel: Cancel, account: dict, now: float) -> None:
    """A deposited virtual account's refund: pending until its payout."""
    payment.refund_account = account
    cancel.status = IN_PROGRESS
    cancel.payout_at = payout_time(now)
    cancel.payout_fails = str(account.get("accountNumber", "")).startswith(FAILING_ACCOUNT_PREFIX)
    payment.refund_status = refund_status(payment)


def pay_out(payment: Payment, now: float | None, outcome: str | None = None) -> bool:
    """Pay out the payment's pending refunds that are due (all with now None), as outcome
    (COMPLETED or FAILED; None: as the refund account decides); whether any changed."""
    changed = False
    for cancel in payment.cancels:
        if cancel.status != IN_PROGRESS or (now is not None and cancel.payout_at > now):
            continue
        fails = cancel.payout_fails if outcome is None else outcome == FAILED
        if fails:
            cancel.status = ABORTED
            payment.balance += cancel.amount
            payment.balance_tax_free += cancel.tax_free
        else:
            cancel.status = DONE
        changed = True
    if changed:
        payment.refund_status = refund_status(payment)
        if payment.balance == payment.total:
            payment.status = "DONE"
        else:
            payment.status = "CANCELED" if payment.balance == 0 else "PARTIAL_CANCELED"
    return changed


def refund_status(payment: Payment) -> str:
    """virtualAccount.refundStatus from its refunds' states."""
    states = [c.status for c in payment.cancels if c.payout_at is not None]
    if not states:
        return "NONE"
    if IN_PROGRESS in states:
        return "PENDING"
    if ABORTED in states:
        return FAILED if all(s == ABORTED for s in states) else "PARTIAL_FAILED"
    return COMPLETED


def reverse_deposit(payment: Payment, transaction_key: str) -> None:
    """DONE back to WAITING_FOR_DEPOSIT: the bank reversed the deposit (toss-v1.md §6, API 1.5+).
    approvedAt keeps the reversed approval's time (a guess: the docs do not say)."""
    payment.status = "WAITING_FOR_DEPOSIT"
    payment.last_transaction_key = transaction_key
