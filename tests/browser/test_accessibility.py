"""axe-core finds no violation on any page, light and dark.

axe-core is injected by the test only (from the axe-playwright-python package, a test
dependency): the app never serves it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import ended_run, open_dashboard, wait_status

pytestmark = pytest.mark.browser


def axe_source() -> str:
    axe = pytest.importorskip("axe_playwright_python")
    return (Path(axe.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def violations(page: Any) -> list[str]:
    """axe-core's violations on the page as it is now: "rule: target, ..." per rule."""
    page.add_script_tag(content=axe_source())
    found = page.evaluate(
        """() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(
             v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`))"""
    )
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["/fit/sin", "/fit/saddle", "/fit/moons"])
def test_the_dashboard_has_no_axe_violation(page: Any, path: str, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    open_dashboard(page, path)
    page.wait_for_function("document.getElementById('loss-chart').layout")
    assert violations(page) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_watched_run_has_no_axe_violation(page: Any, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    open_dashboard(page, "/fit/sin?epochs_per_second=20", full_speed=False)
    page.fill("#epochs", "100000")
    page.click("#train")
    wait_status(page, "running")
    assert violations(page) == []
    page.click("#stop")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_404_page_has_no_axe_violation(page: Any, problems: Any, scheme: str) -> None:
    problems.allow_console(r"status of 404")
    page.emulate_media(color_scheme=scheme)
    page.goto("/fit/nope")
    assert violations(page) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_runs_page_with_two_runs_compared_has_no_axe_violation(
    page: Any, live_server: Any, scheme: str
) -> None:
    ids = [ended_run(live_server, {"task": "bowl", "samples": 200, "epochs": 30, "lr": lr})["id"]
           for lr in (0.01, 0.1)]  # fmt: skip
    page.emulate_media(color_scheme=scheme)
    page.goto("/runs")
    page.wait_for_function("document.querySelectorAll('tr[data-run-id]').length >= 2")
    assert violations(page) == []  # nothing compared yet: the charts are empty
    for run_id in ids:
        page.locator(f'tr[data-run-id="{run_id}"] input.select-run').check()
    page.wait_for_function("(document.getElementById('overlay-loss').data || []).length >= 2")
    assert violations(page) == []
