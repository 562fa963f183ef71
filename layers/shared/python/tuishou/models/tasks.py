"""Request and response bodies of the promotion-task routes: products, profiles, tags, tasks, links,
shares."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tuishou.models.channel_tasks import ChannelTaskView
from tuishou.models.common import DEFAULT_LOCALE, DEFAULT_TIME_ZONE, Locale, TimeZone, check_amounts, fixed_amounts
from tuishou.models.rewards import TAG_PATTERN, RewardRule
from tuishou.money import CURRENCY_EXPONENT, MinorUnits, check_currency
from tuishou.urls import canonical_https_url

ProductStatus = Literal["active", "paused"]
Channel = Literal["wechat", "weibo", "douyin", "xiaohongshu", "qq", "sms", "other"]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]
DIRECT_CHANNEL = "direct"  # a click on a link opened without a channel marker
TaskSort = Literal["global", "personal", "combined"]
Tag = Annotated[str, Field(pattern=TAG_PATTERN, description="Promoter tag, e.g. `standard` or `gold`.")]

MAX_RULES = 20
MAX_TAGS = 8
MAX_URL_LENGTH = 2048
DEFAULT_HOLDING_DAYS, MAX_HOLDING_DAYS = 14, 90
DEFAULT_ATTRIBUTION_DAYS, MAX_ATTRIBUTION_DAYS = 30, 90
HoldingDays = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_HOLDING_DAYS,
        description="Days a sale's commission and revenue stay pending (refundable) before they are available "
        "for payout; 0 credits them available at once.",
    ),
]
AttributionDays = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_ATTRIBUTION_DAYS,
        description="Days after a click during which a payment is attributed to it (last click wins).",
    ),
]


def _unique_tags(rules: list[RewardRule]) -> list[RewardRule]:
    tags = [rule.promoter_tag for rule in rules]
    if len(set(tags)) != len(tags):
        raise ValueError("at most one rule per promoter tag")
    return rules


class RewardRulesBody(BaseModel):
    reward_rules: list[RewardRule] = Field(
        min_length=1, max_length=MAX_RULES, description="What the product pays each promoter tag (one rule per tag)."
    )

    @field_validator("reward_rules")
    @classmethod
    def _one_rule_per_tag(cls, rules: list[RewardRule]) -> list[RewardRule]:
        return _unique_tags(rules)


class ProductCreate(RewardRulesBody):
    title: str = Field(min_length=1, max_length=200)
    category: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,39}(/[a-z0-9][a-z0-9-]{0,39}){0,4}$",
        max_length=200,
        description="A category path such as `beauty/skincare`.",
    )
    price_minor: MinorUnits = Field(gt=0, description="List price in minor units.")
    currency: str = Field(description=f"ISO 4217 code; one of {', '.join(sorted(CURRENCY_EXPONENT))}.")
    landing_url: str = Field(
        max_length=2048,
        description="Where a click lands (https). Stored in canonical "
        "ASCII form: IDNA host, percent-encoded path and query.",
    )
    image_url: str | None = Field(
        default=None, max_length=2048, description="Product image (https), stored like `landing_url`."
    )
    description: str | None = Field(default=None, max_length=2000)
    holding_days: HoldingDays = DEFAULT_HOLDING_DAYS
    attribution_days: AttributionDays = DEFAULT_ATTRIBUTION_DAYS

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _amounts_within_the_currency_maximum(self) -> ProductCreate:
        check_amounts(
            self,
            self.currency,
            [(("price_minor",), self.price_minor), *fixed_amounts(self.reward_rules, "reward_rules")],
        )
        return self

    @field_validator("landing_url", "image_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        canonical = canonical_https_url(value)
        if len(canonical) > MAX_URL_LENGTH:
            raise ValueError(f"longer than {MAX_URL_LENGTH} characters once percent-encoded")
        return canonical


class Counters(BaseModel):
    clicks: int = 0
    promotions: int = 0
    transactions: int = 0


class Product(BaseModel):
    product_id: str
    merchant_id: str
    title: str
    category: str
    price_minor: int
    currency: str
    landing_url: str
    image_url: str | None = None
    description: str | None = None
    status: ProductStatus
    reward_rules: list[RewardRule]
    holding_days: int
    attribution_days: int
    created_at: str
    updated_at: str


class ProductSettings(BaseModel):
    """A product's money settings; each field left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    holding_days: HoldingDays | None = None
    attribution_days: AttributionDays | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> ProductSettings:
        if self.holding_days is None and self.attribution_days is None:
            raise ValueError("give holding_days, attribution_days or both")
        return self


class ProductSummary(BaseModel):
    product_id: str
    title: str
    category: str
    price_minor: int
    currency: str
    status: ProductStatus
    reward_rules: list[RewardRule]
    holding_days: int = DEFAULT_HOLDING_DAYS
    attribution_days: int = DEFAULT_ATTRIBUTION_DAYS
    created_at: str
    counters: Counters = Field(description="Totals over all promoters (clicks, promotions, transactions).")


class ProductList(BaseModel):
    items: list[ProductSummary]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end.")


class ProfileCreate(BaseModel):
    display_name: str = Field(min_length=1, max_length=64)
    phone: str = Field(pattern=r"^\+?[1-9][0-9]{5,14}$", description="E.164-style phone number.")
    invite_code: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{4,32}$",
        description="Invite code of whoever invited this promoter (kept as given).",
    )
    locale: Locale | None = Field(None, description="Language of notifications; default zh-CN.")
    time_zone: TimeZone | None = Field(
        None, description="IANA time zone notifications show times in; default Asia/Shanghai."
    )

    @field_validator("display_name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class Profile(BaseModel):
    user_id: str
    role: Literal["promoter"] = "promoter"
    display_name: str
    phone: str
    tags: list[str]
    invite_code: str | None = None
    created_at: str
    locale: Locale = DEFAULT_LOCALE
    time_zone: str = DEFAULT_TIME_ZONE


class TagsUpdate(BaseModel):
    tags: list[Tag] = Field(min_length=1, max_length=MAX_TAGS, description="The promoter's tags (replaces them).")

    @field_validator("tags")
    @classmethod
    def _unique(cls, tags: list[str]) -> list[str]:
        if len(set(tags)) != len(tags):
            raise ValueError("tags must be unique")
        return tags


class Task(BaseModel):
    product_id: str
    title: str
    category: str
    price_minor: int
    currency: str
    image_url: str | None = None
    reward: RewardRule = Field(description="The best-paying rule among the promoter's tags.")
    estimated_commission_minor: int = Field(description="What one sale at list price pays this promoter.")
    score: float = Field(description="The ranking score of the requested sort (global g, personal p or combined c).")


class TaskPage(BaseModel):
    items: list[Task]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end.")


class Link(BaseModel):
    link_id: str
    code: str
    url: str = Field(description="The public tracking URL `{base}/l/{code}`.")
    product_id: str
    created_at: str


class ShareCreate(BaseModel):
    channel: Channel


class Share(BaseModel):
    share_id: str
    link_id: str
    channel: Channel
    share_url: str = Field(description="The tracking URL with the channel marker: `{base}/l/{code}?ch={channel}`.")
    created_at: str
    channel_task_offer: ChannelTaskView | None = Field(
        default=None, description="The channel bonus task offered on this channel, if an admin defined one."
    )
