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


# Each card's box in the page's coordinates.
CARDS = """() => Object.fromEntries(['loss-card', 'network-card', 'accuracy-card', 'fit-card']
  .map((name) => [name, document.querySelector('.' + name)])
  .filter(([, card]) => card && card.offsetParent)
  .map(([name, card]) => { const r = card.getBoundingClientRect();
    return [name, { right: r.right, top: r.top + scrollY, bottom: r.bottom + scrollY }]; }))"""


@pytest.mark.parametrize("task", ["sin", "moons"])
def test_the_backprop_tab_stays_under_the_pointer_and_leaves_no_hole(
    page: Any, live_server: Any, task: str
) -> None:
    page.set_viewport_size(WIDE)
    open_dashboard(page, f"/fit/{task}")
    tab = page.locator("#backprop-tab")
    tab.scroll_into_view_if_needed()
    before = tab.bounding_box()["y"]
    tab.click()
    page.locator("#backprop-panel").wait_for(state="visible")
    after = tab.bounding_box()["y"]
    # what was clicked stays on screen, near where it was (exactly, where the page can scroll
    # so far: a short page cannot scroll a moons' panel all the way up)
    assert 0 <= after <= WIDE["height"] - 40, (before, after)
    assert abs(after - before) < 200, (before, after)
    cards = page.evaluate(CARDS)
    page_right = max(card["right"] for card in cards.values())
    for name, card in cards.items():  # nothing sits alone on a row with room beside it
        beside = [
            other for other_name, other in cards.items()
            if other_name != name and other["top"] < card["bottom"]
            and card["top"] < other["bottom"]
        ]  # fmt: skip
        if not beside:
            assert card["right"] >= page_right - 1, (name, cards)
    page.locator("#network-tab").click()  # and back: the tabs stay on screen
    assert 0 <= tab.bounding_box()["y"] <= WIDE["height"] - 40
