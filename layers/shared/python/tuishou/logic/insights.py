"""The daily merchant-insights job: low-performance alerts and raise-reward hints (docs/insights.md).

Fanned out by merchant shard: the schedule sends one message per shard of the ``ACTIVETASKS#{shard}``
index, and each invocation handles one page of one shard (whole merchants; a large shard continues in a
further message). Reads (never the whole history): the shard's index page (one item per active task), one
Query per active task over its per-day aggregates for the window, and one BatchGetItem per 50 promoters who passed
the sales threshold (profile + category counts). Writes: one conditional marker Put (+ one Update after
sending) per notification, so every signal goes out once per merchant (or pair) per period, under
retried and concurrent runs alike.

Window: the ``window_days`` complete UTC days before the run's day, so a retried or late run sees the
same numbers. Period: blocks of ``period_days`` UTC days counted from Monday 0001-01-01 (7 = ISO weeks).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

from tuishou import clock, settings
from tuishou.dal import insights as insights_dal
from tuishou.dal.users import ProfileRecord
from tuishou.logic import notifications, product_stats, relevance
from tuishou.logic.rewards import ApplicableRule, applicable_rule, override_for
from tuishou.money import commission_minor
from tuishou.observability import logger

LOW_PERFORMANCE, RAISE_REWARD_HINT = "low_performance", "raise_reward_hint"
LOW_TRANSACTIONS, LOW_PROMOTIONS = "low_transactions", "low_promotions"
STALE_CLAIM = timedelta(minutes=20)  # longer than a page invocation's 5-minute timeout: a claim older than this died


@dataclass(frozen=True)
class InsightsConfig:
    window_days: int = 7
    period_days: int = 7
    low_transactions_below: int = 3
    low_promotions_below: int = 5
    hint_relevance_below: Fraction = Fraction(1, 2)
    hint_sales_above: int = 5
    hint_uplift_bps: int = 2000

    @classmethod
    def from_env(cls) -> InsightsConfig:
        configured = settings.insights()
        return cls(**{name: getattr(configured, name) for name in cls.__dataclass_fields__})


@dataclass
class InsightsRun:
    window: tuple[str, str]
    period: str
    active_tasks: int = 0
    alerts_sent: int = 0
    hints_sent: int = 0
    already_sent: int = 0
    failed: int = 0
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: InsightsRun) -> None:
        for name in ("active_tasks", "alerts_sent", "hints_sent", "already_sent", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.notifications.extend(other.notifications)

    def summary(self) -> dict[str, Any]:
        return {
            "window": list(self.window),
            "period": self.period,
            "active_tasks": self.active_tasks,
            "alerts_sent": self.alerts_sent,
            "hints_sent": self.hints_sent,
            "already_sent": self.already_sent,
            "notifications": self.notifications,
        }


def window_of(run_day: date, window_days: int) -> tuple[str, str]:
    """The ``window_days`` complete UTC days before ``run_day`` (first, last), inclusive."""
    return (run_day - timedelta(days=window_days)).isoformat(), (run_day - timedelta(days=1)).isoformat()


def period_of(run_day: date, period_days: int) -> str:
    """The first day of the ``period_days``-long block holding ``run_day`` (blocks start on Monday 0001-01-01)."""
    ordinal = run_day.toordinal()
    return date.fromordinal(ordinal - (ordinal - 1) % period_days).isoformat()


def suggested_value(rule_type: str, value: int, uplift_bps: int) -> int | None:
    """The current reward raised by ``uplift_bps`` (default +20 %), rounded half-up to a whole basis point
    or minor unit, at least one more than now; percent rules stop at 100 %. None when it cannot rise."""
    raised = max((value * (10_000 + uplift_bps) + 5_000) // 10_000, value + 1)
    if rule_type == "percent":
        raised = min(raised, 10_000)
    return raised if raised > value else None


# ---------------------------------------------------------------- the run
def run_shard(
    shard: int, at: datetime, start: str | None = None, config: InsightsConfig | None = None
) -> tuple[InsightsRun, str | None]:
    """One page of one merchant shard's active tasks (whole merchants: a merchant's alert lists all its
    tasks): its signals, and where the shard's next page starts (None when the shard is done)."""
    config = config or InsightsConfig.from_env()
    page = insights_dal.active_tasks_page(shard, start, settings.insights().tasks_per_invocation)
    return _run_tasks(page.tasks, at, config), page.next_from


def run(at: datetime, config: InsightsConfig | None = None) -> InsightsRun:
    """Every shard, page after page, in this one process: what the fanned-out job adds up to."""
    config = config or InsightsConfig.from_env()
    total = InsightsRun(*_window_and_period(at, config))
    for shard in insights_dal.active_task_shards():
        start: str | None = None
        while True:
            part, start = run_shard(shard, at, start, config)
            total.add(part)
            if start is None:
                break
    return total


def _window_and_period(at: datetime, config: InsightsConfig) -> tuple[tuple[str, str], str]:
    run_day = at.astimezone(UTC).date()
    return window_of(run_day, config.window_days), period_of(run_day, config.period_days)


def _run_tasks(tasks: list[insights_dal.ActiveTaskEntry], at: datetime, config: InsightsConfig) -> InsightsRun:
    result = InsightsRun(*_window_and_period(at, config))
    first_day, last_day = result.window
    result.active_tasks = len(tasks)
    activity = {
        t.product_id: _task_activity(insights_dal.window_aggregates(t.product_id, first_day, last_day)) for t in tasks
    }
    _low_performance(tasks, activity, config, result)
    _hints(tasks, activity, config, result)
    if result.failed:
        # Sent signals are marked; the failed ones were released: a retry sends exactly those.
        raise RuntimeError(f"{result.failed} insight notification(s) failed; the job will retry")
    return result


@dataclass
class _Activity:
    transactions: int = 0
    promotions: int = 0
    sales_by_promoter: dict[str, int] = field(default_factory=dict)


def _task_activity(aggregates: list[insights_dal.DayAggregate]) -> _Activity:
    by_day, _, by_promoter = product_stats.aggregate(aggregates)
    return _Activity(
        transactions=sum(d.get("transactions", 0) for d in by_day.values()),
        promotions=sum(d.get("promotions", 0) for d in by_day.values()),
        sales_by_promoter={p: t["transactions"] for p, t in by_promoter.items() if t.get("transactions")},
    )


def _send_once(
    result: InsightsRun,
    merchant_id: str,
    signal: str,
    subject: str,
    kind: str,
    message: Callable[[], dict[str, Any]],
) -> None:
    """Claim the (merchant, period, signal, subject) marker, notify, confirm. A failed send releases its
    claim so the retry sends it; a run that dies between claim and confirm leaves a claim that turns
    stale after ``STALE_CLAIM``, and a later run re-claims it (at most one duplicate in that case)."""
    now = clock.now()
    if not insights_dal.claim_marker(
        merchant_id, result.period, signal, subject, clock.iso(now), clock.iso(now - STALE_CLAIM)
    ):
        result.already_sent += 1
        return
    try:
        sent = notifications.notify(merchant_id, kind, message())
    except Exception:  # keep going for the other merchants; the run fails at the end so it is retried
        logger.exception("insight notification failed", extra={"merchant_id": merchant_id, "signal": signal})
        insights_dal.release_marker(merchant_id, result.period, signal, subject)
        result.failed += 1
        return
    insights_dal.confirm_marker(merchant_id, result.period, signal, subject, sent.notification_id, clock.iso())
    result.notifications.append({"merchant_id": merchant_id, "kind": kind, "signal": signal, "subject": subject})
    if kind == LOW_PERFORMANCE:
        result.alerts_sent += 1
    else:
        result.hints_sent += 1


# ---------------------------------------------------------------- low-performance alerts
def _low_performance(
    tasks: list[insights_dal.ActiveTaskEntry],
    activity: dict[str, _Activity],
    config: InsightsConfig,
    result: InsightsRun,
) -> None:
    """Per merchant: active tasks (published before the window began) whose window transactions are below
    the threshold, and separately those whose promotions are; one alert of each kind."""
    window_start = result.window[0]
    by_merchant: dict[str, list[insights_dal.ActiveTaskEntry]] = defaultdict(list)
    for task in tasks:
        if task.created_at[:10] < window_start:  # a task younger than the window had no fair chance
            by_merchant[task.merchant_id].append(task)
    signals = (
        (LOW_TRANSACTIONS, "transactions", config.low_transactions_below),
        (LOW_PROMOTIONS, "promotions", config.low_promotions_below),
    )
    for merchant_id in sorted(by_merchant):
        for signal, measure, threshold in signals:
            low = sorted(
                (
                    (getattr(activity[t.product_id], measure), t)
                    for t in by_merchant[merchant_id]
                    if getattr(activity[t.product_id], measure) < threshold
                ),
                key=lambda pair: (pair[0], pair[1].product_id),
            )
            if not low:
                continue

            def message(
                low: list[tuple[int, insights_dal.ActiveTaskEntry]] = low,
                measure: str = measure,
                threshold: int = threshold,
                signal: str = signal,
            ) -> dict[str, Any]:
                return {
                    "signal": signal,
                    "measure": measure,
                    "threshold": threshold,
                    "window_days": config.window_days,
                    "first_day": result.window[0],
                    "last_day": result.window[1],
                    "tasks": [{"product_id": t.product_id, "title": t.title, measure: count} for count, t in low],
                }

            _send_once(result, merchant_id, signal, "all", LOW_PERFORMANCE, message)


# ---------------------------------------------------------------- raise-reward hints
def _hints(
    tasks: list[insights_dal.ActiveTaskEntry],
    activity: dict[str, _Activity],
    config: InsightsConfig,
    result: InsightsRun,
) -> None:
    """Pairs (promoter, task) with more than ``hint_sales_above`` sales in the window whose relevance
    coefficient (promoter's first category vs the task's category) is below ``hint_relevance_below``."""
    candidates = sorted(
        (task.merchant_id, task.product_id, promoter_id, sales, task)
        for task in tasks
        for promoter_id, sales in activity[task.product_id].sales_by_promoter.items()
        if sales > config.hint_sales_above
    )
    if not candidates:
        return
    context = insights_dal.promoters_context([c[2] for c in candidates])
    for merchant_id, product_id, promoter_id, sales, task in candidates:
        profile, categories = context[promoter_id]
        first = relevance.first_category(categories)
        if profile is None or first is None:
            continue
        coefficient = relevance.coefficient(first, task.category)
        if coefficient >= config.hint_relevance_below:
            continue
        current = applicable_rule(
            task.reward_rules,
            profile.tags or ["standard"],
            task.price_minor,
            override_for(profile, product_id),
        )
        if current is None:  # no longer eligible (tags changed): nothing to raise
            continue
        suggested = suggested_value(current.rule.type, current.rule.value, config.hint_uplift_bps)
        if suggested is None:
            continue

        def message(
            task: insights_dal.ActiveTaskEntry = task,
            profile: ProfileRecord = profile,
            sales: int = sales,
            first: str = first,
            coefficient: Fraction = coefficient,
            current: ApplicableRule = current,
            suggested: int = suggested,
        ) -> dict[str, Any]:
            currency, rule_type = task.currency, current.rule.type
            name = profile.display_name or profile.user_id
            return {
                "promoter_id": profile.user_id,
                "promoter_name": name,
                "product_id": task.product_id,
                "title": task.title,
                "sales": sales,
                "window_days": config.window_days,
                "first_category": first,
                "task_category": task.category,
                "relevance": relevance.as_decimal_text(coefficient),
                "currency": currency,
                "current_reward": {
                    "type": rule_type,
                    "value": current.rule.value,
                    "source": "promoter_override" if current.overridden else "tag_rule",
                },
                "current_commission_minor": current.commission_minor,
                "suggested_reward": {"type": rule_type, "value": suggested},
                "suggested_commission_minor": commission_minor(rule_type, suggested, task.price_minor),
            }

        _send_once(result, merchant_id, RAISE_REWARD_HINT, f"{product_id}#{promoter_id}", RAISE_REWARD_HINT, message)
