"""Which reward rule pays a promoter: the best-paying rule among the promoter's tags.

Used by the task list, link eligibility and (issue 4) settlement, so all three agree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tuishou.models.rewards import RewardRule
from tuishou.money import commission_minor


@dataclass(frozen=True)
class ApplicableRule:
    rule: RewardRule
    commission_minor: int


def _as_rule(rule: RewardRule | Mapping[str, Any]) -> RewardRule:
    return rule if isinstance(rule, RewardRule) else RewardRule.model_validate(dict(rule))


def applicable_rule(rules: Iterable[RewardRule | Mapping[str, Any]], tags: Iterable[str],
                    price_minor: int) -> ApplicableRule | None:
    """The rule for one of ``tags`` that pays most on ``price_minor``; ``None`` if no rule matches a tag
    (the product is then not a task for this promoter). Equal pay: the alphabetically first tag wins,
    so the choice is deterministic."""
    wanted = set(tags)
    best: ApplicableRule | None = None
    for raw in rules:
        rule = _as_rule(raw)
        if rule.promoter_tag not in wanted:
            continue
        candidate = ApplicableRule(rule, commission_minor(rule.type, rule.value, price_minor))
        if best is None or (candidate.commission_minor, best.rule.promoter_tag) > (
                best.commission_minor, candidate.rule.promoter_tag):
            best = candidate
    return best
