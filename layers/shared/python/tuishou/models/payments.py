"""Account statements and payment records as the API returns them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tuishou.models.ledger import LedgerState

# A user's account is their Cognito sub (a UUID); system accounts are ``system:<name>``. Anything else is refused
# before any DynamoDB request.
ACCOUNT_ID_PATTERN = r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|system:[a-z_]{1,40})$"


class Balance(BaseModel):
    currency: str
    balance_minor: int = Field(
        description="Sum of the account's entries in this currency (earned, net of refunds): for a user account "
        "`pending_minor + available_minor + in_payout_minor + paid_minor`."
    )
    pending_minor: int = Field(0, description="Credited, still in its holding period (a refund takes it back).")
    available_minor: int = Field(
        0,
        description="Released and not yet paid out: what a payout may take. May be negative after a refund "
        "claws back money already paid out (it blocks payouts until earnings cover it).",
    )
    in_payout_minor: int = Field(0, description="With a payout provider right now.")
    paid_minor: int = Field(0, description="Paid out of the platform.")


class Entry(BaseModel):
    entry_id: str
    transaction_id: str = Field(description="Entries of one transaction sum to zero (credits minus debits).")
    kind: str = Field(
        description="sale_commission, sale_revenue, sale_payment, platform_fee, refund_commission, "
        "refund_revenue, refund_payment, refund_platform_fee, release, payout_requested, payout_paid, "
        "payout_returned, or a granted event kind."
    )
    amount_minor: int = Field(description="Signed: positive credits the account, negative debits it.")
    currency: str
    created_at: str
    state: LedgerState | None = Field(
        None, description="The lifecycle state the entry moves money in or out of (user accounts only)."
    )
    reference: str | None = Field(None, description="The payment (`provider:payment_id`), event or payout.")


class AccountResponse(BaseModel):
    balances: list[Balance]
    entries: list[Entry] = Field(description="Newest first.")
    next_cursor: str | None = None


class UnattributedPayment(BaseModel):
    provider: str
    payment_id: str
    reason: str = Field(
        description="missing_click_id, unknown_click, unknown_product, currency_mismatch, "
        "unknown_promoter or no_reward_rule."
    )
    flagged: bool = Field(description="True when the payment contradicts its attribution (currency mismatch).")
    amount_minor: int
    currency: str
    refunded_minor: int
    click_id: str | None = None
    received_at: str


class UnattributedPaymentsResponse(BaseModel):
    items: list[UnattributedPayment]
    next_cursor: str | None = None


class RejectedNotification(BaseModel):
    provider: str
    notification_id: str = Field(description="SHA-256 (first 32 hex digits) of the notification body.")
    reason: str = Field(description="What could not be read, e.g. `data.object.amount_total: Input should be ...`.")
    field: str = Field(description="The offending field of the notification.")
    provider_event_id: str | None = Field(default=None, description="Stripe event id / Alipay notify_id, if read.")
    received_at: str = Field(description="First delivery.")
    last_received_at: str
    deliveries: int = Field(description="How often the provider delivered this same body.")


class RejectedNotificationsResponse(BaseModel):
    items: list[RejectedNotification]
    next_cursor: str | None = None


class WebhookAck(BaseModel):
    received: bool = True
    outcome: str = Field(
        description="settled, duplicate, unattributed, refund_applied, refund_pending, "
        "refund_recorded, ignored, or rejected (verified but unreadable: recorded "
        "for admins, no money moved)."
    )
