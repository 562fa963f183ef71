"""A merchant's view of one product over a window of days, from the per-day aggregates (never from the
raw clicks, shares or payments): 1 GetItem (the product, for ownership) + 1 Query (the window)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from tuishou import clock
from tuishou.dal import catalog
from tuishou.dal import insights as insights_dal
from tuishou.errors import NotFound
from tuishou.logic.products import check_product_id
from tuishou.logic.relevance import as_decimal_text
from tuishou.models.insights import Activity, ChannelActivity, DayActivity, ProductStats, PromoterActivity

DEFAULT_DAYS, MAX_DAYS, TOP = 7, 90, 10
COUNT_FIELDS = insights_dal.AGGREGATE_FIELDS


def conversion(transactions: int, clicks: int) -> tuple[str | None, int | None]:
    """transactions / clicks as (4-place decimal text, basis points rounded half-even); None without clicks."""
    if clicks <= 0:
        return None, None
    rate = Fraction(transactions, clicks)
    return as_decimal_text(rate), round(rate * 10_000)


def _activity(totals: dict[str, int]) -> dict[str, Any]:
    rate, bps = conversion(totals.get("transactions", 0), totals.get("clicks", 0))
    return {**{f: totals.get(f, 0) for f in COUNT_FIELDS}, "conversion_rate": rate, "conversion_rate_bps": bps}


def _top(groups: dict[str, dict[str, int]]) -> list[tuple[str, dict[str, Any]]]:
    ranked = sorted(
        groups.items(),
        key=lambda kv: (-kv[1].get("transactions", 0), -kv[1].get("revenue_minor", 0), -kv[1].get("clicks", 0), kv[0]),
    )
    return [(name, _activity(totals)) for name, totals in ranked[:TOP]]


def window_days(days: int, today: date) -> list[str]:
    return [(today - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def aggregate(
    aggregates: list[insights_dal.DayAggregate],
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Per-day aggregates -> (by day, by channel, by promoter) sums. Every event has one promoter and one
    channel: the day totals are the sums of the promoters' aggregates."""
    by_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_channel: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_promoter: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day_aggregate in aggregates:
        if day_aggregate.scope == "channel":
            targets = [by_channel[day_aggregate.name]]
        else:
            targets = [by_promoter[day_aggregate.name], by_day[day_aggregate.day]]
        for target in targets:
            for field in COUNT_FIELDS:
                target[field] += day_aggregate.counts.get(field, 0)
    return by_day, by_channel, by_promoter


def product_stats(merchant_id: str, product_id: str, days: int = DEFAULT_DAYS) -> ProductStats:
    check_product_id(product_id)
    product = catalog.get_product(product_id)
    if product is None or product.merchant_id != merchant_id:
        raise NotFound("no such product")
    day_list = window_days(days, clock.now().date())
    by_day, by_channel, by_promoter = aggregate(insights_dal.window_aggregates(product_id, day_list[0], day_list[-1]))
    totals = {f: sum(d.get(f, 0) for d in by_day.values()) for f in COUNT_FIELDS}
    return ProductStats(
        product_id=product_id,
        currency=product.currency,
        days=days,
        first_day=day_list[0],
        last_day=day_list[-1],
        totals=Activity(**_activity(totals)),
        per_day=[DayActivity(day=day, **_activity(by_day.get(day, {}))) for day in day_list],
        top_promoters=[PromoterActivity(promoter_id=p, **a) for p, a in _top(by_promoter)],
        top_channels=[ChannelActivity(channel=c, **a) for c, a in _top(by_channel)],
    )
