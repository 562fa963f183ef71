"""Notifications: the in-app inbox of promoters and merchants, marking read, and delivery preferences."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import notifications
from tuishou.models.notifications import (
    MarkedRead,
    NotificationPage,
    NotificationPreferences,
    NotificationPreferencesView,
)
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]


@app.get("/promoter/notifications", summary="The promoter's inbox, newest first", tags=["notifications"])
def promoter_inbox(limit: Limit = 20, cursor: Cursor = None) -> NotificationPage:
    caller = principal(app, "promoter")
    return notifications.inbox(caller.user_id, limit, cursor)


@app.get("/merchant/notifications", summary="The merchant's inbox, newest first", tags=["notifications"])
def merchant_inbox(limit: Limit = 20, cursor: Cursor = None) -> NotificationPage:
    caller = principal(app, "merchant")
    return notifications.inbox(caller.user_id, limit, cursor)


@app.post(
    "/me/notifications/<notification_id>/read",
    summary="Mark one of the caller's notifications read",
    tags=["notifications"],
)
def mark_read(notification_id: Annotated[str, Path(max_length=40)]) -> MarkedRead:
    caller = principal(app)
    notifications.mark_read(caller.user_id, notification_id)
    return MarkedRead(notification_id=notification_id)


@app.get("/me/notification-preferences", summary="The caller's delivery channels", tags=["notifications"])
def get_preferences() -> NotificationPreferencesView:
    caller = principal(app)
    return notifications.preferences(caller.user_id)


@app.put(
    "/me/notification-preferences",
    summary="Choose delivery channels, per kind, and quiet hours (inapp is always on)",
    tags=["notifications"],
)
def put_preferences(body: NotificationPreferences) -> NotificationPreferencesView:
    caller = principal(app)
    return notifications.set_preferences(caller.user_id, list(body.channels), body.kinds, body.quiet_hours)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
