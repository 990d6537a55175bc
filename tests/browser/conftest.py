"""Playwright fixtures: Debian's Chromium driven headless, with every test failing on a console
error, a page error or a request to any host but the app.

The tests skip when Playwright or Chromium is missing, unless ``REQUIRE_BROWSER=1`` (CI), in which
case they fail. Never run ``playwright install``: we drive /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as error:  # pragma: no cover - depends on the machine
            _unavailable(f"Chromium did not start: {error}")
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """What went wrong in the page: console errors, uncaught exceptions, foreign requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow_console(self, pattern: str) -> None:
        """Tolerate console errors matching `pattern` (e.g. the 404 of a page that is one)."""
        self.allowed.append(re.compile(pattern))

    def unexpected_console_errors(self) -> list[str]:
        return [m for m in self.console_errors if not any(p.search(m) for p in self.allowed)]


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Remember each phase's report on the item, so fixtures know whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, live_server: Any, problems: PageProblems, request: pytest.FixtureRequest):
    """A fresh page (1280x800) on the live server; fails the test on any problem it saw.

    Every request goes through a route: the app's own origin passes, anything else is aborted
    and recorded. On failure a screenshot lands in tests/browser/screenshots/.
    """
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
    page = context.new_page()
    origin = live_server.url

    def route(route: Any) -> None:
        url = route.request.url
        if url == origin or url.startswith(origin + "/"):
            route.continue_()
        else:
            problems.foreign_requests.append(url)
            route.abort()

    page.route("**/*", route)
    page.on(
        "console",
        lambda message: problems.console_errors.append(message.text)
        if message.type == "error"
        else None,
    )
    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
    page.set_default_timeout(20_000)
    yield page
    report = getattr(request.node, "report_call", None)
    troubled = (
        problems.page_errors or problems.unexpected_console_errors() or problems.foreign_requests
    )
    if (report is not None and report.failed) or troubled:
        SCREENSHOTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
        except Exception:  # pragma: no cover - a crashed page cannot be photographed
            pass
    context.close()
    assert not problems.page_errors, f"uncaught errors in the page: {problems.page_errors}"
    unexpected = problems.unexpected_console_errors()
    assert not unexpected, f"console errors: {unexpected}"
    assert not problems.foreign_requests, f"requests to other hosts: {problems.foreign_requests}"
