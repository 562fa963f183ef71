"""Which reward rule pays a promoter: the best-paying rule among the promoter's tags, unless the merchant
set a per-promoter override for the product, which then beats the tag rule.

Used by the task list, link eligibility and settlement, so all three agree. Eligibility stays
by tag: an override changes what an eligible promoter earns, it does not make a product a task."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tuishou.dal.reward_overrides import RewardOverrideRecord
from tuishou.dal.users import ProfileRecord, as_profile_record
from tuishou.models.rewards import RewardRule
from tuishou.money import commission_minor


@dataclass(frozen=True)
class ApplicableRule:
    rule: RewardRule
    commission_minor: int
    overridden: bool = False


def _as_rule(rule: RewardRule | Mapping[str, Any]) -> RewardRule:
    return rule if isinstance(rule, RewardRule) else RewardRule.model_validate(dict(rule))


def applicable_rule(
    rules: Iterable[RewardRule | Mapping[str, Any]],
    tags: Iterable[str],
    price_minor: int,
    override: RewardOverrideRecord | Mapping[str, Any] | None = None,
) -> ApplicableRule | None:
    """The rule for one of ``tags`` that pays most on ``price_minor``; ``None`` if no rule matches a tag
    (the product is then not a task for this promoter). Equal pay: the alphabetically first tag wins,
    so the choice is deterministic. With the merchant's ``override`` for this promoter, an
    eligible promoter is paid by the override instead (shown under the matching tag)."""
    best = _best_tag_rule(rules, tags, price_minor)
    if best is None or not override:
        return best
    terms = override if isinstance(override, RewardOverrideRecord) else RewardOverrideRecord(**override)
    rule = RewardRule(promoter_tag=best.rule.promoter_tag, type=terms.type, value=terms.value)
    return ApplicableRule(rule, commission_minor(rule.type, rule.value, price_minor), overridden=True)


def override_for(profile: ProfileRecord | Mapping[str, Any] | None, product_id: str) -> RewardOverrideRecord | None:
    """The merchant's override for this promoter on ``product_id``, denormalised on the promoter's profile."""
    record = as_profile_record(profile)
    return record.overrides.get(product_id) if record else None


def overrides_of(profile: ProfileRecord | Mapping[str, Any] | None) -> Mapping[str, RewardOverrideRecord]:
    """Every override on the profile, by product id."""
    record = as_profile_record(profile)
    return record.overrides if record else {}


def _best_tag_rule(
    rules: Iterable[RewardRule | Mapping[str, Any]], tags: Iterable[str], price_minor: int
) -> ApplicableRule | None:
    wanted = set(tags)
    best: ApplicableRule | None = None
    for raw in rules:
        rule = _as_rule(raw)
        if rule.promoter_tag not in wanted:
            continue
        candidate = ApplicableRule(rule, commission_minor(rule.type, rule.value, price_minor))
        if best is None or (candidate.commission_minor, best.rule.promoter_tag) > (
            best.commission_minor,
            candidate.rule.promoter_tag,
        ):
            best = candidate
    return best
