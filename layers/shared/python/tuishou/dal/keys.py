"""Key builders for every item, in one place: the data model of docs/data-model.md in code.

Tables use generic ``pk``/``sk`` keys and an overloaded ``GSI1`` (``gsi1pk``/``gsi1sk``).
"""

from __future__ import annotations

import hashlib


# ---------------------------------------------------------------- CatalogTable
# Products, counter shards, the task index, channel bonus templates and offers.
def product(product_id: str) -> tuple[str, str]:
    """The product (task) itself: merchant, title, category, price, currency, landing URL, status, rules."""
    return f"PRODUCT#{product_id}", "PRODUCT"


def merchant_products(merchant_id: str) -> str:
    """GSI1 partition listing a merchant's products (gsi1sk = ``PRODUCT#{created_at}#{product_id}``)."""
    return f"MERCHANT#{merchant_id}"


def product_counters(product_id: str, shard: int) -> tuple[str, str]:
    """One of N counter shards of a product (clicks, promotions, transactions), summed on read."""
    return f"PRODUCT#{product_id}", f"COUNTERS#{shard:02d}"


COUNTERS_PREFIX = "COUNTERS#"
TASK_PREFIX = "TASK#"


def task_entry(product_id: str, tag: str) -> tuple[str, str]:
    """A product's entry in one promoter tag's pre-ranked task index (only while the product is active)."""
    return f"PRODUCT#{product_id}", f"TASK#{tag}"


def tag_tasks(tag: str) -> str:
    """GSI1 partition of the pre-ranked task index of one promoter tag (gsi1sk = ranking sort key)."""
    return f"TAG#{tag}"


CHANNEL_TEMPLATES_INDEX = "CHTEMPLATES"
CHANNEL_OFFERS_INDEX = "CHOFFERS"


def channel_task_template(template_id: str) -> tuple[str, str]:
    """An admin-defined channel bonus template (GSI1: ``CHTEMPLATES`` / ``{created_at}#{template_id}``)."""
    return f"CHTEMPLATE#{template_id}", "CHTEMPLATE"


def channel_offer(channel: str) -> tuple[str, str]:
    """The channel's current offer: a copy of its newest template (GSI1: ``CHOFFERS`` / ``{channel}``)."""
    return f"CHOFFER#{channel}", "CHOFFER"


ACTIVE_TASK_SHARDS = 16
"""Merchant shards of the active-task index: the daily insights job runs one invocation per shard. Changing it
moves every ``ACTIVE`` item to another partition (rewrite them before readers use the new count)."""


def merchant_shard(merchant_id: str) -> int:
    """The merchant's shard of the active-task index: stable across processes (a hash, not Python's ``hash``)."""
    return int.from_bytes(hashlib.sha256(merchant_id.encode()).digest()[:4], "big") % ACTIVE_TASK_SHARDS


def active_tasks_index(shard: int) -> str:
    """GSI1 partition of the active products of one merchant shard (gsi1sk = ``{merchant_id}#{product_id}``):
    the insights job's and the full re-rank's task list, read one shard (and one page) per invocation."""
    return f"ACTIVETASKS#{shard:02d}"


def active_task(product_id: str) -> tuple[str, str]:
    """Exists exactly while the product is active (written with the product): its entry in ``ACTIVETASKS``."""
    return f"PRODUCT#{product_id}", "ACTIVE"


def ranking_dirty(hour_bucket: str, product_id: str) -> tuple[str, str]:
    """A product whose counters changed in ``hour_bucket`` (UTC): the ranking job re-ranks only these. One
    partition per hour, one item per product (a repeat mark rewrites it), so the job reads each changed
    product once per hour in product-id order and can resume after the last product it finished."""
    return ranking_dirty_hour(hour_bucket), product_id


def ranking_dirty_hour(hour_bucket: str) -> str:
    return f"RANKDIRTY#{hour_bucket}"


def ranking_state() -> tuple[str, str]:
    """The ranking job's checkpoint: the next dirty hour to read (and a running pass's position), the
    fingerprint of the weights the index reflects, and a running full re-rank's position."""
    return "RANKING", "STATE"


# ---------------------------------------------------------------- UsersTable
# Profiles, channel tasks and reminders, notifications, insight markers, blocks, invites.
def profile(user_id: str) -> tuple[str, str]:
    """A user's profile: role, display name, phone, promoter tags."""
    return f"USER#{user_id}", "PROFILE"


def channel_task(promoter_id: str, template_id: str) -> tuple[str, str]:
    """A promoter's task from one template (at most one per template; GSI1 = reminder bucket while due)."""
    return f"USER#{promoter_id}", f"CHTASK#{template_id}"


CHANNEL_TASK_PREFIX = "CHTASK#"


def reminder_bucket(hour_bucket: str) -> str:
    """GSI1 partition of active tasks whose reminder falls in this UTC hour (gsi1sk = ``{remind_at}#...``)."""
    return f"CHREMIND#{hour_bucket}"


def notification(user_id: str, notification_id: str) -> tuple[str, str]:
    """One in-app inbox item; notification ids sort by creation time, so the sk orders the inbox."""
    return f"USER#{user_id}", f"NOTIF#{notification_id}"


NOTIFICATION_PREFIX = "NOTIF#"


def coupon_notice(promoter_id: str, task_id: str, hour_bucket: str) -> tuple[str, str]:
    """The one ``coupon_issued`` notification of a task in a UTC hour: its id and the coupons counted."""
    return f"USER#{promoter_id}", f"COUPONNOTICE#{task_id}#{hour_bucket}"


def notification_preferences(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "NOTIFPREFS"


USER_PREFIX = "USER#"


def user_locale(user_id: str) -> tuple[str, str]:
    """A user's locale and time zone."""
    return f"USER#{user_id}", "LOCALE"


def rate_window(user_id: str, hour_bucket: str) -> tuple[str, str]:
    """A user's write requests in one UTC hour (YYYY-MM-DDTHH), per scope and minute, against the rate
    limits (``tuishou.dal.rate_limits``); expires after the hour (``expires_at``)."""
    return f"USER#{user_id}", f"RATE#{hour_bucket}"


def sms_allowance(user_id: str, local_day: str) -> tuple[str, str]:
    """The SMS sent to a user on one of their calendar days (YYYY-MM-DD), against the daily cap."""
    return f"USER#{user_id}", f"SMSDAY#{local_day}"


def device(user_id: str, device_id: str) -> tuple[str, str]:
    """One push device of a user: its platform and SNS endpoint (the device id is derived from the token)."""
    return f"USER#{user_id}", f"DEVICE#{device_id}"


DEVICE_PREFIX = "DEVICE#"


def device_owner(device_id: str) -> tuple[str, str]:
    """The one user a device (a token) belongs to now: a phone signed in by another user moves to them."""
    return f"DEVICE#{device_id}", "OWNER"


def wechat_binding(user_id: str) -> tuple[str, str]:
    """The WeChat account (openid) bound to a user: where WeChat subscribe messages go."""
    return f"USER#{user_id}", "SOCIAL#wechat"


REWARD_OVERRIDE_ATTRIBUTE_PREFIX = "reward_override#"


def reward_override_attribute(product_id: str) -> str:
    """Attribute of the promoter's PROFILE item holding a merchant's per-promoter reward for one product:
    denormalised there because every path that picks a reward already reads the profile."""
    return f"{REWARD_OVERRIDE_ATTRIBUTE_PREFIX}{product_id}"


def insight_marker(merchant_id: str, period: str, signal: str, subject: str) -> tuple[str, str]:
    """Dedup marker: this signal about this subject was sent to this merchant in this period."""
    return f"USER#{merchant_id}", f"INSIGHT#{period}#{signal}#{subject}"


def user_block(user_id: str) -> tuple[str, str]:
    """Present while an admin blocks the user from compensation (fraud review)."""
    return f"USER#{user_id}", "BLOCK"


def payout_method(user_id: str) -> tuple[str, str]:
    """The user's one active payout method (Alipay account or Stripe connected account); while it has
    ``auto_payout`` it is in the auto-payout index (GSI1 ``auto_payouts(shard)`` / ``{user_id}``)."""
    return f"USER#{user_id}", "PAYOUTMETHOD"


AUTO_PAYOUT_SHARDS = 8
"""Shards of the auto-payout index: the daily job reads one partition per shard, never a Scan."""


def auto_payout_shard(user_id: str) -> int:
    """The user's shard of the auto-payout index: stable across processes (a hash, not Python's ``hash``)."""
    return int.from_bytes(hashlib.sha256(user_id.encode()).digest()[:4], "big") % AUTO_PAYOUT_SHARDS


def auto_payouts(shard: int) -> str:
    """GSI1 partition of the users who opted into automatic payouts, one per shard (gsi1sk = the user id)."""
    return f"AUTOPAYOUT#{shard:02d}"


def merchant_payment_settings(merchant_id: str) -> tuple[str, str]:
    """What a merchant's checkouts name them by at the providers (the Alipay seller id, the Stripe connected
    account): a payment naming another seller is not attributed to this merchant's clicks."""
    return f"USER#{merchant_id}", "PAYMENT_SETTINGS"


def invite(code: str) -> tuple[str, str]:
    """Invite code -> inviting promoter."""
    return f"INVITE#{code}", "INVITE"


def promoter_invite(promoter_id: str) -> tuple[str, str]:
    """The promoter's one invite code."""
    return f"USER#{promoter_id}", "INVITE"


# ---------------------------------------------------------------- TrackingTable
# Links, shares, clicks, coupons, per-promoter counters and per-day aggregates.
def link(link_id: str) -> tuple[str, str]:
    return f"LINK#{link_id}", "LINK"


def promoter_link(promoter_id: str, product_id: str) -> tuple[str, str]:
    """At most one tracking link per promoter and task."""
    return f"PROMOTER#{promoter_id}", f"LINK#{product_id}"


def link_code(code: str) -> tuple[str, str]:
    """Public code -> link, denormalised so a click needs one read: it also carries the product's status
    and the promoter's active channel-task pointers (kept current by the stream consumers)."""
    return f"CODE#{code}", "CODE"


def product_link_codes(product_id: str) -> str:
    """GSI1 partition of a product's link-code items (gsi1sk = the code): the fan-out of a status change."""
    return f"CODES#{product_id}"


PROMOTER_LINK_PREFIX = "LINK#"


def share(link_id: str, share_id: str) -> tuple[str, str]:
    """One promotion (share) of a link on a channel."""
    return f"LINK#{link_id}", f"SHARE#{share_id}"


def click(click_id: str) -> tuple[str, str]:
    """A click: link, promoter, product, merchant, channel, time. Payments attribute by click id."""
    return f"CLICK#{click_id}", "CLICK"


def promoter_task_history(promoter_id: str, product_id: str) -> tuple[str, str]:
    """This promoter's counters for one task (clicks, promotions, transactions): the personal score."""
    return f"PROMOTER#{promoter_id}", f"TASK#{product_id}"


PROMOTER_TASK_PREFIX = "TASK#"


def promoter_channel(promoter_id: str, channel: str) -> tuple[str, str]:
    """This promoter's counters on one channel (clicks, promotions, transactions)."""
    return f"PROMOTER#{promoter_id}", f"CHANNEL#{channel}"


def channel_task_ref(promoter_id: str, channel: str, ref: str) -> tuple[str, str]:
    """One event (``tx:{provider}:{payment}``, ``pr:{share}``) counted toward the promoter's task on a
    channel: its own small conditional item (not a set on the counter item), expiring after the task."""
    return f"CHTASKREF#{promoter_id}#{channel}#{ref}", "COUNTED"


def channel_task_reversal(promoter_id: str, channel: str, ref: str) -> tuple[str, str]:
    """That event's progress was reversed (a refunded sale): makes the reversal happen once."""
    return f"CHTASKREF#{promoter_id}#{channel}#{ref}", "REVERSED"


def click_coupon(click_id: str) -> tuple[str, str]:
    """The quota-rescue coupon bound to one click (at most one per click)."""
    return f"CLICK#{click_id}", "COUPON"


def coupon_code(code: str) -> tuple[str, str]:
    """Public coupon code -> click, so a checkout can validate a code in one read."""
    return f"COUPON#{code}", "COUPON"


def product_stats(product_id: str) -> str:
    """Partition of a product's per-day aggregates; sort keys start with the UTC day, so one Query by
    ``sk BETWEEN`` reads exactly a window of days."""
    return f"STATS#{product_id}"


def day_promoter(product_id: str, day: str, promoter_id: str) -> tuple[str, str]:
    """promoter x product x day: clicks, promotions, transactions, revenue_minor, commission_minor, and the same
    per channel (``day_channel_attribute``). The product's day totals and channel totals are sums of these (every
    event has one promoter and one channel), so an event adds to one aggregate item, not three."""
    return product_stats(product_id), f"{day}#P#{promoter_id}"


def day_channel_attribute(field: str, channel: str) -> str:
    """The name of a per-channel count on a ``day_promoter`` item: ``clicks@wechat``."""
    return f"{field}@{channel}"


DAY_PROMOTER_MARK = "#P#"
DAY_CHANNEL_MARK = "#C#"
"""Channel x product x day items, written before channel counts moved onto the promoter items; still read
(an event counted then is in exactly one of the two forms). Their ``#D#`` day-total shards are not read:
the promoter items of the same events hold the same totals."""


def promoter_categories(promoter_id: str) -> tuple[str, str]:
    """A promoter's all-time transaction count per category (attributes ``cat#{path}``)."""
    return f"PROMOTER#{promoter_id}", "CATEGORIES"


CATEGORY_ATTRIBUTE_PREFIX = "cat#"


def visit(link_id: str, visitor: str) -> tuple[str, str]:
    """The last counted click of one visitor (keyed hash) on one link: a repeat within the hour is not
    counted. Doubles as that click's claim (``counted``); expires (``expires_at``) after the stream retention."""
    return f"VISIT#{link_id}#{visitor}", "VISIT"


def counting_chunk(chunk_id: str) -> tuple[str, str]:
    """One chunk of counted facts: ``state`` committed (its counts were added, in the transaction that wrote
    this item) or abandoned (a later chunk took its facts over). Absent while the chunk is in flight."""
    return f"CHUNK#{chunk_id}", "CHUNK"


def counted(event_id: str) -> tuple[str, str]:
    """A fact's (click, share, sale) claim: names the chunk that counts it (``counting_chunk``), so a replayed
    stream record counts once. Expires after the stream's 24-hour retention (``expires_at``)."""
    return f"COUNTED#{event_id}", "COUNTED"


# ---------------------------------------------------------------- LedgerTable
# Payments, accounts, rewardable events and grants, compensations, scans, faults.
def settlement(provider: str, payment_id: str) -> tuple[str, str]:
    """The one record of a provider payment: settled, or unattributed (and why); its cumulative refunds.
    Its ``attribute_not_exists`` condition is what makes a settlement happen exactly once."""
    return f"PAYMENT#{provider}#{payment_id}", "SETTLEMENT"


def pending_refund(provider: str, payment_id: str) -> tuple[str, str]:
    """A refund that arrived before its payment: the highest cumulative refunded amount seen so far."""
    return f"PAYMENT#{provider}#{payment_id}", "PENDING_REFUND"


def refund(provider: str, payment_id: str, refunded_total_minor: int) -> tuple[str, str]:
    """One applied refund step, keyed by the cumulative refunded amount it brought the payment to."""
    return f"PAYMENT#{provider}#{payment_id}", f"REFUND#{refunded_total_minor:015d}"


UNATTRIBUTED_PAYMENTS = "UNATTRIBUTED"
"""GSI1 partition listing unattributed payments for admins (gsi1sk = ``{received_at}#{provider}#{payment_id}``)."""


def rejected_notification(provider: str, notification_id: str) -> tuple[str, str]:
    """A verified provider notification Tuishou could not read, keyed by the hash of its body (redeliveries
    of the same body are one record)."""
    return f"REJECTED#{provider}#{notification_id}", "REJECTED"


REJECTED_NOTIFICATIONS = "REJECTED"
"""GSI1 partition listing rejected notifications for admins (gsi1sk = ``{received_at}#{provider}#{id}``)."""


def account_balance(account_id: str, currency: str) -> tuple[str, str]:
    """An account's balance in one currency, changed with ADD in the same transaction as its entries."""
    return f"ACCOUNT#{account_id}", f"BALANCE#{currency}"


def account_entry(account_id: str, created_at: str, entry_id: str) -> tuple[str, str]:
    """An immutable ledger entry; ``sk`` sorts by time, so a descending Query lists newest first."""
    return f"ACCOUNT#{account_id}", f"ENTRY#{created_at}#{entry_id}"


def account_partition(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


BALANCE_PREFIX = "BALANCE#"
ENTRY_PREFIX = "ENTRY#"


def payout(user_id: str, payout_id: str) -> tuple[str, str]:
    """One payout of a user (payout ids sort by creation time, so a descending Query lists newest first);
    GSI1 ``payouts_with_status(status)`` / ``{updated_at}#{payout_id}``: the admin list and the sweep."""
    return f"ACCOUNT#{user_id}", f"PAYOUT#{payout_id}"


ACCOUNT_PREFIX = "ACCOUNT#"
PAYOUT_PREFIX = "PAYOUT#"


def payouts_with_status(status: str) -> str:
    """GSI1 partition of the payouts in one status, by last change (the sweep reads the stale end)."""
    return f"PAYOUTS#{status}"


def open_payout(user_id: str, currency: str) -> tuple[str, str]:
    """Exists while the user has a payout in ``currency`` that is neither paid nor failed: its
    ``attribute_not_exists`` in the request's transaction allows one open payout per user and currency."""
    return f"ACCOUNT#{user_id}", f"OPENPAYOUT#{currency}"


def rewardable_event(event_id: str) -> tuple[str, str]:
    """Something that earns a user money (a sale commission, later bonuses), written before money moves."""
    return f"EVENT#{event_id}", "EVENT"


def events_in_hour(hour_bucket: str) -> str:
    """GSI1 partition of rewardable events by hour (gsi1sk = ``{occurred_at}#{event_id}``): window scans."""
    return f"EVENTS#{hour_bucket}"


def grant(event_id: str) -> tuple[str, str]:
    """The grant of a rewardable event into the ledger; ``attribute_not_exists`` makes it exactly once."""
    return f"EVENT#{event_id}", "GRANT"


def hold(event_id: str) -> tuple[str, str]:
    """The holding period of a granted sale's pending money (commission and merchant revenue), next to its
    event and grant; in GSI1 ``RELEASES#{hour}`` / ``{release_at}#{event_id}`` until released."""
    return f"EVENT#{event_id}", "HOLD"


def releases_in_hour(hour_bucket: str) -> str:
    """GSI1 partition of the holds that end in this UTC hour (they leave it when released)."""
    return f"RELEASES#{hour_bucket}"


def promoter_sales_in_hour(promoter_id: str, hour_bucket: str) -> tuple[str, str]:
    """How many sales were attributed to the promoter with a payment in this UTC hour (``sales``, ADDed in
    each settlement's transaction): the velocity rule's count, read with the attribution."""
    return f"VELOCITY#{promoter_id}", f"HOUR#{hour_bucket}"


def review(review_id: str) -> tuple[str, str]:
    """A held commission's review (open, approved or declined); GSI1 ``REVIEWS#{status}`` /
    ``{created_at}#{review_id}`` lists them for admins by status."""
    return f"REVIEW#{review_id}", "REVIEW"


def reviews_with_status(status: str) -> str:
    return f"REVIEWS#{status}"


def promoter_review(promoter_id: str, created_at: str, review_id: str) -> tuple[str, str]:
    """The promoter's copy of a review (no reason or evidence), on their account; GSI1
    ``PROMOTER_REVIEWS#{promoter_id}#{status}`` lists them by status."""
    return f"ACCOUNT#{promoter_id}", f"REVIEW#{created_at}#{review_id}"


def promoter_reviews_with_status(promoter_id: str, status: str) -> str:
    return f"PROMOTER_REVIEWS#{promoter_id}#{status}"


def compensation(event_id: str) -> tuple[str, str]:
    """The one compensation decision of a rewardable event (compensated or flagged), next to its event and
    grant; GSI1 ``COMPENSATIONS`` / ``{created_at}#{event_id}`` lists them for admins."""
    return f"EVENT#{event_id}", "COMPENSATION"


COMPENSATIONS_INDEX = "COMPENSATIONS"


def account_compensation(user_id: str, occurred_at: str, event_id: str) -> tuple[str, str]:
    """The user's copy of a compensation record, on their account, ordered by the event's time."""
    return f"ACCOUNT#{user_id}", f"COMPENSATION#{occurred_at}#{event_id}"


COMPENSATION_PREFIX = "COMPENSATION#"


def scan_run(scan_id: str) -> tuple[str, str]:
    """A compensation scan run: window, status, page progress and the summary counts."""
    return f"SCAN#{scan_id}", "SCAN"


def fault_counter(fault: str, version: int) -> tuple[str, str]:
    """How many times ``fault`` fired for one version of the fault parameter (the atomic budget)."""
    return f"FAULT#{fault}", f"V#{version:010d}"
