"""The web console's sources agree with the rest of the repository: both dictionaries have every key the
pages use, the currency exponents are those of ``tuishou.money``, and every API path it calls is a route of
template.yaml or of the routes other parts are building (docs/console.md)."""

from __future__ import annotations

import json
import re

from tools import template
from tuishou.money import CURRENCY_EXPONENT

CONSOLE = template.ROOT / "console"
SOURCES = {path.name: path.read_text() for path in sorted((CONSOLE / "js").glob("*.js"))}
DICTIONARIES = {path.stem: json.loads(path.read_text()) for path in sorted((CONSOLE / "i18n").glob("*.json"))}
# Keys built at run time from a value: each prefix with the values it takes.
DYNAMIC_KEYS = {
    "status.": [
        "active",
        "paused",
        "open",
        "approved",
        "declined",
        "requested",
        "sending",
        "paid",
        "failed",
        "compensated",
        "flagged",
    ],
    "kind.": ["raise_reward_hint", "low_performance"],
    "role.": ["merchant", "admin", "promoter"],
    "account.": ["pending_minor", "available_minor", "in_payout_minor", "paid_minor"],
    "nav.": [
        "products",
        "inbox",
        "account",
        "payouts",
        "statements",
        "promoters",
        "templates",
        "reviews",
        "faults",
        "compensations",
        "payments",
        "audit",
    ],
}
# Routes the console calls that other parts add (payouts, product settings, reviews), not yet in every checkout.
ROUTES_BUILT_ELSEWHERE = {
    ("PATCH", "/merchant/products/{}"),
    ("GET", "/{}/payouts"),
    ("POST", "/{}/payouts"),
    ("PUT", "/{}/payout-method"),
    ("GET", "/admin/payouts"),
    ("GET", "/admin/reviews"),
    ("POST", "/admin/reviews/{}/approve"),
    ("POST", "/admin/reviews/{}/decline"),
}
# Paths whose last part is a value (`/merchant/products/${id}/${action}`), with the routes they become.
ACTIONS = {"/merchant/products/{}/{}": ["/merchant/products/{}/pause", "/merchant/products/{}/resume"]}
CALL = re.compile(r"api\.(get|post|put|patch)\(\s*[`\"]([^`\"]+)[`\"]")


def test_both_languages_have_the_same_keys_and_every_key_the_pages_use():
    # Given the keys the pages ask for, literal and built from a value
    used = {key for text in SOURCES.values() for key in re.findall(r"\bt\(\"([a-z_.]+)\"", text)}
    used |= {prefix + value for prefix, values in DYNAMIC_KEYS.items() for value in values}
    # Then English and Chinese both have exactly the same keys, which include every used one
    assert set(DICTIONARIES) == {"en", "zh-CN"}
    assert set(DICTIONARIES["en"]) == set(DICTIONARIES["zh-CN"])
    assert used - set(DICTIONARIES["en"]) == set()
    assert [key for key in used if not DICTIONARIES["en"][key].strip() or not DICTIONARIES["zh-CN"][key].strip()] == []


def test_currency_exponents_are_those_of_the_money_module():
    # Given the table in console/js/money.js
    body = re.search(r"CURRENCY_EXPONENT = \{(.*?)\};", SOURCES["money.js"], re.S)
    assert body is not None
    exponents = {code: int(places) for code, places in re.findall(r"([A-Z]{3}): (\d)", body.group(1))}
    # Then it is tuishou.money's, currency for currency
    assert exponents == CURRENCY_EXPONENT


def test_every_api_path_the_console_calls_is_a_route():
    # Given the template's routes with their parameters as {}
    routes = {(route.method, re.sub(r"\{[^}]+\}", "{}", route.path)) for route in template.routes()}
    # When the console's calls are read ("/merchant/products/${id}/pause" -> "/merchant/products/{}/pause")
    calls = {
        (method.upper(), expanded)
        for text in SOURCES.values()
        for method, path in CALL.findall(text)
        for expanded in ACTIONS.get(re.sub(r"\$\{[^}]+\}", "{}", path), [re.sub(r"\$\{[^}]+\}", "{}", path)])
    }
    assert len(calls) > 20
    # Then each is a route, or one of those other parts add
    assert calls - routes - ROUTES_BUILT_ELSEWHERE == set()
