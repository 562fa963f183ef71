"""Key builders for every item, in one place: the data model of docs/data-model.md in code.

Tables use generic ``pk``/``sk`` keys and an overloaded ``GSI1`` (``gsi1pk``/``gsi1sk``).
"""

from __future__ import annotations


# ---------------------------------------------------------------- CatalogTable
def product(product_id: str) -> tuple[str, str]:
    """The product (task) itself: merchant, title, category, price, currency, landing URL, status, rules."""
    return f"PRODUCT#{product_id}", "PRODUCT"


def merchant_products(merchant_id: str) -> str:
    """GSI1 partition listing a merchant's products (gsi1sk = ``PRODUCT#{created_at}#{product_id}``)."""
    return f"MERCHANT#{merchant_id}"


def product_counters(product_id: str, shard: int) -> tuple[str, str]:
    """One of N counter shards of a product (clicks, promotions, transactions), summed on read."""
    return f"PRODUCT#{product_id}", f"COUNTERS#{shard:02d}"


COUNTERS_PREFIX = "COUNTERS#"
TASK_PREFIX = "TASK#"


def task_entry(product_id: str, tag: str) -> tuple[str, str]:
    """A product's entry in one promoter tag's pre-ranked task index (only while the product is active)."""
    return f"PRODUCT#{product_id}", f"TASK#{tag}"


def tag_tasks(tag: str) -> str:
    """GSI1 partition of the pre-ranked task index of one promoter tag (gsi1sk = ranking sort key)."""
    return f"TAG#{tag}"


# ---------------------------------------------------------------- UsersTable
def profile(user_id: str) -> tuple[str, str]:
    """A user's profile: role, display name, phone, promoter tags."""
    return f"USER#{user_id}", "PROFILE"


# ---------------------------------------------------------------- TrackingTable
def link(link_id: str) -> tuple[str, str]:
    return f"LINK#{link_id}", "LINK"


def promoter_link(promoter_id: str, product_id: str) -> tuple[str, str]:
    """At most one tracking link per promoter and task."""
    return f"PROMOTER#{promoter_id}", f"LINK#{product_id}"


def link_code(code: str) -> tuple[str, str]:
    """Public code -> link, denormalised so a click needs one read."""
    return f"CODE#{code}", "CODE"


def share(link_id: str, share_id: str) -> tuple[str, str]:
    """One promotion (share) of a link on a channel."""
    return f"LINK#{link_id}", f"SHARE#{share_id}"


def click(click_id: str) -> tuple[str, str]:
    """A click: link, promoter, product, merchant, channel, time. Payments attribute by click id."""
    return f"CLICK#{click_id}", "CLICK"


def promoter_task_history(promoter_id: str, product_id: str) -> tuple[str, str]:
    """This promoter's counters for one task (clicks, promotions, transactions): the personal score."""
    return f"PROMOTER#{promoter_id}", f"TASK#{product_id}"


PROMOTER_TASK_PREFIX = "TASK#"


def promoter_channel(promoter_id: str, channel: str) -> tuple[str, str]:
    """This promoter's counters on one channel (clicks, promotions, transactions)."""
    return f"PROMOTER#{promoter_id}", f"CHANNEL#{channel}"
