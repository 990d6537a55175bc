"""A fresh user's findings on the form's errors, in a real browser: an error under a field is
seen (not under the field's hint tooltip, not scrolled under the Train bar); layer sizes are
checked as they are typed, with the schema's limits."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import get_json, open_dashboard, wait_status

pytestmark = pytest.mark.browser

WIDE = {"width": 1400, "height": 900}  # the user's window

# Whether element `id` shows text that nothing covers: the topmost element at its centre and at
# its first line's middle is the element or inside it ("" when seen, else what is there). Hint
# tooltips let the mouse through (pointer-events: none), which hit tests skip: they are made
# hittable first, so that one covering the message counts.
COVERED = """(id) => {
  if (!document.getElementById('tips-hittable')) {
    const style = document.createElement('style');
    style.id = 'tips-hittable';
    style.textContent = '.hint.tip { pointer-events: auto !important; }';
    document.head.append(style);
  }
  const box = document.getElementById(id);
  if (!box || !box.textContent.trim()) return 'no message';
  const r = box.getBoundingClientRect();
  for (const y of [r.top + r.height / 2, r.top + Math.min(8, r.height / 2)]) {
    const hit = document.elementFromPoint(r.left + r.width / 2, y);
    if (!hit) return 'off screen';
    if (!box.contains(hit)) return hit.id || hit.className || hit.tagName;
  }
  return '';
}"""


def wait_error(page: Any, field: str, text: str) -> None:
    """Wait until field `field`'s error message contains `text`."""
    page.wait_for_function(
        "([field, text]) => document.getElementById('error-' + field).textContent.includes(text)",
        arg=[field, text],
    )


def uncovered(page: Any, error_id: str) -> None:
    try:
        page.wait_for_function(f"({COVERED})('{error_id}') === ''", timeout=5_000)
    except Exception:
        raise AssertionError(
            f"{error_id} is covered by: {page.evaluate(f'({COVERED})', error_id)}"
        ) from None


def test_a_layer_error_is_not_under_the_hint_tooltip(page: Any, live_server: Any) -> None:
    page.set_viewport_size(WIDE)
    open_dashboard(page, "/fit/sin")
    page.fill("#hidden-0", "abc")
    page.click("#train")
    wait_error(page, "hidden", "Layer 1")
    assert page.evaluate("document.activeElement.id") == "hidden-0"  # its tooltip shows
    uncovered(page, "error-hidden")


def test_the_epochs_budget_error_is_not_under_the_hint_tooltip(
    page: Any, live_server: Any, problems: Any
) -> None:
    problems.allow_console("status of 400")  # the server refuses the run
    page.set_viewport_size(WIDE)
    open_dashboard(page, "/fit/sin?hidden=1024,1024,1024,1024")
    page.fill("#epochs", "100000")
    page.fill("#samples", "100000")
    page.click("#train")
    page.wait_for_function("document.getElementById('error-epochs').textContent.length > 0")
    page.focus("#epochs")
    uncovered(page, "error-epochs")


def test_a_refused_live_learning_rate_is_not_under_the_train_bar(
    page: Any, live_server: Any
) -> None:
    page.set_viewport_size(WIDE)
    open_dashboard(page, "/fit/sin?epochs=100000&epochs_per_second=20", full_speed=False)
    page.click("#train")
    wait_status(page, "running")
    page.fill("#lr", "-5")
    page.press("#lr", "Tab")
    page.wait_for_function("document.getElementById('error-lr').textContent.length > 0")
    page.focus("#lr")
    uncovered(page, "error-lr")
    # the form scrolled away since (or shrank as the runs list grew): taking the field up again
    page.evaluate("document.querySelector('.config').scrollTop = 0")
    page.focus("#train")
    page.focus("#lr")
    uncovered(page, "error-lr")
    page.click("#stop")
    wait_status(page, "stopped")
    assert get_json(live_server, "/api/runs")


def layer_limits(server: Any) -> tuple[int, int]:
    """The schema's fewest and most neurons of a hidden layer (the page holds no copy)."""
    items = get_json(server, "/api/schema")["properties"]["hidden"]["items"]
    return items["minimum"], items["maximum"]


def test_a_layer_size_over_the_limit_is_refused_as_it_is_typed(page: Any, live_server: Any) -> None:
    _, most = layer_limits(live_server)
    open_dashboard(page, "/fit/sin?hidden=32,32")
    page.wait_for_function("window.studio.network.structureKey?.startsWith('1,32,32,1')")
    page.fill("#hidden-0", str(most * 100))  # no Train pressed
    wait_error(page, "hidden", "Layer 1")
    message = page.text_content("#error-hidden")
    assert f"{most:,}" in message
    assert page.get_attribute("#hidden-0", "aria-invalid") == "true"
    assert page.get_attribute("#hidden-1", "aria-invalid") is None
    # the preview keeps the last sizes that were fine, not the refused one
    assert page.evaluate("window.studio.network.structureKey").startswith("1,32,32,1")
    page.fill("#hidden-0", str(most))  # fixed: the message goes, the preview follows
    page.wait_for_function("document.getElementById('error-hidden').textContent === ''")
    page.wait_for_function(f"window.studio.network.structureKey.startsWith('1,{most},32,1')")
    assert page.get_attribute("#hidden-0", "aria-invalid") is None


def test_a_layer_size_that_is_not_a_number_is_refused_as_it_is_typed(
    page: Any, live_server: Any
) -> None:
    fewest, most = layer_limits(live_server)
    open_dashboard(page, "/fit/sin?hidden=32,32")
    page.fill("#hidden-1", "abc")
    wait_error(page, "hidden", "Layer 2")
    assert f"{fewest} to {most:,}" in page.text_content("#error-hidden")
    # not dropped from the preview
    assert page.evaluate("window.studio.network.structureKey").startswith("1,32,32,1")
    page.fill("#hidden-1", "")  # a blank one waits until the field is left
    assert page.text_content("#error-hidden").startswith("Layer 2")
    page.fill("#hidden-1", "8")
    page.wait_for_function("document.getElementById('error-hidden').textContent === ''")


def test_a_link_with_a_bad_layer_size_says_so(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin?hidden=abc,32")
    wait_error(page, "hidden", "Layer 1")
    assert page.get_attribute("#hidden-0", "aria-invalid") == "true"


@pytest.mark.parametrize(("task", "inputs"), [("sin", "x"), ("saddle", "x, y")])
def test_the_features_example_uses_the_tasks_inputs_and_trains(
    page: Any, live_server: Any, task: str, inputs: str
) -> None:
    open_dashboard(page, f"/fit/{task}?epochs=2")
    example = page.get_attribute("#custom-features", "placeholder")
    assert ("y" in example) == ("y" in inputs), example
    page.fill("#custom-features", example)  # copied as it stands: a run starts
    page.click("#train")
    wait_status(page, "finished")
    assert page.text_content("#error-input_features") == ""
