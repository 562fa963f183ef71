"""Which reward rule pays a promoter: the best-paying rule among the promoter's tags, unless the merchant
set a per-promoter override for the product, which then beats the tag rule.

Used by the task list, link eligibility and settlement, so all three agree. Eligibility stays
by tag: an override changes what an eligible promoter earns, it does not make a product a task."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tuishou.dal import reward_overrides as overrides_dal
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
    override: Mapping[str, Any] | None = None,
) -> ApplicableRule | None:
    """The rule for one of ``tags`` that pays most on ``price_minor``; ``None`` if no rule matches a tag
    (the product is then not a task for this promoter). Equal pay: the alphabetically first tag wins,
    so the choice is deterministic. With an ``override`` (``{type, value}``) for this promoter, an
    eligible promoter is paid by the override instead (shown under the matching tag)."""
    best = _best_tag_rule(rules, tags, price_minor)
    if best is None or not override:
        return best
    rule = RewardRule(promoter_tag=best.rule.promoter_tag, type=override["type"], value=int(override["value"]))
    return ApplicableRule(rule, commission_minor(rule.type, rule.value, price_minor), overridden=True)


def override_for(profile: Mapping[str, Any] | None, product_id: str) -> dict[str, Any] | None:
    """The merchant's override for this promoter on ``product_id``, denormalised on the promoter's profile."""
    return overrides_dal.override_on(profile, product_id)


def overrides_of(profile: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Every override on the profile, by product id."""
    return overrides_dal.overrides_on(profile)


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
