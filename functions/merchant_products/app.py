"""Merchants' products: publish (POST /merchant/products), list with counters (GET /merchant/products),
replace reward rules, change the holding and attribution periods, pause and resume."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import products
from tuishou.models.tasks import Product, ProductCreate, ProductList, ProductSettings, RewardRulesBody
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, created, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()
TAGS = ["merchant products"]


@app.post(
    "/merchant/products",
    summary="Publish a product to promote",
    tags=TAGS,
    responses={201: {"description": "Created", "content": {"application/json": {"model": Product}}}},
)
def create_product(body: ProductCreate):  # noqa: ANN201 - a Response; its schemas are in `responses`
    merchant = principal(app, "merchant")
    return created(products.create_product(merchant.user_id, body))


@app.get("/merchant/products", summary="The caller's products with their counters, newest first", tags=TAGS)
def list_products(
    limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: Annotated[str | None, Query(max_length=1024)] = None
) -> ProductList:
    merchant = principal(app, "merchant")
    return products.list_products(merchant.user_id, limit, cursor)


@app.put("/merchant/products/<product_id>/reward-rules", summary="Replace a product's reward rules", tags=TAGS)
def replace_reward_rules(product_id: str, body: RewardRulesBody) -> Product:
    merchant = principal(app, "merchant")
    return products.replace_reward_rules(merchant.user_id, product_id, body.reward_rules)


@app.patch(
    "/merchant/products/<product_id>",
    summary="Change a product's holding period or attribution window (applies to sales from now on)",
    tags=TAGS,
)
def change_product_settings(product_id: str, body: ProductSettings) -> Product:
    merchant = principal(app, "merchant")
    return products.change_settings(merchant.user_id, product_id, body)


@app.post("/merchant/products/<product_id>/pause", summary="Pause a product (its links answer 410)", tags=TAGS)
def pause_product(product_id: str) -> Product:
    merchant = principal(app, "merchant")
    return products.set_status(merchant.user_id, product_id, "paused")


@app.post("/merchant/products/<product_id>/resume", summary="Resume a paused product", tags=TAGS)
def resume_product(product_id: str) -> Product:
    merchant = principal(app, "merchant")
    return products.set_status(merchant.user_id, product_id, "active")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
