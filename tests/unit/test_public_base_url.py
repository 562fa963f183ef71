"""Tracking links point at the configured public URL, else at the API URL the request came in on."""

from tuishou import config


def test_configured_url_wins(monkeypatch):
    monkeypatch.setenv("TUISHOU_PUBLIC_BASE_URL", "https://go.example.com/")
    config.remember_request_base_url("https://abc.execute-api.us-east-1.amazonaws.com/prod")
    assert config.public_base_url() == "https://go.example.com"


def test_without_configuration_the_request_url_is_used(monkeypatch):
    monkeypatch.setenv("TUISHOU_PUBLIC_BASE_URL", "")
    config.remember_request_base_url("https://abc.execute-api.us-east-1.amazonaws.com/prod")
    assert config.public_base_url() == "https://abc.execute-api.us-east-1.amazonaws.com/prod"


def test_the_resolver_remembers_the_request_url(monkeypatch):
    # Given an API Gateway event for a deployed stage
    from tests.helpers.events import api_event, context
    from tuishou.rest import build_resolver

    monkeypatch.setenv("TUISHOU_PUBLIC_BASE_URL", "")
    app = build_resolver()
    seen = {}

    @app.get("/swagger")
    def probe() -> dict:
        seen["url"] = config.public_base_url()
        return {}

    event = api_event("GET", "/swagger")
    event["requestContext"]["domainName"] = "abc.execute-api.us-east-1.amazonaws.com"
    event["requestContext"]["stage"] = "prod"
    # When it is resolved, then the handler sees the request's base URL
    app.resolve(event, context())
    assert seen["url"] == "https://abc.execute-api.us-east-1.amazonaws.com/prod"


def test_an_http_api_request_on_its_default_stage_is_remembered_without_a_stage(monkeypatch):
    # Given an HTTP API payload v2 event on the $default stage (no stage prefix in its URLs)
    from tests.helpers.events import api_event, context
    from tuishou.rest import build_resolver

    monkeypatch.setenv("TUISHOU_PUBLIC_BASE_URL", "")
    app = build_resolver(http_api=True)
    seen = {}

    @app.get("/l/<code>")
    def probe(code: str) -> dict:
        seen["url"] = config.public_base_url()
        return {}

    event = api_event("GET", "/l/abc23456")
    event["requestContext"]["domainName"] = "xyz.execute-api.us-east-1.amazonaws.com"
    # When it is resolved, then the handler sees the API's URL without a stage
    assert app.resolve(event, context())["statusCode"] == 200
    assert seen["url"] == "https://xyz.execute-api.us-east-1.amazonaws.com"
