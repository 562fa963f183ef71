"""The generated OpenAPI document (``openapi.json`` beside this module) and the Swagger UI page."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_DOCUMENT = Path(__file__).with_name("openapi.json")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Tuishou API - Swagger UI</title>
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "%s", dom_id: "#swagger-ui", deepLinking: true});
  </script>
  <noscript>Tuishou API: the OpenAPI document is at <a href="%s">%s</a>.</noscript>
</body>
</html>
"""


@cache
def openapi_json() -> str:
    return _DOCUMENT.read_text(encoding="utf-8")


def swagger_html(spec_url: str) -> str:
    return _PAGE % (spec_url, spec_url, spec_url)
