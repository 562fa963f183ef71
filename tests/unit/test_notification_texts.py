"""What notifications say: every kind has a template in every locale, amounts per currency, times in the
recipient's time zone, titles short enough for a WeChat thing field."""

from typing import get_args

import pytest

from tests.api.test_notifications import EVERY_KIND
from tuishou.logic.notification_texts import LOCALES, TEMPLATES, TITLE_MAX, local_time, money, render
from tuishou.models.notifications import NotificationKind

REMINDER = EVERY_KIND["deadline_reminder"]


def test_every_kind_has_a_template_in_every_locale():
    # Then no kind lacks a locale and no template names a kind that does not exist
    assert set(TEMPLATES) == set(get_args(NotificationKind))
    assert all(set(by_locale) == set(LOCALES) for by_locale in TEMPLATES.values())


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", sorted(EVERY_KIND))
def test_every_kind_renders_in_every_locale_with_a_short_title(kind, locale):
    # When a notification of the kind is rendered for a reader of the locale
    rendered = render(kind, EVERY_KIND[kind], locale, "Asia/Shanghai")
    # Then it has a title that fits a WeChat thing field and a body with no unfilled field
    assert 0 < len(rendered.title) <= TITLE_MAX
    assert rendered.body and "{" not in rendered.body
    # And a Chinese reader gets Chinese text, an English reader no Chinese characters
    has_chinese = any("\u4e00" <= c <= "\u9fff" for c in rendered.body)
    assert has_chinese == (locale == "zh-CN")


def test_amounts_are_formatted_per_currency():
    # Then the currency's symbol and minor units, whatever the locale
    assert money(1234, "CNY", "zh-CN") == "¥12.34"
    assert money(1234, "CNY", "en") == "¥12.34"
    assert money(-5, "USD", "en") == "-$0.05"
    assert money(1234, "JPY", "zh-CN") == "¥1234"


@pytest.mark.parametrize(
    ("iso_utc", "time_zone", "locale", "shown"),
    [
        ("2030-03-02T08:00:00.000Z", "Asia/Shanghai", "zh-CN", "3月2日 16:00"),
        ("2030-03-02T08:00:00.000Z", "Asia/Shanghai", "en", "2 Mar 16:00"),
        # the local day can differ from the UTC day, both ways
        ("2030-03-02T20:30:00.000Z", "Asia/Shanghai", "zh-CN", "3月3日 04:30"),
        ("2030-03-02T03:00:00.000Z", "America/New_York", "en", "1 Mar 22:00"),
        ("2030-07-01T12:00:00.000Z", "Europe/London", "en", "1 Jul 13:00"),  # summer time
    ],
)
def test_times_are_shown_in_the_recipients_time_zone(iso_utc, time_zone, locale, shown):
    # Given a UTC instant, Then the reader sees their own clock and calendar day
    assert local_time(iso_utc, time_zone, locale) == shown


@pytest.mark.parametrize(
    ("sales", "shares", "locale", "body"),
    [
        (2, None, "en", "2 sales to go on wechat by 2 Jan 16:00"),
        (1, None, "en", "1 sale to go on wechat by 2 Jan 16:00"),
        (3, 2, "en", "3 sales and 2 shares to go on wechat by 2 Jan 16:00"),
        (0, 1, "en", "1 share to go on wechat by 2 Jan 16:00"),
        (2, None, "zh-CN", "微信任务还差 2 笔销售，1月2日 16:00 截止"),
        (3, 2, "zh-CN", "微信任务还差 3 笔销售和 2 次分享，1月2日 16:00 截止"),
    ],
)
def test_deadline_reminder_names_what_is_left_and_the_local_deadline(sales, shares, locale, body):
    # Given a task with what is left of it
    data = {**REMINDER, "remaining_transactions": sales, "remaining_promotions": shares}
    # Then the reminder says it, with the deadline on the reader's clock (08:00 UTC is 16:00 in Shanghai)
    assert render("deadline_reminder", data, locale, "Asia/Shanghai").body == body


def test_coupon_notice_counts_the_coupons_of_the_hour():
    # Given the first coupon of the hour and the notice after twenty
    one = {**EVERY_KIND["coupon_issued"], "coupons": 1, "remaining_transactions": 2}
    many = {**one, "coupons": 20, "remaining_transactions": 1}
    # Then one reads singular, the other counts them
    assert render("coupon_issued", one, "en", "UTC").body == "A shopper on wechat got a ¥3.00 coupon: 2 sales to go"
    assert render("coupon_issued", many, "en", "UTC").body == (
        "Shoppers on wechat got 20 ¥3.00 coupons this hour: 1 sale to go"
    )
    assert (
        render("coupon_issued", many, "zh-CN", "UTC").body == "微信的顾客本小时领取了 20 张 ¥3.00 优惠券，还差 1 笔销售"
    )


def test_compensation_names_the_local_day_of_the_held_back_event():
    # Given a sale at 20:00 UTC on 3 May: already 4 May in Shanghai
    data = {**EVERY_KIND["compensation"], "occurred_at": "2030-05-03T20:00:00.000Z"}
    # Then a reader in UTC reads 3 May, one in Shanghai 5月4日
    assert render("compensation", data, "en", "UTC").body == (
        "We credited ¥12.30 for your sale on 3 May that a system fault had held back."
    )
    assert (
        render("compensation", data, "zh-CN", "Asia/Shanghai").body
        == "因系统故障延迟的销售佣金（5月4日）已补发：¥12.30。"
    )


def test_an_unknown_locale_falls_back_to_the_default():
    # Given a locale stored before it was checked (or removed since), Then the default's template is used
    assert render("compensation", EVERY_KIND["compensation"], "fr", "UTC") == render(
        "compensation", EVERY_KIND["compensation"], "zh-CN", "UTC"
    )
