"""The relevance coefficient of a task for a promoter: how close the task's category is to the
promoter's *first category* (where most of their sales are). Pure, deterministic, no I/O.

- Category paths are ``/``-separated (``beauty/skincare``); depth = number of segments.
- ``first_category(counts)``: the category with the highest transaction count in the promoter's history;
  a tie goes to the lexicographically smallest path, so the answer never depends on read order.
- ``coefficient(a, b)``: 1 when the paths are equal; otherwise (length of their common leading segments)
  / (depth of the deeper path); 0 when they share no leading segment. Exact (a ``Fraction``), symmetric,
  in [0, 1], and 1 exactly when the paths are equal.

Examples: ``beauty/skincare`` vs ``beauty/skincare`` -> 1; ``beauty/skincare`` vs ``beauty/makeup`` -> 1/2;
``beauty`` vs ``beauty/skincare/serum`` -> 1/3; ``beauty/skincare`` vs ``home/kitchen`` -> 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction


def segments(category: str) -> list[str]:
    return [part for part in category.split("/") if part]


def coefficient(first: str, other: str) -> Fraction:
    a, b = segments(first), segments(other)
    if a == b:
        return Fraction(1)
    shared = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        shared += 1
    return Fraction(shared, max(len(a), len(b)))


def first_category(transactions_by_category: Mapping[str, int]) -> str | None:
    """The category with the most transactions (ties: smallest path); ``None`` without any transaction."""
    best: tuple[int, str] | None = None
    for category, count in transactions_by_category.items():
        if count <= 0:
            continue
        if best is None or count > best[0] or (count == best[0] and category < best[1]):
            best = (count, category)
    return None if best is None else best[1]


def as_decimal_text(value: Fraction, places: int = 4) -> str:
    """A coefficient for humans and JSON, rounded half-even to ``places`` decimals, never through float."""
    scale = 10**places
    scaled = round(value * scale)  # Fraction.__round__ is round-half-even and exact
    return f"{scaled // scale}.{scaled % scale:0{places}d}"
