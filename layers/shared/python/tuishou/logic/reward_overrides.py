"""Per-promoter reward overrides: a merchant pays one promoter differently on one product.

Stored on the promoter's profile item (see ``tuishou.dal.reward_overrides``), so the task
list, link eligibility and settlement -- which all read the profile already -- pick it up through
``tuishou.logic.rewards.applicable_rule`` with no extra request. Settlement uses the override in force
when the payment is settled."""

from __future__ import annotations

from tuishou import clock
from tuishou.dal import catalog
from tuishou.dal import reward_overrides as overrides_dal
from tuishou.errors import NotFound
from tuishou.logic.products import check_fixed_values, check_product_id
from tuishou.logic.promoters import check_user_id
from tuishou.models.insights import RewardOverride
from tuishou.models.rewards import RewardOverrideBody


def _owned_product(merchant_id: str, product_id: str, promoter_id: str) -> catalog.ProductRecord:
    check_product_id(product_id)
    check_user_id(promoter_id, "promoter_id")
    product = catalog.get_product(product_id)
    if product is None or product.merchant_id != merchant_id:
        raise NotFound("no such product")
    return product


def set_override(merchant_id: str, product_id: str, promoter_id: str, body: RewardOverrideBody) -> RewardOverride:
    """1 GetItem (product, ownership) + 1 conditional UpdateItem (profile; 404 unless a promoter)."""
    product = _owned_product(merchant_id, product_id, promoter_id)
    check_fixed_values([body], product.currency, field="")
    updated_at = clock.iso()
    override = overrides_dal.RewardOverrideRecord(body.type, body.value, merchant_id, updated_at)
    overrides_dal.put_override(promoter_id, product_id, override)
    return RewardOverride(
        product_id=product_id, promoter_id=promoter_id, type=body.type, value=body.value, updated_at=updated_at
    )


def remove_override(merchant_id: str, product_id: str, promoter_id: str) -> None:
    """Idempotent: removing an override that is not there succeeds. Same requests as ``set_override``."""
    _owned_product(merchant_id, product_id, promoter_id)
    overrides_dal.remove_override(promoter_id, product_id)
