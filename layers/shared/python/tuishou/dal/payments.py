"""Payment records in LedgerTable (settlement, pending refund, refund steps), the attribution reads
(click, product, promoter profile), and settlement records as the ledger stream delivers them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from tuishou import clock
from tuishou.dal import dynamo, keys
from tuishou.dal.holds import HoldRecord
from tuishou.dal.streams import Change
from tuishou.dal.tracking import ClickRecord, click_record
from tuishou.dal.users import ProfileRecord, profile_record
from tuishou.models.rewards import RewardRule
from tuishou.models.tasks import DEFAULT_ATTRIBUTION_DAYS, DEFAULT_HOLDING_DAYS


@dataclass(frozen=True)
class SettlementTerms:
    """What a payment's refunds are computed from: its amounts as split when it settled and who was paid
    (a settlement record's fields, or the sale event's when the compensation scan grants it)."""

    provider: str
    payment_id: str
    currency: str
    amount_minor: int
    commission_minor: int = 0
    platform_fee_minor: int = 0
    promoter_id: str = ""
    merchant_id: str = ""


@dataclass(frozen=True)
class SettlementRecord(SettlementTerms):
    """A payment's settlement record as read: its status (``settled`` or ``unattributed``), its terms and the
    cumulative refund and clawback applied so far (0 on a record written before any refund)."""

    status: str = ""
    refunded_minor: int = 0
    clawed_commission_minor: int = 0
    clawed_fee_minor: int = 0
    clawed_merchant_minor: int = 0


@dataclass(frozen=True)
class PendingRefund:
    """A refund that arrived before its payment: the highest cumulative amount seen."""

    refunded_minor: int
    currency: str | None = None
    last_refund_id: str | None = None


@dataclass(frozen=True)
class PaymentState:
    settlement: SettlementRecord | None
    pending_refund: PendingRefund | None
    click: ClickRecord | None
    coupon_issued: bool = False
    granted: bool = False
    hold: HoldRecord | None = None
    review_status: str | None = None


def load_state(
    provider: str, payment_id: str, click_id: str | None, grant_of: str | None = None, review_id: str | None = None
) -> PaymentState:
    """The payment's settlement record, a pending refund, the click, whether the click carried a
    quota-rescue coupon (the click's ``coupon`` attribute, or the click's coupon item written before the
    click carried it), whether the event ``grant_of`` has its grant record and its hold, and the status of
    the review ``review_id`` of its commission (if it was held): one request."""
    settlement_key, pending_key = keys.settlement(provider, payment_id), keys.pending_refund(provider, payment_id)
    requests: dict[str, list[tuple[str, str]]] = {"ledger": [settlement_key, pending_key]}
    grant_key = keys.grant(grant_of) if grant_of else None
    hold_key = keys.hold(grant_of) if grant_of else None
    if grant_key and hold_key:
        requests["ledger"] += [grant_key, hold_key]
    review_key = keys.review(review_id) if review_id else None
    if review_key:
        requests["ledger"].append(review_key)
    click_key = keys.click(click_id) if click_id else None
    coupon_key = keys.click_coupon(click_id) if click_id else None
    if click_key and coupon_key:
        requests["tracking"] = [click_key, coupon_key]
    found = dynamo.batch_get(requests)
    click = found.get(("tracking", *click_key)) if click_key else None
    settlement = found.get(("ledger", *settlement_key))
    pending = found.get(("ledger", *pending_key))
    hold = found.get(("ledger", *hold_key)) if hold_key else None
    return PaymentState(
        None if settlement is None else dynamo.as_record(SettlementRecord, settlement),
        None if pending is None else dynamo.as_record(PendingRefund, pending),
        None if click is None else click_record(click),
        bool(click and click.get("coupon")) or bool(coupon_key and ("tracking", *coupon_key) in found),
        bool(grant_key and ("ledger", *grant_key) in found),
        None if hold is None else dynamo.as_record(HoldRecord, hold),
        (found.get(("ledger", *review_key)) or {}).get("status") if review_key else None,
    )


@dataclass(frozen=True)
class AttributedProduct:
    """What settling a payment reads of the clicked product."""

    product_id: str
    merchant_id: str
    currency: str
    reward_rules: tuple[RewardRule, ...]
    category: str | None = None
    price_minor: int = 0
    holding_days: int = DEFAULT_HOLDING_DAYS
    attribution_days: int = DEFAULT_ATTRIBUTION_DAYS


def _attributed_product(item: Mapping[str, Any]) -> AttributedProduct:
    rules = tuple(RewardRule.model_validate(rule) for rule in item.get("reward_rules") or ())
    return dynamo.as_record(AttributedProduct, {**item, "reward_rules": rules})


@dataclass(frozen=True)
class MerchantPaymentSettings:
    """Who a merchant's checkouts are at the providers: the Alipay seller id (``seller_id`` of every
    notification) and the Stripe connected account (``acct_...``)."""

    merchant_id: str
    alipay_seller_id: str | None = None
    stripe_account_id: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class AttributionReads:
    """What attributing a payment reads besides the click, in one BatchGetItem: the product, the promoter's
    profile, whether an admin blocked the promoter, the merchant's payment settings, and how many sales
    were attributed to the promoter in the payment's UTC hour so far."""

    product: AttributedProduct | None
    profile: ProfileRecord | None
    promoter_blocked: bool = False
    merchant_settings: MerchantPaymentSettings | None = None
    promoter_sales_in_hour: int = 0


def load_attribution(product_id: str, promoter_id: str, merchant_id: str | None, hour_bucket: str) -> AttributionReads:
    """The product, profile, block, the promoter's sales of ``hour_bucket`` and (when the click names its
    merchant) the merchant's payment settings in ONE BatchGetItem; a click without a merchant costs a
    GetItem of the settings once the product is read."""
    product_key, profile_key = keys.product(product_id), keys.profile(promoter_id)
    block_key, sales_key = keys.user_block(promoter_id), keys.promoter_sales_in_hour(promoter_id, hour_bucket)
    users_keys = [profile_key, block_key]
    settings_key = keys.merchant_payment_settings(merchant_id) if merchant_id else None
    if settings_key:
        users_keys.append(settings_key)
    found = dynamo.batch_get({"catalog": [product_key], "users": users_keys, "ledger": [sales_key]})
    product, profile = found.get(("catalog", *product_key)), found.get(("users", *profile_key))
    attributed = None if product is None else _attributed_product(product)
    if settings_key:
        settings_item = found.get(("users", *settings_key))
    elif attributed is not None:
        settings_item = dynamo.get("users", keys.merchant_payment_settings(attributed.merchant_id))
    else:
        settings_item = None
    return AttributionReads(
        attributed,
        None if profile is None else profile_record(profile),
        ("users", *block_key) in found,
        None if settings_item is None else dynamo.as_record(MerchantPaymentSettings, settings_item),
        int((found.get(("ledger", *sales_key)) or {}).get("sales", 0)),
    )


def promoter_sale_count(promoter_id: str, hour_bucket: str) -> dynamo.TransactItem:
    """Count one more sale of the promoter in the hour, in the settlement's transaction (so exactly once)."""
    return {
        "Update": {
            "TableName": dynamo.table("ledger"),
            "Key": dynamo.key(*keys.promoter_sales_in_hour(promoter_id, hour_bucket)),
            "UpdateExpression": "ADD sales :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def get_merchant_settings(merchant_id: str) -> MerchantPaymentSettings | None:
    item = dynamo.get("users", keys.merchant_payment_settings(merchant_id))
    return None if item is None else dynamo.as_record(MerchantPaymentSettings, item)


def put_merchant_settings(settings: MerchantPaymentSettings) -> None:
    pk, sk = keys.merchant_payment_settings(settings.merchant_id)
    dynamo.put("users", {"pk": pk, "sk": sk, **asdict(settings)})


# ---------------------------------------------------------------- transaction items
@dataclass(frozen=True)
class ReceivedPayment:
    """A payment as its provider reported it and when it arrived: what every settlement record states."""

    provider: str
    payment_id: str
    amount_minor: int
    currency: str
    click_id: str | None
    payer_hashes: tuple[str, ...]  # keyed digests of who paid (docs/integrity.md): never the payer in clear
    provider_event_id: str | None
    occurred_at: str
    received_at: str


@dataclass(frozen=True)
class SaleSettlement:
    """How an attributed payment was settled: who and what it is attributed to, the rule that paid (the
    merchant's override for the promoter, or the tag rule), the split, and who moved the money
    (``money_by``: settlement, skipped, compensation, or nothing for a zero commission)."""

    promoter_id: str
    merchant_id: str
    product_id: str
    channel: str
    link_id: str
    category: str | None
    coupon: bool
    paid_at: str
    rule: RewardRule
    rule_overridden: bool
    commission_minor: int
    merchant_minor: int
    platform_fee_minor: int
    transaction_id: str
    event_id: str
    settled_at: str
    money_by: str


def unattributed_put(
    payment: ReceivedPayment,
    reason: str,
    flagged: bool,
    refunded_minor: int,
    posted: Mapping[str, Any] | None = None,
) -> dynamo.TransactItem:
    """Item 0 of an unattributed payment's transaction: its settlement record, in the admins' list (GSI1
    ``UNATTRIBUTED``, by arrival); ``posted`` states what was credited to the merchant, when the payment
    was still theirs (``merchant_id``, ``merchant_minor``, ``transaction_id``, ``clawed_merchant_minor``)."""
    index = {
        "gsi1pk": keys.UNATTRIBUTED_PAYMENTS,
        "gsi1sk": f"{payment.received_at}#{payment.provider}#{payment.payment_id}",
    }
    stated = {
        "status": "unattributed",
        "reason": reason,
        "flagged": flagged,
        "refunded_minor": refunded_minor,
        **(posted or {}),
    }
    return _settlement_put(payment, {**stated, **index})


def settled_put(payment: ReceivedPayment, sale: SaleSettlement, clawed: Mapping[str, int]) -> dynamo.TransactItem:
    """Item 0 of a settlement transaction: the settled record, with the refund already applied and clawed
    back (``clawed``: ``refunded_minor`` and the ``clawed_*`` amounts)."""
    rule = {**sale.rule.model_dump(), **({"source": "promoter_override"} if sale.rule_overridden else {})}
    fields = {name: value for name, value in vars(sale).items() if name != "rule_overridden"}
    return _settlement_put(payment, {"status": "settled", **fields, "rule": rule, **clawed})


def _settlement_put(payment: ReceivedPayment, stated: dict[str, Any]) -> dynamo.TransactItem:
    """The record that exists iff the payment was handled: conditional on being the first."""
    pk, sk = keys.settlement(payment.provider, payment.payment_id)
    return {
        "Put": {
            "TableName": dynamo.table("ledger"),
            "Item": dynamo.to_item({"pk": pk, "sk": sk, **asdict(payment), **stated}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def pending_refund_guard(provider: str, payment_id: str, seen_total: int | None) -> dynamo.TransactItem:
    """The pending refund must be exactly as read: consumed (deleted) if one was seen, absent otherwise.
    Together with ``settlement_absent_check`` on the refund side this serialises a refund racing its payment."""
    key = dynamo.key(*keys.pending_refund(provider, payment_id))
    if seen_total is None:
        return {
            "ConditionCheck": {
                "TableName": dynamo.table("ledger"),
                "Key": key,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    return {
        "Delete": {
            "TableName": dynamo.table("ledger"),
            "Key": key,
            "ConditionExpression": "refunded_minor = :seen",
            "ExpressionAttributeValues": {":seen": dynamo.to_value(seen_total)},
        }
    }


def settlement_absent_check(provider: str, payment_id: str) -> dynamo.TransactItem:
    return {
        "ConditionCheck": {
            "TableName": dynamo.table("ledger"),
            "Key": dynamo.key(*keys.settlement(provider, payment_id)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def pending_refund_raise(
    provider: str, payment_id: str, total: int, currency: str, refund_id: str | None
) -> dynamo.TransactItem:
    """Keep the highest cumulative refund seen before the payment; a lower or equal one is a duplicate."""
    return {
        "Update": {
            "TableName": dynamo.table("ledger"),
            "Key": dynamo.key(*keys.pending_refund(provider, payment_id)),
            "UpdateExpression": "SET refunded_minor = :total, currency = :currency, last_refund_id = :refund, "
            "updated_at = :now",
            "ConditionExpression": "attribute_not_exists(pk) OR refunded_minor < :total",
            "ExpressionAttributeValues": {
                ":total": dynamo.to_value(total),
                ":currency": {"S": currency},
                ":refund": {"S": refund_id or ""},
                ":now": {"S": clock.iso()},
            },
        }
    }


def settlement_refund_update(
    provider: str, payment_id: str, previous_total: int, clawed: dict[str, int]
) -> dynamo.TransactItem:
    """Advance the cumulative refund from exactly ``previous_total``: each refund step applies once."""
    names = sorted(clawed)
    return {
        "Update": {
            "TableName": dynamo.table("ledger"),
            "Key": dynamo.key(*keys.settlement(provider, payment_id)),
            "UpdateExpression": "SET " + ", ".join(f"{n} = :{n}" for n in names) + ", refund_updated_at = :now",
            "ConditionExpression": "attribute_exists(pk) AND refunded_minor = :previous",
            "ExpressionAttributeValues": {
                ":previous": dynamo.to_value(previous_total),
                ":now": {"S": clock.iso()},
                **{f":{n}": dynamo.to_value(clawed[n]) for n in names},
            },
        }
    }


def settlement_refunded_check(provider: str, payment_id: str, refunded_minor: int) -> dynamo.TransactItem:
    """The payment is not settled yet, or settled with exactly ``refunded_minor`` refunded: a scan granting
    a sale net of its refunds must not miss a refund that landed after it read the event."""
    return {
        "ConditionCheck": {
            "TableName": dynamo.table("ledger"),
            "Key": dynamo.key(*keys.settlement(provider, payment_id)),
            "ConditionExpression": "attribute_not_exists(pk) OR refunded_minor = :refunded",
            "ExpressionAttributeValues": {":refunded": dynamo.to_value(refunded_minor)},
        }
    }


@dataclass(frozen=True)
class RefundStep:
    """One applied refund step of a payment: the cumulative total it brought the refund to, by how much,
    and the ledger transaction that clawed it back (None when the sale's money was not posted)."""

    provider: str
    payment_id: str
    refunded_total_minor: int
    refund_minor: int
    refund_id: str | None
    transaction_id: str | None
    currency: str
    applied_at: str


def refund_put(step: RefundStep) -> dynamo.TransactItem:
    pk, sk = keys.refund(step.provider, step.payment_id, step.refunded_total_minor)
    return {
        "Put": {
            "TableName": dynamo.table("ledger"),
            "Item": dynamo.to_item({"pk": pk, "sk": sk, **asdict(step)}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


@dataclass(frozen=True)
class RejectedNotification:
    """A verified notification that did not parse, as first delivered."""

    provider: str
    notification_id: str
    reason: str
    field: str
    provider_event_id: str | None
    received_at: str


def record_rejected(record: RejectedNotification) -> None:
    """One UpdateItem: the first delivery's time and reason are kept, each delivery is counted."""
    pk, sk = keys.rejected_notification(record.provider, record.notification_id)
    first_seen: dict[str, Any] = {
        **asdict(record),
        "gsi1pk": keys.REJECTED_NOTIFICATIONS,
        "gsi1sk": f"{record.received_at}#{record.provider}#{record.notification_id}",
    }
    names = {f"#{name}": name for name in first_seen}
    values = {f":{name}": dynamo.to_value(value) for name, value in first_seen.items()}
    dynamo.update(
        "ledger",
        (pk, sk),
        UpdateExpression="SET "
        + ", ".join(f"#{n} = if_not_exists(#{n}, :{n})" for n in first_seen)
        + ", #last = :last ADD #deliveries :one",
        ExpressionAttributeNames={**names, "#last": "last_received_at", "#deliveries": "deliveries"},
        ExpressionAttributeValues={**values, ":last": {"S": record.received_at}, ":one": {"N": "1"}},
    )


# ---------------------------------------------------------------- admin listing
@dataclass(frozen=True)
class UnattributedPaymentRecord:
    """An unattributed payment's settlement record as the admins' list shows it."""

    provider: str
    payment_id: str
    reason: str
    flagged: bool
    amount_minor: int
    currency: str
    refunded_minor: int
    received_at: str
    click_id: str | None = None


@dataclass(frozen=True)
class RejectedNotificationRecord:
    """A rejected notification as stored: its first delivery, the last one and how many there were."""

    provider: str
    notification_id: str
    reason: str
    field: str
    received_at: str
    last_received_at: str
    deliveries: int
    provider_event_id: str | None = None


def unattributed(limit: int, cursor: str | None) -> tuple[list[UnattributedPaymentRecord], str | None]:
    """Unattributed payments, newest first (GSI1 partition ``UNATTRIBUTED``)."""
    items, next_cursor = dynamo.index_newest_first("ledger", keys.UNATTRIBUTED_PAYMENTS, limit, cursor)
    return [dynamo.as_record(UnattributedPaymentRecord, item) for item in items], next_cursor


def rejected(limit: int, cursor: str | None) -> tuple[list[RejectedNotificationRecord], str | None]:
    """Rejected notifications, newest first (GSI1 partition ``REJECTED``)."""
    items, next_cursor = dynamo.index_newest_first("ledger", keys.REJECTED_NOTIFICATIONS, limit, cursor)
    return [dynamo.as_record(RejectedNotificationRecord, item) for item in items], next_cursor


# ---------------------------------------------------------------- settlement records on the ledger stream
@dataclass(frozen=True)
class SettledSale:
    """A settled payment as its settlement record states it: all the ledger consumer needs (no read)."""

    provider: str
    payment_id: str
    promoter_id: str
    product_id: str
    merchant_id: str
    channel: str | None
    link_id: str | None
    click_id: str | None
    category: str | None
    coupon: bool
    amount_minor: int
    commission_minor: int
    refunded_minor: int
    occurred_at: str
    paid_at: str
    refund_updated_at: str | None

    @property
    def reference(self) -> str:
        return f"{self.provider}:{self.payment_id}"

    @property
    def fully_refunded(self) -> bool:
        return self.refunded_minor >= self.amount_minor


@dataclass(frozen=True)
class SettlementChange:
    """A settlement record's change: the sale after it, and before it (None when it was just written or
    was not settled then)."""

    after: SettledSale
    before: SettledSale | None


def settlement_change(change: Change) -> SettlementChange | None:
    """The settled sale a ledger stream record is about, or None (another item, or not settled)."""
    image = change.image
    if change.name == "REMOVE" or image.get("provider") is None or image.get("payment_id") is None:
        return None
    if change.key != keys.settlement(str(image["provider"]), str(image["payment_id"])):
        return None
    after = _settled_sale(change.new)
    if after is None:
        return None
    return SettlementChange(after, _settled_sale(change.old))


def _settled_sale(record: dict[str, Any] | None) -> SettledSale | None:
    if not record or record.get("status") != "settled":
        return None
    return SettledSale(
        provider=str(record["provider"]),
        payment_id=str(record["payment_id"]),
        promoter_id=str(record["promoter_id"]),
        product_id=str(record["product_id"]),
        merchant_id=str(record["merchant_id"]),
        channel=record.get("channel"),
        link_id=record.get("link_id"),
        click_id=record.get("click_id"),
        category=record.get("category"),
        coupon=bool(record.get("coupon")),
        amount_minor=int(record["amount_minor"]),
        commission_minor=int(record["commission_minor"]),
        refunded_minor=int(record.get("refunded_minor", 0)),
        occurred_at=str(record["occurred_at"]),
        paid_at=str(record.get("paid_at") or record["occurred_at"]),
        refund_updated_at=record.get("refund_updated_at"),
    )
