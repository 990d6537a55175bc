"""The Backprop view (a tab of the network panel) in Chromium: it steps through forward, backward
and update; a hovered edge shows the API's numbers; Step trains the mini-batch and the view shows
the new weights; a click on a plotted point picks that sample; keyboard only; the worked example;
axe-core clean in light and dark."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from browser_helpers import get_json, open_dashboard, poll
from test_accessibility import violations

pytestmark = pytest.mark.browser

CONFIG = {"task": "sin", "hidden": [6, 5], "activation": "tanh", "optimizer": "sgd",
          "momentum": 0.9, "lr": 0.05, "noise": 0.3, "epochs": 100_000}  # fmt: skip
NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?(?:e[−-]?\d+)?")


def post(server: Any, path: str, body: dict) -> Any:
    request = urllib.request.Request(
        server.url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.load(response)


def numbers(text: str) -> list[float]:
    return [float(found.replace("−", "-")) for found in NUMBER.findall(text)]


@pytest.fixture
def paused(live_server: Any) -> str:
    """A run paused after a few epochs (its weights stay put while the page looks)."""
    run_id = post(live_server, "/api/runs", CONFIG)["id"]
    poll(lambda: get_json(live_server, f"/api/runs/{run_id}")["epoch"] >= 3, 30, "3 epochs")
    assert post(live_server, f"/api/runs/{run_id}/pause", {})["status"] == "paused"
    return run_id


def open_view(page: Any, run_id: str) -> None:
    open_dashboard(page, f"/fit/sin?run={run_id}")
    page.click("#backprop-tab")
    page.wait_for_selector("#backprop-panel[data-loaded]", state="attached")


def stage(page: Any) -> str:
    return page.get_attribute("#backprop-panel", "data-stage")


def test_the_view_steps_through_forward_backward_and_update(page, live_server, paused):
    open_view(page, paused)
    seen = [stage(page)]
    while True:
        page.click("#bp-next")
        if stage(page) == seen[-1]:
            break
        seen.append(stage(page))
    assert seen == ["forward:0", "forward:1", "forward:2", "loss:2", "backward:2", "backward:1",
                    "backward:0", "update:0", "update:1", "update:2"]  # fmt: skip
    page.click("#bp-prev-phase")
    assert stage(page) == "backward:2"
    page.click("#bp-prev-phase")
    assert stage(page) == "loss:2"


def test_a_hovered_edge_and_neuron_show_the_apis_numbers(page, live_server, paused):
    open_view(page, paused)
    answer = post(live_server, f"/api/runs/{paused}/backprop", {"index": 0})
    page.click("#bp-next-phase")
    page.click("#bp-next-phase")  # backward, from the output layer
    page.click("#bp-next")  # the second hidden layer (layer 1)
    layer = answer["layers"][1]
    page.hover('[data-edge="1:2:3"]')
    text = page.inner_text("#bp-formula")
    assert "∂L/∂w = δ_4 · a_3 =" in text
    delta, a, gradient = numbers(text.split("= δ_4 · a_3 =")[1])
    assert delta == pytest.approx(layer["delta"][3], rel=6e-3)
    assert a == pytest.approx(layer["input"][2], rel=6e-3)
    assert gradient == pytest.approx(layer["dW"][2][3], rel=6e-3)
    page.hover('[data-bp-neuron="1:3"]')
    text = page.inner_text("#bp-formula")
    assert text.startswith("δ_4 = f′(z_4) · Σ_k w_4k δ_k")
    *_, product, result = text.split(" = ")
    derivative, total = numbers(product)
    result = numbers(result)[0]
    assert derivative * total == pytest.approx(result, rel=2e-2)
    assert result == pytest.approx(layer["delta"][3], rel=6e-3)
    assert total == pytest.approx(layer["dL_da"][3], rel=6e-3)


def test_a_dashed_edge_takes_the_hover_along_its_whole_length(page, live_server, paused):
    """A negative edge is dashed; the pointer over one of its gaps still finds an edge."""
    open_view(page, paused)
    page.click("#bp-next-phase")
    page.click("#bp-next-phase")  # backward: ∂L/∂w has both signs on the output layer
    missed = page.evaluate(
        """() => {
          const misses = [];
          const dashed = [...document.querySelectorAll('#bp-diagram line.bp-edge.neg')];
          for (const line of dashed) {
            const box = line.getBoundingClientRect();
            const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map((k) => line[k].baseVal.value);
            const matrix = line.getScreenCTM();
            for (let t = 0.3; t <= 0.7; t += 0.01) {
              const at = new DOMPoint(x1 + t * (x2 - x1), y1 + t * (y2 - y1));
              const point = at.matrixTransform(matrix);
              const hit = document.elementFromPoint(point.x, point.y);
              if (!hit || hit.dataset.edge === undefined) misses.push([t, hit && hit.tagName]);
            }
            if (box.width === 0) misses.push(['no box']);
          }
          return { dashed: dashed.length, misses };
        }"""
    )
    assert missed["dashed"] > 0, "no negative edge on the backward phase to try"
    assert missed["misses"] == []


def test_step_trains_the_mini_batch_and_the_view_shows_the_new_weights(page, live_server, paused):
    open_view(page, paused)
    before = post(live_server, f"/api/runs/{paused}/backprop", {"batch": True})
    page.click("#bp-step")
    page.wait_for_function(
        "steps => document.getElementById('backprop-panel').dataset.loaded.startsWith(steps + ':')",
        arg=before["steps"] + 1,
    )
    assert stage(page) == "update:0"
    page.hover('[data-edge="0:0:1"]')
    text = page.inner_text("#bp-formula")
    assert "after the step" in text
    old, new, changed, reported = numbers(text.split("after the step:")[1])
    after = post(live_server, f"/api/runs/{paused}/backprop", {"index": 0})
    assert old == pytest.approx(before["layers"][0]["W"][0][1], rel=1e-5)
    assert new == pytest.approx(after["layers"][0]["W"][0][1], rel=1e-5)
    assert reported == pytest.approx(before["layers"][0]["update"]["W"][0][1], rel=6e-3)
    assert changed == pytest.approx(reported, rel=2e-2)


def test_clicking_a_plotted_point_picks_that_sample(page, live_server, paused):
    open_view(page, paused)
    page.locator("#fit-view").scroll_into_view_if_needed()
    page.wait_for_function("window.backpropView.state.hooked > 0")
    target = page.evaluate(
        """() => {
          const fit = document.getElementById('fit-view');
          const plots = [fit, ...fit.querySelectorAll('.js-plotly-plot')];
          const gd = plots.find((g) => g.data && g.data.some((t) => t.name === 'train data'));
          const trace = gd.data.find((t) => t.name === 'train data');
          const k = Math.floor(trace.x.length / 3);
          const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
          const box = gd.getBoundingClientRect();
          return { x: trace.x[k], left: box.left + xa._offset + xa.l2p(trace.x[k]),
                   top: box.top + ya._offset + ya.l2p(trace.y[k]) };
        }"""
    )
    expected = post(live_server, f"/api/runs/{paused}/backprop", {"near": [target["x"]]})
    assert expected["raw"]["x"][0] == pytest.approx(target["x"], rel=1e-3, abs=1e-3)
    page.mouse.click(target["left"], target["top"])
    page.wait_for_function(
        "index => document.getElementById('bp-index').value === String(index)",
        arg=expected["rows"][0],
    )


def test_the_view_works_from_the_keyboard_alone(page, live_server, paused):
    open_dashboard(page, f"/fit/sin?run={paused}")
    page.focus("#network-tab")
    page.keyboard.press("ArrowRight")  # the tab list: to the Backprop tab, which opens
    page.wait_for_selector("#backprop-panel[data-loaded]", state="attached")
    assert page.evaluate("document.activeElement.id") == "backprop-tab"
    for _ in range(20):  # Tab into the panel's buttons
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "bp-next":
            break
    page.keyboard.press("]")
    assert stage(page) == "loss:2"
    page.keyboard.press("]")
    assert stage(page) == "backward:2"
    page.keyboard.press("ArrowRight")
    assert stage(page) == "backward:1"
    for _ in range(40):  # on to the diagram: edges take focus and explain themselves
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.edge !== undefined"):
            break
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert "∂L/∂w = δ_" in label
    assert page.inner_text("#bp-formula") == label
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("a")  # autoplay on, from the keyboard
    page.wait_for_function(
        "document.getElementById('backprop-panel').dataset.stage !== 'backward:1'"
    )


def test_copy_as_worked_example_gives_markdown_with_the_numbers(page, live_server, paused):
    open_view(page, paused)
    answer = post(live_server, f"/api/runs/{paused}/backprop", {"index": 0})
    page.click("#bp-copy")
    text = page.input_value("#bp-markdown")
    assert text.startswith("# One step of backpropagation, worked out")
    assert "| neuron | z | a |" in text and "| neuron | ∂L/∂a | f′(z) | δ |" in text
    assert "\\frac{\\partial L}{\\partial w" in text  # LaTeX
    assert "## Update" in text
    loss_line = next(line for line in text.splitlines() if line.startswith("L = mean"))
    assert numbers(loss_line.split(";")[0].split(" = ")[-1])[0] == pytest.approx(
        answer["loss"], rel=6e-3
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_view_has_no_axe_violation(page, live_server, paused, scheme):
    page.emulate_media(color_scheme=scheme)
    open_view(page, paused)
    page.click("#bp-next-phase")
    page.click("#bp-next-phase")
    assert violations(page) == []


def test_a_classifier_shows_softmax_and_a_click_on_the_decision_plot_picks_a_sample(
    page, live_server
):
    config = {"task": "moons", "hidden": [5], "activation": "relu", "optimizer": "adam",
              "lr": 0.01, "epochs": 100_000}  # fmt: skip
    run_id = post(live_server, "/api/runs", config)["id"]
    poll(lambda: get_json(live_server, f"/api/runs/{run_id}")["epoch"] >= 2, 30, "2 epochs")
    post(live_server, f"/api/runs/{run_id}/pause", {})
    open_dashboard(page, f"/fit/moons?run={run_id}")
    page.click("#backprop-tab")
    page.wait_for_selector("#backprop-panel[data-loaded]", state="attached")
    page.click("#bp-next-phase")
    page.click("#bp-next-phase")  # backward, the output layer: the loss's own derivative
    page.hover('[data-bp-neuron="1:1"]')
    assert page.inner_text("#bp-formula").startswith("δ_2 = ∂L/∂ŷ_2 = softmax(ŷ)_2 − t_2 =")
    page.locator("#fit-view").scroll_into_view_if_needed()
    page.wait_for_function("window.backpropView.state.hooked > 0")
    target = page.evaluate(
        """() => {
          const fit = document.getElementById('fit-view');
          const plots = [fit, ...fit.querySelectorAll('.js-plotly-plot')];
          const gd = plots.find((g) => g.data && g.data.some((t) => t.name === 'class 1'));
          const trace = gd.data.find((t) => t.name === 'class 1');
          const k = Math.floor(trace.x.length / 2);
          const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
          const box = gd.getBoundingClientRect();
          return { x: trace.x[k], y: trace.y[k], left: box.left + xa._offset + xa.l2p(trace.x[k]),
                   top: box.top + ya._offset + ya.l2p(trace.y[k]) };
        }"""
    )
    near = {"near": [target["x"], target["y"]]}
    expected = post(live_server, f"/api/runs/{run_id}/backprop", near)
    assert expected["raw"]["y"] == 1  # the clicked point's class
    page.mouse.click(target["left"], target["top"])
    page.wait_for_function(
        "index => document.getElementById('bp-index').value === String(index)",
        arg=expected["rows"][0],
    )


def test_a_wide_layer_shows_its_16_largest_deltas_and_says_so(page, live_server):
    config = {**CONFIG, "hidden": [24, 4], "epochs": 2}
    run_id = post(live_server, "/api/runs", config)["id"]
    poll(lambda: get_json(live_server, f"/api/runs/{run_id}")["status"] == "finished", 30,
         "the run to finish")
    open_dashboard(page, f"/fit/sin?run={run_id}")
    page.click("#backprop-tab")
    page.wait_for_selector("#backprop-panel[data-loaded]", state="attached")
    assert "16 of 24 neurons drawn, those of the largest |δ|" in page.inner_text("#bp-formula")
    drawn = page.evaluate(
        """[...document.querySelectorAll('[data-bp-neuron^="0:"]')]
             .map((n) => +n.dataset.bpNeuron.split(':')[1])"""
    )
    answer = post(live_server, f"/api/runs/{run_id}/backprop", {"index": 0})
    deltas = answer["layers"][0]["delta"]
    largest = sorted(range(24), key=lambda k: -abs(deltas[k]))[:16]
    assert sorted(drawn) == sorted(largest)
    assert len(page.query_selector_all('[data-bp-neuron^="1:"]')) == 4  # narrow layers: whole


def test_a_run_trained_with_the_tab_open_gets_its_own_pass(page, live_server, paused):
    # a fresh user trained a new run with the Backprop tab open and kept seeing the last run's
    open_view(page, paused)
    page.click("#train")
    if page.locator("#replace-yes").is_visible():
        page.click("#replace-yes")
    page.wait_for_function(
        """old => { const now = window.studio.state.runId;
          const pass = window.backpropView.state.pass;
          return now && now !== old && pass !== null && pass.id === now; }""",
        arg=paused,
    )
    assert page.evaluate("window.backpropView.state.runId") == page.evaluate(
        "window.studio.state.runId")


def test_a_queued_run_shows_its_pass_once_it_trains(page, live_server):
    """A run waiting for a training slot has no weights: the view says so (asking nothing of the
    API, which would answer 409) and shows the run's pass as soon as it trains."""
    busy = [post(live_server, "/api/runs", CONFIG)["id"]
            for _ in range(live_server.app.extensions["runs"].slots.capacity)]  # fmt: skip
    for run_id in busy:
        poll(lambda run_id=run_id: get_json(live_server, f"/api/runs/{run_id}")["status"]
             == "running", 30, f"run {run_id} to train")  # fmt: skip
    waiting = post(live_server, "/api/runs", CONFIG)["id"]
    assert get_json(live_server, f"/api/runs/{waiting}")["status"] == "queued"
    open_dashboard(page, f"/fit/sin?run={waiting}")
    page.wait_for_selector("#status[data-status='queued']", state="attached")
    page.click("#backprop-tab")
    page.wait_for_function("document.getElementById('bp-note').textContent.includes('waits')")
    assert page.evaluate("window.backpropView.state.pass") is None
    post(live_server, f"/api/runs/{busy[0]}/stop", {})  # its slot goes to the waiting run
    page.wait_for_function(
        "id => window.backpropView.state.pass && window.backpropView.state.pass.id === id",
        arg=waiting,
    )
    page.wait_for_selector(".bp-diagram svg")
    for run_id in busy[1:] + [waiting]:
        post(live_server, f"/api/runs/{run_id}/stop", {})


def test_on_digits_the_panel_takes_the_whole_width_and_shows_the_input_labels(page, live_server):
    """A fresh user's finding: on digits (the test-set card leads the page) the Backprop panel
    stayed a column wide, a 64-input network's numbers cramped into a third of the width, and
    the inputs' names ("pixel (0, 3)") were cut at the diagram's left edge."""
    run_id = post(live_server, "/api/runs", {"task": "digits", "hidden": [32], "epochs": 2})["id"]
    poll(lambda: get_json(live_server, f"/api/runs/{run_id}")["status"] == "finished", 60,
         "the run to finish")
    open_dashboard(page, f"/fit/digits?run={run_id}")
    page.click("#backprop-tab")
    page.wait_for_selector("#backprop-panel[data-loaded]", state="attached")
    page.wait_for_selector(".bp-diagram svg")
    sizes = page.evaluate(
        """() => { const width = (s) => document.querySelector(s).getBoundingClientRect().width;
          const main = document.querySelector('.main');
          const style = getComputedStyle(main);
          const inner = main.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
          const svg = document.querySelector('.bp-diagram svg');
          const labels = [...svg.querySelectorAll('.bp-label.left')];
          return { inner, card: width('.network-card'), svg: width('.bp-diagram svg'),
                   labels: labels.length, cut: labels.filter((t) => t.getBBox().x < 0)
                                                   .map((t) => t.textContent) }; }"""
    )
    assert sizes["card"] >= sizes["inner"] - 2, sizes  # the whole row, not one column
    assert sizes["svg"] >= 0.9 * sizes["inner"], sizes
    assert sizes["labels"] == 16 and sizes["cut"] == [], sizes
    assert page.locator(".bp-label.left").first.text_content().startswith("pixel (")


OVERLAPS = """() => { const cards = ['.fit-card', '.network-card', '.loss-card', '.accuracy-card',
    '.insight-card.leading'].map((s) => document.querySelector(s))
    .filter((e) => e && e.offsetParent !== null)
    .map((e) => [e.className, e.getBoundingClientRect()]);
  const found = [];
  cards.forEach(([a, p], i) => cards.slice(i + 1).forEach(([b, q]) => {
    if (p.left < q.right - 1 && q.left < p.right - 1
        && p.top < q.bottom - 1 && q.top < p.bottom - 1) found.push([a, b]);
  }));
  return found; }"""


@pytest.mark.parametrize("task", ["moons", "digits", "sin"])
def test_with_the_backprop_tab_open_no_card_lies_over_another(page, live_server, task):
    """A fresh user's finding: on moons the Backprop tab put the loss card across both columns,
    under the accuracy card (log scale, smoothing, Play and half the chart hidden)."""
    run_id = post(live_server, "/api/runs", {"task": task, "hidden": [4], "epochs": 2})["id"]
    poll(lambda: get_json(live_server, f"/api/runs/{run_id}")["status"] == "finished", 60,
         "the run to finish")
    open_dashboard(page, f"/fit/{task}?run={run_id}")
    page.click("#backprop-tab")
    page.wait_for_selector("#backprop-panel[data-loaded]", state="attached")
    assert page.evaluate(OVERLAPS) == []


def test_step_on_a_running_run_pauses_it_first_and_says_so(page, live_server):
    """A fresh user's finding: Step on a running run did nothing visible (a 409, noted below the
    diagram). It now reads "Pause and step", says why, and does both."""
    run_id = post(live_server, "/api/runs", {**CONFIG, "epochs_per_second": 5})["id"]
    open_dashboard(page, f"/fit/sin?run={run_id}")
    page.wait_for_function("document.getElementById('status').dataset.status === 'running'")
    page.click("#backprop-tab")
    page.wait_for_selector("#backprop-panel[data-loaded]", state="attached")
    page.wait_for_function("document.getElementById('bp-step').textContent === 'Pause and step'")
    assert "pauses it first" in page.inner_text("#bp-step-why")
    assert page.get_attribute("#bp-step", "aria-describedby") == "bp-step-why"
    page.click("#bp-step")
    page.wait_for_function("document.getElementById('backprop-panel').dataset.stage === 'update:0'")
    assert get_json(live_server, f"/api/runs/{run_id}")["status"] == "paused"
    assert "after the step" in page.inner_text("#bp-stage")
    page.wait_for_function(
        "document.getElementById('bp-step').textContent === 'Step: train the mini-batch'"
    )
    assert page.inner_text("#bp-step-why") == ""
    post(live_server, f"/api/runs/{run_id}/stop", {})
    page.wait_for_function("document.getElementById('bp-step').disabled")
    ended = "The run has ended (stopped): it trains no more steps."
    assert page.inner_text("#bp-step-why") == ended
    assert violations(page) == []


# Whether an input's value fits its box beside the number spinner (16 px): a cut number reads as
# another one ("999999" showed as "99999").
FITS_WHOLE = """(id) => {
  const input = document.getElementById(id), style = getComputedStyle(input);
  const pen = document.createElement('canvas').getContext('2d');
  pen.font = style.font;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return room - 16 >= pen.measureText(input.value).width;
}"""


def test_a_sample_number_out_of_range_is_a_field_error_and_no_stale_pass(
    page, live_server, paused, problems
):
    problems.allow_console("status of 400")  # the server refuses the sample
    open_view(page, paused)
    samples = post(live_server, f"/api/runs/{paused}/backprop", {"index": 0})["samples"]
    page.fill("#bp-index", "999999")
    page.press("#bp-index", "Enter")
    page.wait_for_function("document.getElementById('bp-index-error').textContent !== ''")
    assert page.text_content("#bp-index-error") == (
        f"Must be a training sample from 0 to {samples - 1}."
    )
    assert page.get_attribute("#bp-index", "aria-invalid") == "true"
    assert page.input_value("#bp-index") == "999999"  # what was typed stays, and shows whole
    assert page.evaluate(FITS_WHOLE, "bp-index")
    # sample 0's numbers are not left on show as if they were this sample's
    assert not page.is_visible("#bp-diagram")
    assert not page.is_visible("#bp-formula")
    page.fill("#bp-index", "3")
    page.press("#bp-index", "Enter")
    page.wait_for_function("document.getElementById('backprop-panel').dataset.loaded.endsWith(':3')")
    assert page.text_content("#bp-index-error") == ""
    assert page.get_attribute("#bp-index", "aria-invalid") is None
    assert page.is_visible("#bp-diagram")


def test_at_the_time_sliders_past_epoch_the_pass_is_on_that_epochs_weights(page, live_server):
    """A fresh user's finding: the Backprop tab showed the live weights while the time slider
    held a past epoch. Now it traces that epoch's weights (its film), with no Step there, and
    follows the slider."""
    run_id = post(live_server, "/api/runs", {**CONFIG, "epochs": 30})["id"]
    poll(lambda: get_json(live_server, f"/api/runs/{run_id}")["status"] == "finished", 30,
         "the run to finish")
    open_dashboard(page, f"/fit/sin?run={run_id}&epoch=7")
    page.wait_for_function("window.studio.replay.heldEpoch() === 7")
    page.click("#backprop-tab")
    page.wait_for_selector("#backprop-panel[data-epoch='7']", state="attached")
    assert "The weights of epoch 7" in page.inner_text("#bp-note")
    assert page.is_disabled("#bp-step")
    want = post(live_server, f"/api/runs/{run_id}/backprop", {"index": 0, "epoch": 7})
    page.hover('[data-edge="0:0:1"]')
    shown = numbers(page.inner_text("#bp-formula"))
    assert any(value == pytest.approx(want["layers"][0]["W"][0][1], abs=1e-3) for value in shown)
    page.locator("#replay-epoch").press("End")
    page.wait_for_selector("#backprop-panel[data-epoch='30']", state="attached")
