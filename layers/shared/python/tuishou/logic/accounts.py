"""Account statements (balances and entries, and the monthly CSV statement) and the admin lists of
unattributed payments and rejected notifications."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from tuishou import clock, money
from tuishou.dal import ledger as ledger_dal
from tuishou.dal import payments as payments_dal
from tuishou.dal import users as users_dal
from tuishou.dal.ledger import StatementEntry
from tuishou.errors import Unprocessable
from tuishou.models.ledger import LEDGER_STATES, SYSTEM_PREFIX
from tuishou.models.payments import (
    AccountResponse,
    Balance,
    Entry,
    RejectedNotification,
    RejectedNotificationsResponse,
    UnattributedPayment,
    UnattributedPaymentsResponse,
)


def statement(account_id: str, limit: int, cursor: str | None) -> AccountResponse:
    """Two Queries: the balances, and one page of entries newest first."""
    items, next_cursor = ledger_dal.entries(account_id, limit, cursor)
    balances = sorted(ledger_dal.balances(account_id), key=lambda b: b.currency)
    return AccountResponse(
        balances=[Balance.model_validate(b, from_attributes=True) for b in balances],
        entries=[Entry.model_validate(e, from_attributes=True) for e in items],
        next_cursor=next_cursor,
    )


def unattributed_payments(limit: int, cursor: str | None) -> UnattributedPaymentsResponse:
    items, next_cursor = payments_dal.unattributed(limit, cursor)
    rows = [UnattributedPayment.model_validate(item, from_attributes=True) for item in items]
    return UnattributedPaymentsResponse(items=rows, next_cursor=next_cursor)


def rejected_notifications(limit: int, cursor: str | None) -> RejectedNotificationsResponse:
    items, next_cursor = payments_dal.rejected(limit, cursor)
    rows = [RejectedNotification.model_validate(item, from_attributes=True) for item in items]
    return RejectedNotificationsResponse(items=rows, next_cursor=next_cursor)


# ---------------------------------------------------------------- monthly statements
STATEMENT_COLUMNS = ("row", "currency", "time", "kind", "reference", "state", "amount")


def monthly_statement_csv(account_id: str, month: str) -> str:
    """The account's statement of ``month`` (YYYY-MM, in the user's time zone) as CSV, per currency: the
    opening balance (in total and per state), every entry of the month, the closing balance. Amounts are
    decimal strings of the currency. Opening = today's balance minus every entry since the month began (a
    Query of the activity since then), so no history before the month is read."""
    _, zone = users_dal.locale_of(account_id)
    start, end = _month_bounds(month, ZoneInfo(zone))
    now = clock.iso()
    if start > now:
        raise Unprocessable("month: is in the future", field="month")
    since = list(ledger_dal.entries_from(account_id, start))
    balances = {b.currency: b for b in ledger_dal.balances(account_id)}
    states = () if account_id.startswith(SYSTEM_PREFIX) else LEDGER_STATES
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\r\n")
    rows.writerow(STATEMENT_COLUMNS)
    for currency in sorted(set(balances) | {e.currency for e in since}):
        mine = [e for e in since if e.currency == currency]
        month_entries = [e for e in mine if e.created_at < end]
        current = balances.get(currency)
        opening = _by_state(current, mine, subtract=True)
        rows.writerows(_balance_rows("opening_balance", currency, start, opening, states))
        for e in month_entries:
            amount = money.decimal_text(e.amount_minor, currency)
            rows.writerow(("entry", currency, e.created_at, e.kind, e.reference or "", e.state or "", amount))
        closing = _add(opening, month_entries)
        rows.writerows(_balance_rows("closing_balance", currency, min(end, now), closing, states))
    return out.getvalue()


def _month_bounds(month: str, zone: ZoneInfo) -> tuple[str, str]:
    year, number = int(month[:4]), int(month[5:7])
    first = datetime(year, number, 1, tzinfo=zone)
    following = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return clock.iso(first), clock.iso(following)


def _by_state(current: ledger_dal.BalanceRecord | None, since: list[StatementEntry], subtract: bool) -> dict[str, int]:
    totals = {"": current.balance_minor if current else 0}
    for state in LEDGER_STATES:
        totals[state] = current.in_state(state) if current else 0
    sign = -1 if subtract else 1
    for e in since:
        totals[""] += sign * e.amount_minor
        if e.state:
            totals[e.state] += sign * e.amount_minor
    return totals


def _add(opening: dict[str, int], entries: list[StatementEntry]) -> dict[str, int]:
    totals = dict(opening)
    for e in entries:
        totals[""] += e.amount_minor
        if e.state:
            totals[e.state] += e.amount_minor
    return totals


def _balance_rows(
    row: str, currency: str, at: str, totals: dict[str, int], states: tuple[str, ...]
) -> list[tuple[str, ...]]:
    """The total (state column empty), then each state's part of it (a user account's four states)."""
    return [
        (row, currency, at, "", "", "", money.decimal_text(totals[""], currency)),
        *((row, currency, at, "", "", s, money.decimal_text(totals[s], currency)) for s in states),
    ]
