"""The promoter's task list: active products with a rule for one of the promoter's tags, the best rule
for them, and three orders.

Reads (docs/data-model.md): 1 GetItem (profile) + 1 Query per promoter tag on the tag's pre-ranked
GSI1 partition (+ 1 Query of the promoter's task history for personal/combined). Nothing here depends on
the catalogue size: every Query has a Limit.

- ``global``: keyset pagination straight over the index (by its ranking position), any depth.
- ``personal`` / ``combined``: ranked in memory over the promoter's *candidate set* = the top
  ``TUISHOU_TASK_CANDIDATES`` (default 100) tasks of each of the promoter's tags by global rank; the
  promoter's own counters come from up to ``TUISHOU_TASK_HISTORY`` (default 200) task-history items.
  Normalisation (combined) is over that candidate set. Pagination is keyset over the in-memory order.

Per-promoter reward overrides are attributes of the profile item read first, so they cost no
request. An override changes the reward and estimated commission shown and, for personal/combined, the
commission tie-break; the global order stays the index's own (its keyset cursor walks index keys).
"""

from __future__ import annotations

from collections.abc import Mapping

from tuishou import settings
from tuishou.dal import catalog, tracking, users
from tuishou.dal.catalog import TaskIndexEntry
from tuishou.dal.dynamo import decode_cursor, encode_cursor
from tuishou.dal.reward_overrides import RewardOverrideRecord
from tuishou.errors import BadRequest
from tuishou.logic import ranking
from tuishou.logic.promoters import tags_of
from tuishou.logic.rewards import ApplicableRule, applicable_rule, overrides_of
from tuishou.models.tasks import Task, TaskPage, TaskSort

_CURSOR_KEYS = {"sort", "after"}


def candidate_limit() -> int:
    return max(1, min(settings.task_list().candidates, 1000))


def history_limit() -> int:
    return max(1, min(settings.task_list().history, 1000))


def _decode(cursor: str | None, sort: str) -> str | None:
    data = decode_cursor(cursor, allowed_keys=_CURSOR_KEYS)
    if data is None:
        return None
    after = data["after"]["S"]
    if data["sort"]["S"] != sort or not ranking.is_sort_key(after):
        raise BadRequest("malformed cursor (or made for another sort)", field="cursor")
    return after


def _encode(sort: str, after: str | None) -> str | None:
    return encode_cursor({"sort": {"S": sort}, "after": {"S": after}}) if after else None


BestEntries = dict[str, tuple[TaskIndexEntry, ApplicableRule]]


def _best_per_product(entries: list[TaskIndexEntry], tags: list[str]) -> BestEntries:
    """One entry per product with the best-paying rule among ``tags`` (entries carry all the product's
    rules, so any entry of a product gives the same answer)."""
    best: dict[str, tuple[TaskIndexEntry, ApplicableRule]] = {}
    for entry in entries:
        rule = applicable_rule(entry.reward_rules, tags, entry.price_minor)
        if rule is None:
            continue
        seen = best.get(entry.product_id)
        if seen is None or entry.global_score_micros > seen[0].global_score_micros:
            best[entry.product_id] = (entry, rule)
    return best


def _task(entry: TaskIndexEntry, rule: ApplicableRule, score_micros: int) -> Task:
    return Task(
        product_id=entry.product_id,
        title=entry.title,
        category=entry.category,
        price_minor=entry.price_minor,
        currency=entry.currency,
        image_url=entry.image_url,
        reward=rule.rule,
        estimated_commission_minor=rule.commission_minor,
        score=ranking.score_value(score_micros),
    )


def _paid(
    entry: TaskIndexEntry, rule: ApplicableRule, tags: list[str], overrides: Mapping[str, RewardOverrideRecord]
) -> ApplicableRule:
    """What this promoter is paid: the tag rule, or the merchant's override for them on this product."""
    override = overrides.get(entry.product_id)
    if override is None:
        return rule
    return applicable_rule(entry.reward_rules, tags, entry.price_minor, override) or rule


def list_tasks(promoter_id: str, sort: TaskSort, limit: int, cursor: str | None) -> TaskPage:
    after = _decode(cursor, sort)  # validated before any DynamoDB call
    profile = users.get_profile(promoter_id)
    tags, overrides = tags_of(profile), overrides_of(profile)
    if sort == "global":
        return _global_page(tags, overrides, limit, after)
    return _ranked_page(promoter_id, tags, overrides, sort, limit, after)


def _global_page(
    tags: list[str], overrides: Mapping[str, RewardOverrideRecord], limit: int, after: str | None
) -> TaskPage:
    """k-way merge of the tags' index partitions. Each partition is read up to ``limit + 1`` entries
    after the cursor; a product is only shown once every partition has been read past its key, so a page
    may be short (never wrong) when tags overlap."""
    entries: list[TaskIndexEntry] = []
    complete_upto: str | None = None
    for tag in tags:
        batch = catalog.query_tag_tasks(tag, after, limit + 1)
        entries.extend(batch.entries)
        last = batch.last_position
        if len(batch.entries) > limit and last is not None:  # this partition has more beyond its last read
            complete_upto = last if complete_upto is None else min(complete_upto, last)
    ranked = []
    for entry, rule in _best_per_product(entries, tags).values():
        key = ranking.sort_key(entry.global_score_micros, rule.commission_minor, entry.product_id)
        if (after is None or key > after) and (complete_upto is None or key <= complete_upto):
            ranked.append((key, entry, rule))
    ranked.sort(key=lambda r: r[0])
    page = ranked[:limit]
    # More after this page: the next ranked item, or entries beyond what every partition has shown.
    next_after = page[-1][0] if len(ranked) > limit else complete_upto
    items = [_task(entry, _paid(entry, rule, tags, overrides), entry.global_score_micros) for _, entry, rule in page]
    return TaskPage(items=items, next_cursor=_encode("global", next_after))


def _ranked_page(
    promoter_id: str,
    tags: list[str],
    overrides: Mapping[str, RewardOverrideRecord],
    sort: str,
    limit: int,
    after: str | None,
) -> TaskPage:
    entries: list[TaskIndexEntry] = []
    for tag in tags:
        entries.extend(catalog.query_tag_tasks(tag, None, candidate_limit()).entries)
    best = {
        pid: (entry, _paid(entry, rule, tags, overrides))
        for pid, (entry, rule) in _best_per_product(entries, tags).items()
    }
    history = tracking.promoter_task_counters(promoter_id, history_limit()) if best else {}
    w = ranking.weights()
    candidates = [
        ranking.Candidate(
            product_id=pid,
            commission_minor=rule.commission_minor,
            global_micros=entry.global_score_micros,
            personal_micros=ranking.activity_score_micros(history.get(pid, {}), w),
        )
        for pid, (entry, rule) in best.items()
    ]
    ranked = [r for r in ranking.rank(candidates, sort, w) if after is None or r[0] > after]
    page = ranked[:limit]
    items = [_task(best[c.product_id][0], best[c.product_id][1], score) for _, score, c in page]
    next_after = page[-1][0] if len(ranked) > limit else None
    return TaskPage(items=items, next_cursor=_encode(sort, next_after))
