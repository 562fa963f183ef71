from tools import openapi


def test_committed_openapi_document_is_current():
    # The document /swagger serves is generated from the handlers; it must match them.
    assert openapi.DOCUMENT.read_text(encoding="utf-8") == openapi.render(), "run `make openapi`"


def test_every_template_route_is_documented_with_errors():
    from tools import template

    document = openapi.build()
    for route in template.routes():
        if route.path == "/swagger":
            continue
        operation = document["paths"][route.path][route.method.lower()]
        assert "422" in operation["responses"]
        assert ("security" in operation) is (not route.public), route
