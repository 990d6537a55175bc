"""The front door does not shut the page out: from http://127.0.0.1:<port> and from
http://localhost:<port> the dashboard loads, trains a run (a same-origin POST) and streams it."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import open_dashboard, wait_status

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_page_trains_and_streams_from_either_loopback_name(browser: Any, live_server: Any,
                                                               host: str) -> None:  # fmt: skip
    origin = f"http://{host}:{live_server.port}"
    context = browser.new_context(base_url=origin)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)  # fmt: skip
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        open_dashboard(page, "/fit/sin?hidden=8&epochs=300&samples=100")
        page.click("#train")
        wait_status(page, "finished")
        points = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('.js-plotly-plot')]"
            ".map(gd => (gd.data || []).reduce((n, trace) => n + (trace.x ? trace.x.length : 0),"
            " 0)))"
        )
        assert points > 0
        assert errors == []
    finally:
        context.close()
    runs = live_server.app.extensions["runs"].runs()
    assert runs and runs[-1].status == "finished"
