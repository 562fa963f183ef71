"""Compensation scan, invites and blocks: request and response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tuishou.models.common import UtcDatetime

CompensationStatus = Literal["compensated", "flagged"]
ScanStatus = Literal["running", "done", "failed"]


class FaultWindowIn(BaseModel):
    start: UtcDatetime = Field(description="ISO 8601 with offset, e.g. 2024-05-03T10:00:00+08:00.")
    end: UtcDatetime = Field(description="ISO 8601 with offset; after start, not in the future, at most 31 days on.")
    reason: str = Field(min_length=1, max_length=200, description="Why: shown on each compensation record.")


class ScanAccepted(BaseModel):
    scan_id: str


class ScanSummary(BaseModel):
    scan_id: str
    kind: Literal["fault_window", "sweep"]
    status: ScanStatus
    window_start: str
    window_end: str
    reason: str
    examined: int = Field(description="Rewardable events in the window.")
    already_granted: int
    compensated: int = Field(description="Events this scan granted.")
    flagged: int = Field(description="Events held back for admin review (blocked, self_purchase, velocity).")
    errors: int
    failure_reason: str | None = Field(
        None,
        description="Why a `failed` run was parked (its message went to "
        "the dead-letter queue); a later scan covers its window.",
    )
    nothing_owed: int = Field(
        0,
        description="Ungranted events that move no money: a zero amount, or a sale "
        "refunded in full before its money was posted.",
    )
    created_at: str
    updated_at: str


class CompensationItem(BaseModel):
    event_id: str
    user_id: str
    type: str = Field(description="The event type: sale_commission, channel_bonus or invite_signup.")
    amount_minor: int
    currency: str
    status: CompensationStatus
    reason: str = Field(
        description="compensated: the fault window's reason; flagged: blocked, self_purchase or velocity."
    )
    created_at: str
    occurred_at: str | None = None
    scan_id: str | None = None
    window_start: str | None = None
    window_end: str | None = None


class CompensationPage(BaseModel):
    items: list[CompensationItem]
    next_cursor: str | None = None


class InviteCode(BaseModel):
    invite_code: str


class UserBlock(BaseModel):
    user_id: str
    blocked: bool
    blocked_at: str | None = None
