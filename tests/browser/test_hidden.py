"""Elements the page marks hidden are not shown, whatever their class's display rule."""

from __future__ import annotations

from typing import Any

from browser_helpers import open_dashboard, wait_status


def test_nothing_marked_hidden_is_displayed_and_a_running_run_is_not_called_interrupted(
    page: Any,
) -> None:
    open_dashboard(page, "/fit/sin?epochs=100000&speed=20", full_speed=False)
    page.click("#train")
    wait_status(page, "running")
    page.wait_for_function("document.querySelector('#task-runs-list li')")  # the list polled
    assert not page.is_visible("#interrupted-banner")
    shown = page.evaluate(
        "[...document.querySelectorAll('[hidden]')]"
        ".filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.id || e.className)"
    )
    assert shown == []
    page.click("#stop")
