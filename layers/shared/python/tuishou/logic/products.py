"""Merchants' products: publish, list with counters, replace reward rules, pause and resume.

A product's task-index entries (one per rule tag, see ``tuishou.dal.catalog``) exist exactly while the
product is active, and are written in the same transaction as the product, so the task list never shows
a paused product or a stale rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

from tuishou import clock, money
from tuishou.dal import catalog
from tuishou.dal.catalog import ProductPartition, ProductRecord, TaskIndexEntry
from tuishou.errors import NotFound, Unprocessable
from tuishou.ids import is_id, new_id
from tuishou.logic import ranking
from tuishou.models.rewards import RewardRule, RewardTerms
from tuishou.models.tasks import (
    Counters,
    Product,
    ProductCreate,
    ProductList,
    ProductSettings,
    ProductStatus,
    ProductSummary,
)
from tuishou.money import commission_minor

PRODUCT_ID_PREFIX = "prd"


def task_entries(product: ProductRecord | dict[str, Any], global_micros: int) -> list[TaskIndexEntry]:
    """One pre-ranked task-index entry per rule tag; empty unless the product is active. ``product`` is a
    record or a product's plain fields (as bulk seeding builds them)."""
    product = catalog.as_product_record(product)
    if product.status != "active":
        return []
    entries = []
    for rule in product.reward_rules:
        commission = commission_minor(rule.type, rule.value, product.price_minor)
        entries.append(
            TaskIndexEntry(
                product_id=product.product_id,
                merchant_id=product.merchant_id,
                title=product.title,
                category=product.category,
                price_minor=product.price_minor,
                currency=product.currency,
                image_url=product.image_url,
                promoter_tag=rule.promoter_tag,
                reward_rules=product.reward_rules,
                estimated_commission_minor=commission,
                global_score_micros=global_micros,
                sort_key=ranking.sort_key(global_micros, commission, product.product_id),
            )
        )
    return entries


def check_product_id(product_id: str) -> None:
    """A malformed product id is a 422 naming the field, before any DynamoDB call."""
    if not is_id(product_id, PRODUCT_ID_PREFIX):
        raise Unprocessable("product_id: not a product id", field="product_id")


def check_fixed_values(rules: Sequence[RewardTerms], currency: str, field: str = "reward_rules") -> None:
    """Fixed rewards within the maximum of the product's currency (the body alone does not know it): 422
    naming ``reward_rules[i].value`` (``value`` for a single override, ``field=""``)."""
    for index, rule in enumerate(rules):
        if rule.type != "fixed":
            continue
        try:
            money.check_amount(rule.value, currency)
        except ValueError as exc:
            located = f"{field}[{index}].value" if field else "value"
            raise Unprocessable(f"{located}: {exc}", field=located) from exc


def create_product(merchant_id: str, body: ProductCreate) -> Product:
    now = clock.iso()
    product = ProductRecord(
        **body.model_dump(exclude={"reward_rules"}),
        reward_rules=tuple(body.reward_rules),
        product_id=new_id(PRODUCT_ID_PREFIX),
        merchant_id=merchant_id,
        status="active",
        created_at=now,
        updated_at=now,
        version=1,
    )
    catalog.create_product(product, task_entries(product, global_micros=0))
    return _view(product)


def list_products(merchant_id: str, limit: int, cursor: str | None) -> ProductList:
    products, next_cursor = catalog.list_merchant_products(merchant_id, limit, cursor)
    totals = catalog.counters_of([p.product_id for p in products]) if products else {}
    items = [
        ProductSummary.model_validate({**asdict(p), "counters": Counters(**totals[p.product_id])}) for p in products
    ]
    return ProductList(items=items, next_cursor=next_cursor)


def _view(product: ProductRecord) -> Product:
    return Product.model_validate(product, from_attributes=True)


def _owned(merchant_id: str, product_id: str) -> tuple[ProductRecord, ProductPartition]:
    """The product with its partition (counters, task-index tags), or 404 when it is not this merchant's
    (existence of other merchants' products is not revealed)."""
    check_product_id(product_id)
    partition = catalog.product_partition(product_id)
    if partition.product is None or partition.product.merchant_id != merchant_id:
        raise NotFound("no such product")
    return partition.product, partition


def _save(before: ProductRecord, after: ProductRecord, partition: ProductPartition) -> Product:
    after = replace(after, updated_at=clock.iso(), version=(before.version or 0) + 1)
    new_entries = task_entries(after, ranking.activity_score_micros(partition.counters, ranking.weights()))
    kept_tags = {e.promoter_tag for e in new_entries}
    stale_tags = sorted(partition.task_tags - kept_tags)
    catalog.save_product(after, before.version, new_entries, stale_tags)
    return _view(after)


def replace_reward_rules(merchant_id: str, product_id: str, rules: list[RewardRule]) -> Product:
    product, partition = _owned(merchant_id, product_id)
    check_fixed_values(rules, product.currency)
    return _save(product, replace(product, reward_rules=tuple(rules)), partition)


def change_settings(merchant_id: str, product_id: str, body: ProductSettings) -> Product:
    """Holding and attribution periods apply to sales recorded from now on (a recorded sale keeps its own)."""
    product, partition = _owned(merchant_id, product_id)
    return _save(product, replace(product, **body.model_dump(exclude_none=True)), partition)


def set_status(merchant_id: str, product_id: str, status: ProductStatus) -> Product:
    """Pause or resume; asking for the current status again changes nothing (idempotent)."""
    product, partition = _owned(merchant_id, product_id)
    if product.status == status:
        return _view(product)
    return _save(product, replace(product, status=status), partition)
