"""The access token in Chromium (issue 31): the address the server prints opens the dashboard,
the token leaves the address bar, a reload works from the session cookie and the page's socket
streams a run; without the token a login page takes it."""

from __future__ import annotations

from typing import Any

import pytest

TOKEN = "browser-test-token"
READY = "window.studio && window.studio?.state.task !== null"


@pytest.fixture
def live_server(make_live_server: Any) -> Any:
    """The page fixture's server, with an access token."""
    return make_live_server({"ACCESS_TOKEN": TOKEN})


def test_the_printed_address_opens_the_dashboard_and_a_reload_keeps_it(
    page: Any, live_server: Any
) -> None:
    page.goto(f"/fit/sin?token={TOKEN}&speed=full")
    page.wait_for_function(READY)
    assert page.url.startswith(f"{live_server.url}/fit/sin?")  # the page keeps its config there
    assert "token" not in page.url  # ... but the token left the address bar
    page.click("#train")  # the page's API calls and its socket go with the cookie
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    page.reload()
    page.wait_for_function(READY)
    assert page.locator("#token").count() == 0  # no login page: the cookie


def test_without_the_token_a_login_page_takes_it(page: Any, live_server: Any,
                                                 problems: Any) -> None:  # fmt: skip
    problems.allow_console("401")  # the login page itself is a 401
    page.goto("/runs")
    page.fill("#token", "wrong")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/runs")
    assert page.locator("#token").count() == 0
