"""Devices and social accounts: register, list and remove the caller's push devices, bind or unbind the
caller's WeChat account (where subscribe messages go)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import devices
from tuishou.models.devices import (
    DEVICE_ID_PATTERN,
    DeviceList,
    DeviceRegistered,
    DeviceRegistration,
    WechatBinding,
    WechatBindingRequest,
)
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, created, ok, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()
TAGS = ["devices"]


@app.post(
    "/me/devices",
    summary="Register a push device (the same token again is the same device)",
    tags=TAGS,
    responses={
        200: {"description": "Already registered", "content": {"application/json": {"model": DeviceRegistered}}},
        201: {"description": "Registered", "content": {"application/json": {"model": DeviceRegistered}}},
    },
)
def register_device(body: DeviceRegistration):  # noqa: ANN201 - a Response; its schemas are in `responses`
    caller = principal(app)
    device_id, is_new = devices.register(caller.user_id, body.platform, body.token)
    registered = DeviceRegistered(device_id=device_id)
    return created(registered) if is_new else ok(registered)


@app.get("/me/devices", summary="The caller's push devices", tags=TAGS)
def list_devices() -> DeviceList:
    caller = principal(app)
    return devices.devices(caller.user_id)


@app.delete(
    "/me/devices/<device_id>",
    summary="Remove a push device (its endpoint is deleted)",
    tags=TAGS,
    responses={204: {"description": "Removed (or there was none)"}},
)
def delete_device(device_id: Annotated[str, Path(pattern=DEVICE_ID_PATTERN)]):  # noqa: ANN201 - a 204 Response, no body
    caller = principal(app)
    devices.forget(caller.user_id, device_id)
    return Response(status_code=204, body="")


@app.put("/me/social/wechat", summary="Bind the caller's WeChat account (its openid)", tags=TAGS)
def bind_wechat(body: WechatBindingRequest) -> WechatBinding:
    caller = principal(app)
    return devices.bind_wechat(caller.user_id, body.openid)


@app.delete(
    "/me/social/wechat",
    summary="Unbind the caller's WeChat account",
    tags=TAGS,
    responses={204: {"description": "Unbound (or none was bound)"}},
)
def unbind_wechat():  # noqa: ANN201 - a 204 Response, no body
    caller = principal(app)
    devices.unbind_wechat(caller.user_id)
    return Response(status_code=204, body="")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
