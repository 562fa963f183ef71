"""Ranking math for the task list, in exact fixed-point (micro-units), never floats.

- global   g = w_tx * transactions + w_promo * promotions of a task over all promoters
- personal p = the same weights over one promoter's own transactions and promotions of the task
- combined c = lambda * g/max(g) + (1 - lambda) * p/max(p), maxima over the promoter's candidate set

Every order is "higher score first, then higher estimated commission, then product id", expressed as one
string sort key ``{inverted score}#{inverted commission}#{product id}`` that sorts ascending. The same key
is the ranking position in the pre-ranked task index and the position a cursor remembers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from tuishou import settings

MICROS = 1_000_000
SCORE_DIGITS = 20
COMMISSION_DIGITS = 19
_MAX_SCORE = 10**SCORE_DIGITS - 1
_MAX_COMMISSION = 10**COMMISSION_DIGITS - 1
_SORT_KEY = re.compile(rf"^(\d{{{SCORE_DIGITS}}})#(\d{{{COMMISSION_DIGITS}}})#([a-z]{{1,4}}_[0-9a-z]{{20}})$")

# The weights' variables and their defaults (the settings model is their one definition).
DEFAULT_WEIGHTS = {str(f.alias): str(f.default) for f in settings.RankingSettings.model_fields.values()}


@dataclass(frozen=True)
class Weights:
    w_tx: Decimal
    w_promo: Decimal
    lam: Decimal


def weights() -> Weights:
    """The configured weights (env ``TUISHOU_RANK_W_TX``, ``TUISHOU_RANK_W_PROMO``, ``TUISHOU_RANK_LAMBDA``)."""
    configured = settings.ranking()
    return Weights(configured.w_tx, configured.w_promo, configured.lam)


def fingerprint(w: Weights) -> str:
    """What the stored global scores depend on (g's weights; lambda only mixes scores at read time): the
    ranking job re-ranks everything when it differs from the one the index reflects."""
    return f"w_tx={w.w_tx.normalize()};w_promo={w.w_promo.normalize()}"


def _to_micros(value: Decimal) -> int:
    return min(int((value * MICROS).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)), _MAX_SCORE)


def activity_score_micros(counters: Mapping[str, int], w: Weights) -> int:
    """g (over all promoters' counters) or p (over one promoter's): w_tx * tx + w_promo * promotions."""
    transactions = Decimal(int(counters.get("transactions", 0)))
    promotions = Decimal(int(counters.get("promotions", 0)))
    return _to_micros(w.w_tx * transactions + w.w_promo * promotions)


def combined_score_micros(g: int, g_max: int, p: int, p_max: int, w: Weights) -> int:
    """c = lambda * g/g_max + (1 - lambda) * p/p_max; a zero maximum makes its normalised term 0."""
    g_hat = Decimal(g) / Decimal(g_max) if g_max else Decimal(0)
    p_hat = Decimal(p) / Decimal(p_max) if p_max else Decimal(0)
    return _to_micros(w.lam * g_hat + (1 - w.lam) * p_hat)


def score_value(micros: int) -> float:
    """The score as the API shows it (not money, so a float is fine for display)."""
    return micros / MICROS


def sort_key(score_micros: int, commission_minor: int, product_id: str) -> str:
    """Ascending order of this key = higher score, then higher commission, then product id."""
    inverted_score = _MAX_SCORE - min(max(score_micros, 0), _MAX_SCORE)
    inverted_commission = _MAX_COMMISSION - min(max(commission_minor, 0), _MAX_COMMISSION)
    return f"{inverted_score:0{SCORE_DIGITS}d}#{inverted_commission:0{COMMISSION_DIGITS}d}#{product_id}"


def is_sort_key(text: str) -> bool:
    return bool(_SORT_KEY.match(text))


@dataclass(frozen=True)
class Candidate:
    """A task the promoter may see: its global score (from the index) and its personal counters."""

    product_id: str
    commission_minor: int
    global_micros: int
    personal_micros: int


def rank(candidates: list[Candidate], sort: str, w: Weights) -> list[tuple[str, int, Candidate]]:
    """``(sort key, score, candidate)`` in display order for ``sort`` = global, personal or combined."""
    g_max = max((c.global_micros for c in candidates), default=0)
    p_max = max((c.personal_micros for c in candidates), default=0)
    ranked = []
    for candidate in candidates:
        if sort == "global":
            score = candidate.global_micros
        elif sort == "personal":
            score = candidate.personal_micros
        else:
            score = combined_score_micros(candidate.global_micros, g_max, candidate.personal_micros, p_max, w)
        ranked.append((sort_key(score, candidate.commission_minor, candidate.product_id), score, candidate))
    ranked.sort(key=lambda entry: entry[0])
    return ranked
