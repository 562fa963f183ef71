"""Browser tests of the web console (``make e2e``; not part of ``make test``): Playwright drives Debian's
``chromium`` (no browser download) against the local stack served over HTTP on a free loopback port, the
stack ``make local`` runs, reset before each test like every other test's. A failing test leaves a
screenshot of every console page it visited, and of each open tab, in ``.local/e2e-screenshots/``."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tools import template
from tools.local_stack import LocalStack, serve

SCREENSHOTS = template.ROOT / ".local" / "e2e-screenshots"


@pytest.fixture(scope="session")
def console_base(provisioned_stack: LocalStack) -> Iterator[str]:
    """The gateway on HTTP (API, ``/_local`` routes and ``/console``) for the whole session."""
    assert provisioned_stack.gateway is not None
    server = serve(provisioned_stack.gateway, 0)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("no chromium on PATH: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Console:
    """One browser tab on the console, keeping a screenshot of each console page it showed."""

    page: Any
    base: str
    visited: list[tuple[str, bytes]] = field(default_factory=list)

    def open(self, route: str = "") -> None:
        self.page.goto(f"{self.base}/console/{route}")

    def go(self, route: str, ready: str = "main h1") -> None:
        """A console page by its hash route (``products``, ``admin/reviews``...), once ``ready`` shows."""
        self.page.evaluate("route => { location.hash = '#/' + route; }", route)
        self.page.wait_for_selector(ready)
        self.remember(route)

    def remember(self, name: str) -> None:
        self.visited.append((name, self.page.screenshot(full_page=True)))

    def sign_in(self, username: str, role: str) -> dict[str, str]:
        """Local sign-in (a user made through POST /_local/users); returns what the tab keeps of the user."""
        if self.page.url.startswith(self.base):  # whoever was signed in this tab signs out first
            self.page.evaluate("sessionStorage.removeItem('tuishou.session')")
        self.open()
        form = self.page.get_by_test_id("sign-in")
        form.locator("[name=username]").fill(username)
        form.locator("[name=role]").select_option(role)
        form.locator("button[type=submit]").click()
        self.page.wait_for_selector("#sign-out:not([hidden])")
        users = self.page.evaluate("JSON.parse(sessionStorage.getItem('tuishou.local-users'))")
        return next(u for u in users if u["username"].startswith(username))


@pytest.fixture
def console(request: pytest.FixtureRequest, browser: Any, console_base: str, stack: LocalStack) -> Iterator[Console]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    tab = Console(context.new_page(), console_base)
    errors: list[str] = []
    tab.page.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    report = getattr(request.node, "call_report", None)
    if report is not None and report.failed:
        _save_screenshots(request.node.name, tab, context)
    context.close()
    assert not errors, f"script errors in the console: {errors}"


def _file_name(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text)


def _save_screenshots(test_name: str, tab: Console, context: Any) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = _file_name(test_name)
    for number, (name, png) in enumerate(tab.visited):
        (SCREENSHOTS / f"{stem}-{number:02d}-{_file_name(name)[:60]}.png").write_bytes(png)
    for number, page in enumerate(context.pages):
        page.screenshot(path=str(SCREENSHOTS / f"{stem}-open-{number}.png"), full_page=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keeps the test's own outcome on the item, for the ``console`` fixture's teardown."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.call_report = report  # type: ignore[attr-defined]
