"""Reviews of held commissions (admins) and the promoter's reviewed commissions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ReviewStatus = Literal["open", "approved", "declined"]
CommissionStatus = Literal["held", "granted", "declined"]


class Review(BaseModel):
    review_id: str
    status: ReviewStatus
    reason: str = Field(description="The rule the sale failed: blocked, self_purchase, velocity or amount_unusual.")
    evidence: dict[str, Any] = Field(
        description="The facts behind the reason, e.g. `{sales_in_window, limit, window_minutes}` for velocity."
    )
    promoter_id: str
    merchant_id: str
    product_id: str
    provider: str
    payment_id: str
    amount_minor: int = Field(description="The amount paid.")
    commission_minor: int = Field(description="The commission held in the suspense account.")
    currency: str
    created_at: str
    decided_at: str | None = None
    decided_by: str | None = Field(None, description="The deciding admin's Cognito sub.")
    decision_reason: str | None = None


class ReviewPage(BaseModel):
    items: list[Review]
    next_cursor: str | None = None


class ReviewDecline(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Why the commission is declined (kept).")


class ReviewedCommission(BaseModel):
    """A commission of the caller's that was held for review (no reason: that stays with the admins)."""

    review_id: str
    status: CommissionStatus = Field(description="held (under review), granted (approved) or declined.")
    product_id: str
    payment_id: str
    commission_minor: int
    currency: str
    created_at: str
    decided_at: str | None = None


class CommissionPage(BaseModel):
    items: list[ReviewedCommission]
    next_cursor: str | None = None
