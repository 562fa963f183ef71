"""Reviews of held commissions in LedgerTable: the review item (the admins' queue, GSI1 by status), the
promoter's copy on their account (GSI1 by promoter and status, no reason or evidence), and the items of a
decision's transaction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tuishou.dal import dynamo, keys


@dataclass(frozen=True)
class ReviewRecord:
    """A held sale's commission under review: why it was held (reason and evidence), the sale, and the
    decision once made (status ``open``, ``approved`` or ``declined``)."""

    review_id: str
    status: str
    reason: str
    promoter_id: str
    merchant_id: str
    product_id: str
    provider: str
    payment_id: str
    event_id: str
    amount_minor: int
    commission_minor: int
    currency: str
    created_at: str
    evidence: dict[str, Any] = field(default_factory=dict)
    decided_at: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None


@dataclass(frozen=True)
class PromoterReviewRecord:
    """The promoter's view of a review: the sale and its status, nothing that tells why it was held."""

    review_id: str
    status: str
    product_id: str
    payment_id: str
    commission_minor: int
    currency: str
    created_at: str
    decided_at: str | None = None


_PROMOTER_FIELDS = tuple(PromoterReviewRecord.__dataclass_fields__)


def open_put(review: ReviewRecord) -> list[dynamo.TransactItem]:
    """The review and the promoter's copy, in the transaction that posts the held sale (with its grant
    record: whoever grants the sale writes its review, once)."""
    table = dynamo.table("ledger")
    pk, sk = keys.review(review.review_id)
    copy_pk, copy_sk = keys.promoter_review(review.promoter_id, review.created_at, review.review_id)
    stored = asdict(review)
    copy = {name: stored[name] for name in _PROMOTER_FIELDS}
    return [
        {
            "Put": {
                "TableName": table,
                "Item": dynamo.to_item(
                    {
                        "pk": pk,
                        "sk": sk,
                        **{k: v for k, v in stored.items() if v is not None},
                        "gsi1pk": keys.reviews_with_status(review.status),
                        "gsi1sk": f"{review.created_at}#{review.review_id}",
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": dynamo.to_item(
                    {
                        "pk": copy_pk,
                        "sk": copy_sk,
                        **{k: v for k, v in copy.items() if v is not None},
                        "gsi1pk": keys.promoter_reviews_with_status(review.promoter_id, review.status),
                        "gsi1sk": f"{review.created_at}#{review.review_id}",
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]


def get(review_id: str) -> ReviewRecord | None:
    item = dynamo.get("ledger", keys.review(review_id), consistent=True)
    return None if item is None else dynamo.as_record(ReviewRecord, item)


def decision_updates(
    review: ReviewRecord, status: str, decided_at: str, decided_by: str, reason: str | None
) -> list[dynamo.TransactItem]:
    """Item 0: the review goes from ``open`` to ``status`` (the condition that makes a decision final);
    then the promoter's copy."""
    table = dynamo.table("ledger")
    copy_key = keys.promoter_review(review.promoter_id, review.created_at, review.review_id)
    values = {
        ":status": {"S": status},
        ":at": {"S": decided_at},
        ":index": {"S": keys.reviews_with_status(status)},
    }
    return [
        {
            "Update": {
                "TableName": table,
                "Key": dynamo.key(*keys.review(review.review_id)),
                "UpdateExpression": "SET #status = :status, decided_at = :at, decided_by = :by, "
                "decision_reason = :reason, gsi1pk = :index",
                "ConditionExpression": "#status = :open",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    **values,
                    ":open": {"S": "open"},
                    ":by": {"S": decided_by},
                    ":reason": {"S": reason} if reason else {"NULL": True},
                },
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": dynamo.key(*copy_key),
                "UpdateExpression": "SET #status = :status, decided_at = :at, gsi1pk = :copy_index",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":status": {"S": status},
                    ":at": {"S": decided_at},
                    ":copy_index": {"S": keys.promoter_reviews_with_status(review.promoter_id, status)},
                },
            }
        },
    ]


def hold_credit(event_id: str, field: str, amount_minor: int, seen_refunds: tuple[int, int]) -> dynamo.TransactItem:
    """A decided commission joins its sale's hold (``field``: ``commission_minor`` for the promoter,
    ``merchant_minor`` for the merchant), so the release job releases it with the sale — only while the
    hold is unreleased and its refunds are as read (a release or refund racing the decision cancels it)."""
    return {
        "Update": {
            "TableName": dynamo.table("ledger"),
            "Key": dynamo.key(*keys.hold(event_id)),
            "UpdateExpression": "ADD #field :amount",
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(released_at) "
            "AND refunded_commission_minor = :seen_commission AND refunded_merchant_minor = :seen_merchant",
            "ExpressionAttributeNames": {"#field": field},
            "ExpressionAttributeValues": {
                ":amount": dynamo.to_value(amount_minor),
                ":seen_commission": dynamo.to_value(seen_refunds[0]),
                ":seen_merchant": dynamo.to_value(seen_refunds[1]),
            },
        }
    }


def status_check(review_id: str, status: str | None) -> dynamo.TransactItem:
    """The review is still as read (absent when ``status`` is None): a refund clawing back a held commission
    from where it lies must not race a decision that moves it."""
    key = dynamo.key(*keys.review(review_id))
    if status is None:
        return {
            "ConditionCheck": {
                "TableName": dynamo.table("ledger"),
                "Key": key,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    return {
        "ConditionCheck": {
            "TableName": dynamo.table("ledger"),
            "Key": key,
            "ConditionExpression": "#status = :status",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":status": {"S": status}},
        }
    }


def with_status(status: str, limit: int, cursor: str | None) -> tuple[list[ReviewRecord], str | None]:
    """Reviews in one status, newest first (GSI1 ``REVIEWS#{status}``)."""
    items, next_cursor = dynamo.index_newest_first("ledger", keys.reviews_with_status(status), limit, cursor)
    return [dynamo.as_record(ReviewRecord, item) for item in items], next_cursor


def of_promoter(
    promoter_id: str, status: str, limit: int, cursor: str | None
) -> tuple[list[PromoterReviewRecord], str | None]:
    """A promoter's reviewed commissions in one status, newest first."""
    items, next_cursor = dynamo.index_newest_first(
        "ledger", keys.promoter_reviews_with_status(promoter_id, status), limit, cursor
    )
    return [dynamo.as_record(PromoterReviewRecord, item) for item in items], next_cursor
