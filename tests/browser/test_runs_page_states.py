"""Lists of runs that say what they hold (fresh users' findings). The runs page's table when it
holds no run (it was empty alike while loading, with nothing to read and with the server gone):
no runs yet, none matching the filters, a server that does not answer while it asks again. The
dashboard's list of the task's runs follows the watched run's status as the status line does,
not at its next poll. A link names a run by its short id too, and an unknown one is said so."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import ended_run, open_dashboard, wait_status

pytestmark = pytest.mark.browser


def empty_text(page: Any, text: str) -> None:
    page.wait_for_function(
        """text => { const row = document.querySelector('#runs-body tr.runs-empty');
                     return row && row.textContent === text; }""",
        arg=text,
        timeout=20_000,
    )


def test_the_runs_table_says_why_it_is_empty(page: Any, live_server: Any, problems: Any) -> None:
    page.goto("/runs")
    empty_text(page, "No runs yet: press Train on the dashboard.")
    assert page.inner_text("#runs-count") == "0 of 0 runs"
    span = page.eval_on_selector("#runs-body tr.runs-empty td", "td => td.colSpan")
    assert span == page.eval_on_selector_all("#runs-table thead th", "ths => ths.length")

    ended_run(live_server, {"task": "sin", "samples": 100, "epochs": 5})
    page.wait_for_selector("tr[data-run-id]", timeout=20_000)  # the list is asked for again
    assert page.query_selector("#runs-body tr.runs-empty") is None
    page.fill("#filter-text", "no run is called this")
    empty_text(page, "No run matches the filters.")

    problems.allow_console("ERR_CONNECTION_REFUSED|Failed to fetch|Failed to load resource")
    live_server.stop()  # the server is gone: the page says so, and keeps asking
    page.wait_for_function(
        "() => document.getElementById('runs-count').textContent.startsWith("
        "'The runs could not be read (no answer): trying again every')",
        timeout=20_000,
    )


def test_the_dashboards_run_list_follows_the_watched_runs_status(page: Any) -> None:
    # the list's poll (every 3 s) is switched off: only the run's own news may refresh it
    page.add_init_script(
        "const every = window.setInterval; window.setInterval = (f, ms, ...rest) =>"
        " ms === 3000 ? 0 : every(f, ms, ...rest);"
    )
    open_dashboard(page, "/fit/sin?epochs=100000&speed=20", full_speed=False)
    page.click("#train")
    wait_status(page, "running")
    run_id = page.evaluate("window.studio.state.runId")
    item = f'#task-runs-list a[data-run-id="{run_id}"]'
    page.wait_for_function(f"document.querySelector('{item}')?.textContent.includes('running')")
    page.click("#stop")
    wait_status(page, "stopped")
    page.wait_for_function(f"document.querySelector('{item}')?.textContent.includes('stopped')")


def test_a_link_with_the_short_id_opens_the_run_and_an_unknown_one_says_so(
    page: Any, live_server: Any
) -> None:
    """A fresh user's finding: /fit/sin?run=<the 8 characters the runs page shows> stayed
    'queued' for ever, and an unknown id fell back to an idle page without a word."""
    ended = ended_run(live_server, {"task": "sin", "samples": 100, "epochs": 5})
    open_dashboard(page, f"/fit/sin?run={ended['id'][:8]}")
    wait_status(page, "finished")
    assert page.evaluate("window.studio.state.runId") == ended["id"]
    assert f"run={ended['id']}" in page.url

    open_dashboard(page, "/fit/sin?run=deadbeef0000")
    page.wait_for_function(
        "() => document.body.innerText.includes('The server has no run deadbeef0000')"
    )
    # too short to tell: the server's reason (a second fresh user read "deleted" for it)
    open_dashboard(page, f"/fit/sin?run={ended['id'][:5]}")
    page.wait_for_function(
        "() => document.body.innerText.includes('a short id needs at least 6 characters')"
    )
