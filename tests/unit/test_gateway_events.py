"""The local gateway builds each route's event in the shape its API sends: payload v2 for the HTTP API's
routes (the public redirect), the REST v1 proxy event for the REST API's."""

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, APIGatewayProxyEventV2

from tools import template
from tools.gateway import proxy_event


def _route(method: str, path: str) -> template.Route:
    [route] = [r for r in template.routes() if (r.method, r.path) == (method, path)]
    return route


def test_the_redirect_is_an_http_api_route_and_the_rest_are_rest_api_routes():
    # Given the template's routes, then only the public redirect is on the HTTP API (payload v2)
    v2 = {(r.method, r.path) for r in template.routes() if r.payload_version == template.HTTP_API_PAYLOAD}
    assert v2 == {("GET", "/l/{code}")}
    assert _route("GET", "/l/{code}").public


def test_an_http_api_route_gets_a_payload_v2_event():
    # Given a browser request with repeated markers, mixed-case headers and cookies
    route = _route("GET", "/l/{code}")
    headers = {"User-Agent": "Mozilla/5.0 (test)", "Accept": "text/html", "Cookie": "a=1; b=2", "X-Forwarded-For": "1"}
    query = {"ch": ["wechat", "qq"], "utm": [""]}
    # When the gateway builds its event
    raw_query = "ch=wechat&ch=qq&utm="
    raw = proxy_event(route, "/l/abc23456", {"code": "abc23456"}, query, headers, b"", None, "local", raw_query)
    event = APIGatewayProxyEventV2(raw)
    # Then it reads as API Gateway's payload v2 on the $default stage
    assert event.version == "2.0"
    assert event.route_key == raw["requestContext"]["routeKey"] == "GET /l/{code}"
    assert (event.raw_path, event.path, event.http_method) == ("/l/abc23456", "/l/abc23456", "GET")
    assert event.raw_query_string == "ch=wechat&ch=qq&utm="
    assert event.path_parameters == {"code": "abc23456"}
    # And repeated query parameters are joined by commas, which Powertools splits back into lists
    assert event.query_string_parameters == {"ch": "wechat,qq", "utm": ""}
    assert event.resolved_query_string_parameters == {"ch": ["wechat", "qq"], "utm": [""]}
    # And header names are lower-cased, the cookie header moved to `cookies`
    assert set(raw["headers"]) == {"user-agent", "accept", "x-forwarded-for"}
    assert event.cookies == ["a=1", "b=2"]
    # And the request context carries the caller, the request id and the time
    context = event.request_context
    assert (context.http.method, context.http.path, context.http.protocol) == ("GET", "/l/abc23456", "HTTP/1.1")
    assert (context.http.source_ip, context.http.user_agent) == ("127.0.0.1", "Mozilla/5.0 (test)")
    assert context.request_id and context.time and context.time_epoch > 0
    assert (context.stage, context.route_key) == ("$default", "GET /l/{code}")
    assert event.is_base64_encoded is False and event.body is None
    # And nothing of the REST payload is there
    assert not {"httpMethod", "resource", "multiValueHeaders", "multiValueQueryStringParameters"} & set(raw)


def test_an_http_api_event_without_query_or_body_leaves_those_keys_out():
    # Given a request without query, cookies or body, whose raw query the caller did not give
    raw = proxy_event(_route("GET", "/l/{code}"), "/l/abc23456", {"code": "abc23456"}, {}, {}, b"", None)
    # Then the optional keys are absent, as API Gateway leaves them, and the raw query string is empty
    assert not {"queryStringParameters", "cookies", "body"} & set(raw)
    assert raw["rawQueryString"] == "" and raw["headers"] == {}


def test_a_rest_api_route_still_gets_a_v1_proxy_event():
    # Given a REST API route, then its event is the REST proxy event Powertools' v1 data class reads
    raw = proxy_event(_route("GET", "/me"), "/me", {}, {"x": ["1", "2"]}, {"User-Agent": "app"}, b"", None)
    event = APIGatewayProxyEvent(raw)
    assert (event.http_method, event.resource, event.path) == ("GET", "/me", "/me")
    assert event.multi_value_query_string_parameters == {"x": ["1", "2"]}
    assert event.request_context.identity.user_agent == "app"
