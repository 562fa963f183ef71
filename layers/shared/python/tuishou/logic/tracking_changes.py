"""What the tracking table's stream derives (``TrackingStreamFunction``), idempotently by each fact's id:

- a click INSERT: its count (clicks; once per visitor, link and hour: ``tuishou.logic.counting``) and, when
  its redirect drew a coupon, the coupon record and the promoter's coalesced notice;
- a share INSERT: its count (promotions) and the channel-task progress it makes, both once per link,
  channel and UTC hour (``counting.promotion_id``): the share itself stays a fact, listed as written;
- a promoter's channel item whose active-task pointer appeared, went or changed its coupon-openness: that
  promoter's link-code items get the new pointer (the redirect reads only the link-code item).

Everything else (counter items, aggregates, markers, link-code items) passes through unchanged. Replaying
a chunk changes nothing: the counts have markers, the coupon is keyed by its click, progress by the
promotion (link, channel, hour), and a pointer copy writes the same value."""

from __future__ import annotations

from collections.abc import Sequence

from tuishou import clock
from tuishou.dal import tracking
from tuishou.dal.streams import Change
from tuishou.dal.tracking import ClickRecord, ShareRecord
from tuishou.logic import channel_tasks, counting, coupons
from tuishou.logic.counting import CountedEvent


def derive(changes: Sequence[Change]) -> None:
    clicks = [click for change in changes if (click := tracking.inserted_click(change))]
    shares = [share for change in changes if (share := tracking.inserted_share(change))]
    counting.count([*map(_click_event, clicks), *map(_share_event, shares)])
    for click in clicks:
        coupons.record_drawn(click)
    for promotion, share in _promotions(shares).items():
        channel_tasks.record_channel_promotion(
            share.promoter_id, share.channel, clock.parse_iso(share.created_at), event_ref=promotion
        )
    for change in changes:
        _copy_pointer(change)


def _promotion(share: ShareRecord) -> str:
    return counting.promotion_id(share.link_id, share.channel, clock.parse_iso(share.created_at))


def _promotions(shares: Sequence[ShareRecord]) -> dict[str, ShareRecord]:
    """The first share of each promotion (link, channel, hour) in the chunk: the later ones would find its
    progress ref and count nothing, at a read each."""
    first: dict[str, ShareRecord] = {}
    for share in sorted(shares, key=lambda share: share.created_at):
        first.setdefault(_promotion(share), share)
    return first


def _click_event(click: ClickRecord) -> CountedEvent:
    return CountedEvent(
        event_id=click.click_id,
        field="clicks",
        promoter_id=click.promoter_id,
        product_id=click.product_id,
        channel=click.channel,
        at=clock.parse_iso(click.created_at),
        visit=(click.link_id, click.visitor) if click.visitor else None,
    )


def _share_event(share: ShareRecord) -> CountedEvent:
    return CountedEvent(
        event_id=_promotion(share),
        field="promotions",
        promoter_id=share.promoter_id,
        product_id=share.product_id,
        channel=share.channel,
        at=clock.parse_iso(share.created_at),
    )


def _copy_pointer(change: Change) -> None:
    """Fan a changed channel-task pointer out to the promoter's link-code items: 1 Query + 1 UpdateItem
    per link, only when what a click needs changed (not on every counted event)."""
    found = tracking.promoter_channel_change(change)
    if found is None:
        return
    promoter_id, channel = found
    before = coupons.pointer_summary(channel_tasks.active_task_from(change.old, promoter_id, channel))
    after = coupons.pointer_summary(channel_tasks.active_task_from(change.new, promoter_id, channel))
    if before == after:
        return
    for code in tracking.promoter_codes(promoter_id):
        tracking.set_code_pointer(code, channel, after)
