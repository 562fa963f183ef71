"""The compensation scan: find rewardable events without a grant (in a declared fault window or the
rolling sweep), skip the illegitimate ones, grant each owed one exactly once, record it and tell the user.

A run walks the window's UTC hour buckets in pages (``TUISHOU_SCAN_BUCKETS_PER_PAGE`` buckets each). Per
page: one Query per bucket; events already stamped ``granted_at`` need no further read; the rest get ONE
BatchGetItem (per 100 keys) of their grant records and their users' blocks. Each owed event is granted by
the ledger's one conditional transaction (``tuishou.logic.ledger.grant_items``) together with its
compensation record and the run's ``compensated`` count, so a late normal grant, an overlapping scan or a
re-run after a crash can only find it done. The run's progress is committed per page (conditional on the
page number) so a killed or re-delivered run resumes where it stopped. See docs/compensation.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tuishou import clock, ids, settings
from tuishou.dal import compensation as store
from tuishou.dal.compensation import CompensationRecord, ScannedEvent, ScanRecord
from tuishou.dal.dynamo import TransactItem
from tuishou.errors import NotFound, ServiceUnavailable, Unprocessable
from tuishou.logic import integrity, reviews
from tuishou.logic.ledger import GRANT_INDEX, SALE_COMMISSION, grant_items, moves_money
from tuishou.logic.notifications import notify
from tuishou.models.compensation import (
    CompensationItem,
    CompensationPage,
    FaultWindowIn,
    ScanAccepted,
    ScanSummary,
    UserBlock,
)
from tuishou.models.ledger import RewardableEvent
from tuishou.models.notifications import CompensationData
from tuishou.observability import logger

SCAN_PREFIX = "scn"
DEFERRED_IMPORTS = ("tuishou.logic.settlement",)  # the scan's; in the SnapStart snapshot (tuishou.snapstart)
MAX_WINDOW = timedelta(days=31)
SWEEP_LOOKBACK = timedelta(hours=26)
SWEEP_REASON = "rolling sweep"


# ---------------------------------------------------------------- starting runs
def start_fault_window(body: FaultWindowIn, admin_id: str) -> ScanAccepted:
    """Validate the window, record the run and queue it (the scan function runs it asynchronously)."""
    start, end, now = body.start, body.end, clock.now()
    if start >= end:
        raise Unprocessable("end must be after start", field="end")
    if end > now:
        raise Unprocessable("end must not be in the future", field="end")
    if end - start > MAX_WINDOW:
        raise Unprocessable("a fault window spans at most 31 days", field="start")
    scan_id = _create_run("fault_window", start, end, body.reason.strip() or "fault window", admin_id)
    store.enqueue(scan_id)
    return ScanAccepted(scan_id=scan_id)


def start_sweep(at: datetime | None = None) -> str:
    """The hourly rolling sweep over [now − 26 h, now − grace] (grace: in-flight normal grants finish)."""
    now = at or clock.now()
    end = now - timedelta(minutes=settings.compensation().sweep_grace_minutes)
    return _create_run("sweep", now - SWEEP_LOOKBACK, end, SWEEP_REASON, "scheduler")


def _create_run(kind: str, start: datetime, end: datetime, reason: str, requested_by: str) -> str:
    scan_id, now = ids.new_id(SCAN_PREFIX), clock.iso()
    store.create_scan(
        ScanRecord(
            scan_id=scan_id,
            kind=kind,
            status="running",
            window_start=clock.iso(start),
            window_end=clock.iso(end),
            reason=reason,
            requested_by=requested_by,
            created_at=now,
            updated_at=now,
        )
    )
    logger.info("compensation scan started", extra={"scan_id": scan_id, "kind": kind})
    return scan_id


# ---------------------------------------------------------------- running
@dataclass
class PageCounts:
    examined: int = 0
    already_granted: int = 0
    errors: int = 0
    compensated: int = 0  # counted in the grant transactions; here for the caller's log and metric
    flagged: int = 0
    nothing_owed: int = 0  # ungranted events that move no money (zero amount, refunded before posting)


@dataclass
class RunResult:
    scan_id: str
    status: str
    pages: int = 0
    counts: PageCounts = field(default_factory=PageCounts)


def hour_buckets(start: str, end: str) -> list[str]:
    first, last = clock.parse_iso(start), clock.parse_iso(end)
    moment = first.replace(minute=0, second=0, microsecond=0)
    buckets = []
    while moment < last:
        buckets.append(clock.hour_bucket(moment))
        moment += timedelta(hours=1)
    return buckets


def run(scan_id: str, remaining_ms: Callable[[], int], max_pages: int | None = None) -> RunResult:
    """Continue run ``scan_id`` from its committed page while time allows. Returns ``running`` when a
    continuation is needed (the caller re-enqueues), ``done`` when the window is covered."""
    scan = store.get_scan(scan_id)
    if scan is None:
        raise NotFound("no such scan", field="scan_id")
    result = RunResult(scan_id, scan.status)
    buckets = hour_buckets(scan.window_start, scan.window_end)
    configured = settings.compensation()
    per_page, safety = max(1, configured.buckets_per_page), configured.safety_ms
    page, next_bucket = scan.page, scan.next_bucket
    while result.status == "running":
        if (max_pages is not None and result.pages >= max_pages) or (result.pages and remaining_ms() < safety):
            return result
        chunk = buckets[next_bucket : next_bucket + per_page]
        counts = _scan_page(scan, chunk)
        done = next_bucket + len(chunk) >= len(buckets)
        if not store.commit_page(
            scan_id,
            page,
            next_bucket + len(chunk),
            done,
            {
                "examined": counts.examined,
                "already_granted": counts.already_granted,
                "errors": counts.errors,
                "nothing_owed": counts.nothing_owed,
            },
            clock.iso(),
        ):
            logger.info("another runner committed this page; stopping", extra={"scan_id": scan_id, "page": page})
            result.status = "superseded"
            return result
        page, next_bucket = page + 1, next_bucket + len(chunk)
        result.pages += 1
        _add(result.counts, counts)
        if done:
            result.status = "done"
    return result


def park(scan_id: str, error: BaseException) -> None:
    """Give up on a run that failed the same way on every delivery: it is reported ``failed`` with the
    reason, its message goes to the dead-letter queue, and it holds nothing back — no other run waits for
    it, and the events it did not reach stay ungranted for the next sweep or fault window."""
    reason = f"{type(error).__name__}: {error}"
    if store.fail_scan(scan_id, reason, clock.iso()):
        logger.error("compensation scan parked", extra={"scan_id": scan_id, "reason": reason})


def _add(total: PageCounts, page: PageCounts) -> None:
    for name in ("examined", "already_granted", "errors", "compensated", "flagged", "nothing_owed"):
        setattr(total, name, getattr(total, name) + getattr(page, name))


def _scan_page(scan: ScanRecord, buckets: list[str]) -> PageCounts:
    counts = PageCounts()
    found = [e for b in buckets for e in store.events_to_scan(b, scan.window_start, scan.window_end)]
    counts.examined = len(found)
    ungranted = [e for e in found if not e.granted]
    counts.already_granted = len(found) - len(ungranted)
    candidates = [e for e in ungranted if _owed(e)]
    counts.nothing_owed = len(ungranted) - len(candidates)
    if not candidates:
        return counts
    too_fast = integrity.over_velocity([e.event for e in found], integrity.velocity_limit())
    granted, blocked = _grants_and_blocks([e.event for e in candidates])
    for scanned in candidates:
        event_id = scanned.event.event_id
        if event_id in granted:
            counts.already_granted += 1
            continue
        try:
            _settle_event(scan, scanned, integrity.scan_flag(scanned.event, blocked, too_fast), counts)
        except ServiceUnavailable:
            raise  # throttled: the whole page is retried (the message is re-delivered)
        except Exception:  # one event that cannot be granted must not hold back the others of its page
            counts.errors += 1
            logger.exception("compensation failed for an event", extra={"event_id": event_id})
    return counts


def _owed(scanned: ScannedEvent) -> bool:
    """Does granting the event move money? Not for an event that moves nothing (a zero fixed amount), nor
    for a sale refunded in full before it was posted. A zero commission still owes the merchant revenue."""
    event = scanned.event
    if event.kind == SALE_COMMISSION:
        return scanned.refunded_minor < int(event.details["amount_minor"])
    return moves_money(event)


def _grants_and_blocks(candidates: list[RewardableEvent]) -> tuple[set[str], set[str]]:
    """Which candidates have a grant record, and which of their users are blocked: BatchGetItem of at most
    100 keys each (only existing items come back, so items read ≈ the few that exist)."""
    return store.granted_and_blocked([e.event_id for e in candidates], sorted({e.user_id for e in candidates}))


def _record(scan: ScanRecord, event: RewardableEvent, status: str, reason: str, amount: int) -> CompensationRecord:
    return CompensationRecord(
        event_id=event.event_id,
        user_id=event.user_id,
        type=event.kind,
        amount_minor=amount,
        currency=event.currency,
        status=status,
        reason=reason,
        occurred_at=clock.iso(event.occurred_at),
        created_at=clock.iso(),
        scan_id=scan.scan_id,
        window_start=scan.window_start,
        window_end=scan.window_end,
    )


def _settle_event(scan: ScanRecord, scanned: ScannedEvent, flag: integrity.Hold | None, counts: PageCounts) -> None:
    event = scanned.event
    if flag is not None and event.kind == SALE_COMMISSION and event.amount_minor:
        _hold_sale(scan, scanned, flag, counts)
        return
    if flag is not None:
        record = _record(scan, event, "flagged", flag.reason, event.amount_minor)
        try:
            store.write([*store.record_puts(record), store.scan_count_update(scan.scan_id, "flagged")])
        except store.Cancelled:
            return  # flagged before (this scan) or compensated meanwhile: nothing to count
        counts.flagged += 1
        logger.warning("event flagged", extra={"event_id": event.event_id, "reason": flag})
        return
    money, credited = _grant(event, scanned.refunded_minor)
    record = _record(scan, event, "compensated", scan.reason, credited)
    transaction = [*money, *store.record_puts(record), store.scan_count_update(scan.scan_id, "compensated")]
    for _attempt in range(3):
        try:
            store.write(transaction)
        except store.Cancelled as cancelled:
            if cancelled.failed(GRANT_INDEX):
                counts.already_granted += 1  # a late normal grant or another scan won: nothing moved twice
                return
            if not cancelled.conflicted:
                raise Unprocessable(
                    f"compensation transaction cancelled: {cancelled.reasons}", field="event_id"
                ) from cancelled
            continue
        counts.compensated += 1
        _tell(event.user_id, record)
        return
    raise Unprocessable("compensation kept conflicting", field="event_id")


def _hold_sale(scan: ScanRecord, scanned: ScannedEvent, flag: integrity.Hold, counts: PageCounts) -> None:
    """A sale that fails a rule is granted held, as settlement holds it: the merchant's share posted, the
    commission in ``COMMISSIONS_UNDER_REVIEW``, an open review — in the grant's transaction, so it happens
    once and no later scan flags it again; the review's decision is the only way on for the commission."""
    from tuishou.logic import settlement

    event = scanned.event
    now = clock.iso()
    event = RewardableEvent(
        event.event_id,
        event.kind,
        event.user_id,
        event.amount_minor,
        event.currency,
        event.occurred_at,
        {**event.details, "hold_reason": flag.reason, "hold_evidence": flag.evidence},
    )
    money, _credited = settlement.sale_grant_items(event, scanned.refunded_minor, now, held=True)
    record = _record(scan, event, "flagged", flag.reason, event.amount_minor)
    transaction = [
        *money,
        *reviews.open_items(event, now),
        *store.record_puts(record),
        store.scan_count_update(scan.scan_id, "flagged"),
    ]
    try:
        store.write(transaction)
    except store.Cancelled as cancelled:
        if cancelled.failed(GRANT_INDEX):
            counts.already_granted += 1  # settlement or another scan posted it first
            return
        raise
    counts.flagged += 1
    logger.warning("sale held by the scan", extra={"event_id": event.event_id, "reason": flag.reason})
    reviews.tell_promoter(event)


def _grant(event: RewardableEvent, refunded_minor: int) -> tuple[list[TransactItem], int]:
    """The grant's items (the grant record first) and the amount it credits the event's user."""
    if event.kind == SALE_COMMISSION:
        from tuishou.logic import settlement  # the scan's alone: the compensation routes never import it

        return settlement.sale_grant_items(event, refunded_minor, clock.iso())
    return grant_items(event), event.amount_minor


def _tell(user_id: str, record: CompensationRecord) -> None:
    if not record.amount_minor:
        return  # a zero commission (the merchant's revenue was posted): nothing to tell the promoter
    try:
        notify(
            user_id,
            "compensation",
            CompensationData.model_validate(record, from_attributes=True).model_dump(),
        )
    except Exception:  # the money and its record are committed; a lost notice must not undo or repeat them
        logger.exception("compensation notification failed", extra={"event_id": record.event_id})


# ---------------------------------------------------------------- reading
def summary(scan_id: str) -> ScanSummary:
    if not ids.is_id(scan_id, SCAN_PREFIX):
        raise NotFound("no such scan", field="scan_id")
    scan = store.get_scan(scan_id)
    if scan is None:
        raise NotFound("no such scan", field="scan_id")
    return ScanSummary.model_validate(scan, from_attributes=True)


def _item(record: CompensationRecord) -> CompensationItem:
    return CompensationItem.model_validate(record, from_attributes=True)


def list_all(since: datetime | None, limit: int, cursor: str | None) -> CompensationPage:
    items, next_cursor = store.list_all(clock.iso(since) if since else "0", limit, cursor)
    return CompensationPage(items=[_item(i) for i in items], next_cursor=next_cursor)


def list_for_user(user_id: str, limit: int, cursor: str | None) -> CompensationPage:
    items, next_cursor = store.list_for_user(user_id, limit, cursor)
    return CompensationPage(items=[_item(i) for i in items], next_cursor=next_cursor)


# ---------------------------------------------------------------- blocks
def block(user_id: str, admin_id: str) -> UserBlock:
    from tuishou.logic.promoters import check_user_id

    check_user_id(user_id, "user_id")
    now = clock.iso()
    store.put_block(user_id, now, admin_id)
    logger.info("user blocked from compensation", extra={"user_id": user_id, "admin": admin_id})
    return UserBlock(user_id=user_id, blocked=True, blocked_at=now)


def unblock(user_id: str) -> UserBlock:
    from tuishou.logic.promoters import check_user_id

    check_user_id(user_id, "user_id")
    store.delete_block(user_id)
    return UserBlock(user_id=user_id, blocked=False)
