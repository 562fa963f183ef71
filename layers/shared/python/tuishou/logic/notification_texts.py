"""What a notification says, in the recipient's language: a title and a body per kind and locale.

A kind's template is a pair of ``str.format`` strings per locale (``TEMPLATES``); its fields come from the
notification's data through the kind's field builder (``_FIELDS``), which formats amounts per currency and
times in the recipient's time zone. To add a locale: add it to ``LOCALES`` and give every kind its strings
(and the few phrases below); a test renders every kind in every locale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tuishou import clock
from tuishou.models.common import DEFAULT_LOCALE, DEFAULT_TIME_ZONE
from tuishou.money import format_minor

__all__ = ["DEFAULT_LOCALE", "DEFAULT_TIME_ZONE", "LOCALES", "Rendered", "local_time", "money", "render"]

LOCALES = ("zh-CN", "en")
TITLE_MAX = 20  # a WeChat subscribe message's "thing" field holds at most 20 characters
LISTED_TASKS = 5  # a low-performance alert names this many tasks, then "and N more"


@dataclass(frozen=True)
class Rendered:
    title: str  # short (push title, WeChat thing field: <= 20 characters)
    body: str  # the full text (inbox, SMS, push body)


def money(amount_minor: int, currency: str, locale: str) -> str:
    """``¥12.34``: the currency's symbol and its minor units, the same in every supported locale."""
    del locale  # both locales write amounts alike; kept so a locale that differs can
    return format_minor(amount_minor, currency)


def local_time(iso_utc: str, time_zone: str, locale: str) -> str:
    """A UTC instant as the recipient reads it: "3 May 18:00" (en), "5月3日 18:00" (zh-CN)."""
    moment = clock.parse_iso(iso_utc).astimezone(ZoneInfo(time_zone))
    if locale == "en":
        return f"{moment.day} {moment.strftime('%b')} {moment:%H:%M}"
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"


def local_date(iso_utc: str, time_zone: str, locale: str) -> str:
    moment = clock.parse_iso(iso_utc).astimezone(ZoneInfo(time_zone))
    return f"{moment.day} {moment.strftime('%B')}" if locale == "en" else f"{moment.month}月{moment.day}日"


def render(kind: str, data: Mapping[str, Any], locale: str, time_zone: str) -> Rendered:
    """The kind's template in ``locale`` (an unknown one falls back to the default) filled from ``data``."""
    templates = TEMPLATES[kind]
    title, body = templates.get(locale) or templates[DEFAULT_LOCALE]
    chosen = locale if locale in templates else DEFAULT_LOCALE
    fields = _FIELDS[kind](data, chosen, time_zone)
    return Rendered(title=title.format(**fields)[:TITLE_MAX], body=body.format(**fields))


# ---------------------------------------------------------------- phrases shared by kinds
_CHANNEL_NAMES_ZH = {
    "wechat": "微信",
    "weibo": "微博",
    "douyin": "抖音",
    "xiaohongshu": "小红书",
    "qq": "QQ",
    "sms": "短信",
}


def _channel(channel: str, locale: str) -> str:
    return _CHANNEL_NAMES_ZH.get(channel, channel) if locale == "zh-CN" else channel


def _count(n: int, one: str, many: str, zh_unit: str, locale: str) -> str:
    """ "1 sale", "2 sales"; "2 笔销售" ("{n} {unit}")."""
    if locale == "zh-CN":
        return f"{n} {zh_unit}"
    return f"{n} {one if n == 1 else many}"


def _to_go(sales: int, shares: int, locale: str) -> str:
    parts = []
    if sales:
        parts.append(_count(sales, "sale", "sales", "笔销售", locale))
    if shares:
        parts.append(_count(shares, "share", "shares", "次分享", locale))
    return (" and " if locale == "en" else "和 ").join(parts)


def _reward(reward: Mapping[str, Any], currency: str, locale: str) -> str:
    value = int(reward["value"])
    if reward["type"] == "percent":
        return f"{value // 100}.{value % 100:02d}%"
    amount = money(value, currency, locale)
    return f"{amount} per sale" if locale == "en" else f"每笔 {amount}"


# ---------------------------------------------------------------- each kind's fields
def _deadline_reminder(data: Mapping[str, Any], locale: str, time_zone: str) -> dict[str, str]:
    """The deadline as a local time, never "5 h left": the inbox shows the text long after it was written."""
    sales, shares = data.get("remaining_transactions") or 0, data.get("remaining_promotions") or 0
    return {
        "to_go": _to_go(sales, shares, locale),
        "deadline": local_time(data["deadline"], time_zone, locale),
        "channel": _channel(data["channel"], locale),
    }


def _channel_bonus_completed(data: Mapping[str, Any], locale: str, time_zone: str) -> dict[str, str]:
    del time_zone  # no time in this text
    return {
        "channel": _channel(data["channel"], locale),
        "bonus": money(data["bonus_minor"], data["currency"], locale),
    }


def _coupon_issued(data: Mapping[str, Any], locale: str, time_zone: str) -> dict[str, str]:
    del time_zone
    coupons, remaining = int(data["coupons"]), data.get("remaining_transactions")
    to_go = "" if remaining is None else _to_go(int(remaining), 0, locale)
    if locale == "en":
        who = "A shopper" if coupons == 1 else "Shoppers"
        what = "a" if coupons == 1 else f"{coupons}"
        noun = "coupon" if coupons == 1 else "coupons this hour"
        tail = f": {to_go} to go" if to_go else ""
    else:
        who, what, noun = "", f"{coupons} 张", "优惠券"
        tail = f"，还差 {to_go}" if to_go else ""
    return {
        "who": who,
        "what": what,
        "noun": noun,
        "channel": _channel(data["channel"], locale),
        "value": money(data["value_minor"], data["currency"], locale),
        "coupons": str(coupons),
        "tail": tail,
    }


def _low_performance(data: Mapping[str, Any], locale: str, time_zone: str) -> dict[str, str]:
    del time_zone
    measure, tasks = data["measure"], data["tasks"]
    listed = (", " if locale == "en" else "、").join(
        f"{t['title']} ({t.get(measure, 0)})" for t in tasks[:LISTED_TASKS]
    )
    extra = len(tasks) - LISTED_TASKS
    if locale == "en":
        noun = "sales" if measure == "transactions" else "promotions"
        more = f" and {extra} more" if extra > 0 else ""
    else:
        noun = "笔销售" if measure == "transactions" else "次推广"
        more = f"等另外 {extra} 个" if extra > 0 else ""
    return {
        "tasks": str(len(tasks)),
        "threshold": str(data["threshold"]),
        "noun": noun,
        "window_days": str(data["window_days"]),
        "listed": listed,
        "more": more,
    }


def _raise_reward_hint(data: Mapping[str, Any], locale: str, time_zone: str) -> dict[str, str]:
    del time_zone
    return {
        "name": data["promoter_name"],
        "sales": str(data["sales"]),
        "title": data["title"],
        "window_days": str(data["window_days"]),
        "first": data["first_category"],
        "current": _reward(data["current_reward"], data["currency"], locale),
        "suggested": _reward(data["suggested_reward"], data["currency"], locale),
    }


_WHAT = {
    "en": {"sale_commission": "your sale", "channel_bonus": "your channel bonus", "invite_signup": "your invite"},
    "zh-CN": {"sale_commission": "销售佣金", "channel_bonus": "渠道奖励", "invite_signup": "邀请奖励"},
}


def _compensation(data: Mapping[str, Any], locale: str, time_zone: str) -> dict[str, str]:
    what = _WHAT[locale].get(data["type"], "your reward" if locale == "en" else "奖励")
    occurred_at = data.get("occurred_at")
    if locale == "en":
        when = f" on {local_date(occurred_at, time_zone, locale)}" if occurred_at else ""
    else:
        when = f"（{local_date(occurred_at, time_zone, locale)}）" if occurred_at else ""
    return {"amount": money(data["amount_minor"], data["currency"], locale), "what": what, "when": when}


_FAILURE_REASONS = {
    "en": {"PAYEE_NOT_EXIST": "the payee account does not exist", "account_invalid": "the account cannot receive it"},
    "zh-CN": {"PAYEE_NOT_EXIST": "收款账户不存在", "account_invalid": "收款账户无法收款"},
}


def _payout(data: Mapping[str, Any], locale: str, time_zone: str) -> dict[str, str]:
    del time_zone  # no time in this text
    reason = data.get("reason") or ""
    return {
        "amount": money(data["amount_minor"], data["currency"], locale),
        "reason": _FAILURE_REASONS[locale].get(reason, reason),
    }


def _commission_under_review(data: Mapping[str, Any], locale: str, time_zone: str) -> dict[str, str]:
    day = local_date(data["occurred_at"], time_zone, locale)
    return {"amount": money(data["commission_minor"], data["currency"], locale), "day": day}


_FIELDS: dict[str, Callable[[Mapping[str, Any], str, str], dict[str, str]]] = {
    "deadline_reminder": _deadline_reminder,
    "channel_bonus_completed": _channel_bonus_completed,
    "coupon_issued": _coupon_issued,
    "low_performance": _low_performance,
    "raise_reward_hint": _raise_reward_hint,
    "compensation": _compensation,
    "payout_paid": _payout,
    "payout_failed": _payout,
    "commission_under_review": _commission_under_review,
}

# kind -> locale -> (title, body)
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "deadline_reminder": {
        "zh-CN": ("任务即将截止", "{channel}任务还差 {to_go}，{deadline} 截止"),
        "en": ("Task deadline soon", "{to_go} to go on {channel} by {deadline}"),
    },
    "channel_bonus_completed": {
        "zh-CN": ("渠道奖励到账", "您在{channel}获得渠道奖励：{bonus}"),
        "en": ("Channel bonus earned", "Channel bonus earned on {channel}: {bonus}"),
    },
    "coupon_issued": {
        "zh-CN": ("顾客领取了优惠券", "{channel}的顾客本小时领取了 {what} {value} {noun}{tail}"),
        "en": ("Coupons issued", "{who} on {channel} got {what} {value} {noun}{tail}"),
    },
    "low_performance": {
        "zh-CN": (
            "任务表现偏低",
            "您有 {tasks} 个任务在最近 {window_days} 天内少于 {threshold} {noun}：{listed}{more}。",
        ),
        "en": (
            "Tasks performing low",
            "{tasks} of your tasks had fewer than {threshold} {noun} in the last {window_days} days: {listed}{more}.",
        ),
    },
    "raise_reward_hint": {
        "zh-CN": (
            "建议提高推广奖励",
            "{name} 在最近 {window_days} 天卖出了 {sales} 件“{title}”，不属于其常推品类（{first}）。"
            "当前奖励为 {current}，建议提高到 {suggested}。",
        ),
        "en": (
            "Raise a reward?",
            '{name} made {sales} sales of "{title}" in the last {window_days} days, outside their usual '
            "category ({first}). Their reward is {current}; consider raising it to {suggested}.",
        ),
    },
    "compensation": {
        "zh-CN": ("补发奖励到账", "因系统故障延迟的{what}{when}已补发：{amount}。"),
        "en": ("Reward credited", "We credited {amount} for {what}{when} that a system fault had held back."),
    },
    "payout_paid": {
        "zh-CN": ("提现已到账", "您的提现 {amount} 已转入收款账户。"),
        "en": ("Payout sent", "Your payout of {amount} was sent to your payout account."),
    },
    "payout_failed": {
        "zh-CN": ("提现失败", "您的提现 {amount} 未能转出（{reason}），金额已退回可提现余额。"),
        "en": ("Payout failed", "Your payout of {amount} could not be sent ({reason}); it is available again."),
    },
    "commission_under_review": {
        "zh-CN": ("佣金审核中", "您{day}的一笔销售佣金 {amount} 正在审核中。"),
        "en": ("Commission under review", "Your commission of {amount} for a sale on {day} is under review."),
    },
}
