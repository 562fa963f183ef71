"""Tracking links, shares and clicks.

- A promoter has at most one link per task; creating it again returns the same link.
- A share is one write; the tracking stream consumer counts its promotion and channel-task progress.
- A click is one read (the link-code item: landing URL, product status, the promoter's channel-task
  pointers) and one write (the click, with a coupon code when one is open on the share URL's channel);
  the tracking stream consumer counts it (once per visitor and hour) and records its coupon. Bots and
  link-preview fetchers are redirected without a click.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from tuishou import clock, settings
from tuishou.config import public_base_url
from tuishou.dal import tracking
from tuishou.dal.channel_tasks import ChannelPointer
from tuishou.dal.tracking import ClickRecord, LinkRecord, PointerSummary, ShareRecord
from tuishou.dal.visitor_key import visitor_key
from tuishou.errors import Forbidden, Gone, NotFound, ServiceUnavailable, Unprocessable
from tuishou.ids import is_code, is_id, new_code, new_id
from tuishou.logic import channel_tasks, coupons, visitors
from tuishou.logic.products import check_product_id
from tuishou.logic.promoters import tags_of
from tuishou.logic.rewards import applicable_rule, override_for
from tuishou.models.tasks import CHANNELS, DIRECT_CHANNEL, Channel, Link, Share
from tuishou.urls import canonical_https_url

LINK_ID_PREFIX, SHARE_ID_PREFIX, CLICK_ID_PREFIX = "lnk", "shr", "clk"
CLICK_ID_PARAM = "tsclid"
CHANNEL_PARAM = "ch"
COUPON_PARAM = "tscoupon"
_CODE_ATTEMPTS = 5


def link_url(code: str) -> str:
    return f"{public_base_url()}/l/{code}"


def share_url(code: str, channel: str) -> str:
    return f"{link_url(code)}?{urlencode({CHANNEL_PARAM: channel})}"


def _link(link: LinkRecord) -> Link:
    return Link(
        link_id=link.link_id,
        code=link.code,
        url=link_url(link.code),
        product_id=link.product_id,
        created_at=link.created_at,
    )


def get_or_create_link(promoter_id: str, product_id: str) -> tuple[Link, bool]:
    """(the promoter's link for the task, whether it was created now). 403 unless the product is an
    active task with a rule for one of the promoter's tags."""
    check_product_id(product_id)
    context = tracking.link_context(promoter_id, product_id, CHANNELS)
    profile, product = context.profile, context.product
    tags = tags_of(profile)
    if product is None:
        raise NotFound("no such product")
    if (
        product.status != "active"
        or applicable_rule(product.reward_rules, tags, product.price_minor, override_for(profile, product_id)) is None
    ):
        raise Forbidden("this product is not a task for your promoter tags")
    if context.existing is not None:
        return _link(context.existing), False
    pointers = _pointers(promoter_id, context.pointers)
    for _ in range(_CODE_ATTEMPTS):
        link = LinkRecord(
            link_id=new_id(LINK_ID_PREFIX),
            code=new_code(),
            promoter_id=promoter_id,
            product_id=product_id,
            merchant_id=product.merchant_id,
            created_at=clock.iso(),
        )
        try:
            tracking.create_link(link, product.landing_url, product.status, pointers)
            return _link(link), True
        except tracking.LinkExists:  # a concurrent request won: answer with its link
            winner = tracking.get_promoter_link(promoter_id, product_id)
            if winner is not None:
                return _link(winner), False
        except tracking.CodeTaken:
            continue
        except Gone as paused:  # paused since it was read
            raise Forbidden("this product is not a task for your promoter tags") from paused
    raise ServiceUnavailable("could not allocate a link code, retry")


def _pointers(promoter_id: str, pointers: Mapping[str, ChannelPointer]) -> dict[str, PointerSummary]:
    """What a new link-code item copies of the promoter's active channel tasks, per channel."""
    summaries = {
        channel: coupons.pointer_summary(channel_tasks.active_task_of(pointer, promoter_id, channel))
        for channel, pointer in pointers.items()
    }
    return {channel: summary for channel, summary in summaries.items() if summary is not None}


def record_share(promoter_id: str, link_id: str, channel: Channel) -> Share:
    """One BatchGetItem (the link, the channel's offer) and one PutItem (the share); 410 when the product
    is paused. The promotion counts and channel-task progress are derived from the share's stream record."""
    if not is_id(link_id, LINK_ID_PREFIX):
        raise Unprocessable("link_id: not a link id", field="link_id")
    link, offer = tracking.share_context(link_id, channel)
    if link is None or link.promoter_id != promoter_id:
        raise NotFound("no such link")
    if link.product_status != "active":
        raise Gone("the product is paused")
    share = ShareRecord(
        share_id=new_id(SHARE_ID_PREFIX),
        link_id=link_id,
        code=link.code,
        promoter_id=promoter_id,
        product_id=link.product_id,
        merchant_id=link.merchant_id,
        channel=channel,
        created_at=clock.iso(),
    )
    tracking.put_share(share)
    return Share(
        share_id=share.share_id,
        link_id=link_id,
        channel=channel,
        share_url=share_url(link.code, channel),
        created_at=share.created_at,
        channel_task_offer=channel_tasks.offer_from(offer),
    )


def click_channel(markers: list[str]) -> str:
    """The channel a click came from: the first known channel among the share URL's markers; ``direct``
    without a marker; markers that are no known channel (edited by hand) count as ``other`` rather than
    failing the visitor."""
    present = [marker for marker in markers if marker]
    if not present:
        return DIRECT_CHANNEL
    return next((marker for marker in present if marker in CHANNELS), "other")


def with_click_id(landing_url: str, click_id: str, coupon_code: str | None = None) -> str:
    parts = urlsplit(_ascii_url(landing_url))
    extra = urlencode({CLICK_ID_PARAM: click_id, **({COUPON_PARAM: coupon_code} if coupon_code else {})})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _ascii_url(url: str) -> str:
    """Products saved before URLs were canonicalised may hold raw UTF-8, which no ``Location`` header carries."""
    if url.isascii():
        return url
    try:
        return canonical_https_url(url)
    except ValueError:
        return quote(url, safe="".join(map(chr, range(0x21, 0x7F))))


@dataclass(frozen=True)
class Requester:
    """Who followed a link, as the gateway saw them (used for the bot check and the visitor hash only;
    neither is stored)."""

    source_ip: str | None = None
    user_agent: str | None = None


def record_click(code: str, markers: list[str], requester: Requester | None = None) -> str:
    """Record a click on ``code`` and return where to send the visitor (landing URL + ``tsclid``, and
    ``tscoupon`` when a quota-rescue coupon is open on the share URL's channel). 404 for an unknown code,
    410 when the product is paused. Requests: 1 GetItem + 1 PutItem; a bot or link-preview fetcher gets the
    landing URL after the GetItem alone (no click, no ``tsclid``)."""
    if not is_code(code):
        raise NotFound("no such link")
    target = tracking.get_code(code)
    if target is None:
        raise NotFound("no such link")
    if target.product_status != "active":
        raise Gone("the product is paused")
    requester = requester or Requester()
    if visitors.is_bot(requester.user_agent):
        return _ascii_url(target.landing_url)
    channel = click_channel(markers)
    now = clock.now()
    click = ClickRecord(
        click_id=new_id(CLICK_ID_PREFIX),
        link_id=target.link_id,
        code=code,
        promoter_id=target.promoter_id,
        product_id=target.product_id,
        merchant_id=target.merchant_id,
        channel=channel,
        created_at=clock.iso(now),
        visitor=visitors.visitor(visitor_key(), requester.source_ip, requester.user_agent),
        expires_at=int((now + timedelta(days=settings.tracking().attribution_days)).timestamp()),
    )
    drawn = coupons.draw_code(target.chtasks.get(channel), click.created_at) if channel in CHANNELS else None
    if drawn is not None:
        click = replace(
            click,
            coupon_code=drawn.code,
            coupon_task_id=drawn.task_id,
            coupon_value_minor=drawn.value_minor,
            coupon_currency=drawn.currency,
        )
    tracking.put_click(click)
    return with_click_id(target.landing_url, click.click_id, click.coupon_code)
