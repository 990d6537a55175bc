"""Classification in a real browser: decision regions drawn live, accuracy charted, loss choice.

Same fixtures and rules as test_dashboard.py: a console error, an uncaught exception or a request
to another host fails the test.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from browser_helpers import get_json, open_dashboard, wait_status

pytestmark = pytest.mark.browser

REGIONS = "window.studio.fitView.regionCanvas"
POINTS = "document.getElementById('fit-points')"
ACCURACY = "document.getElementById('accuracy-chart')"


def heatmap_values(page: Any) -> list[list[float | None]]:
    """The decision regions' z' = class index + confidence fraction, per grid cell (as drawn)."""
    return page.evaluate(f"{REGIONS}.values")


def wait_for_heatmap(page: Any) -> None:
    page.wait_for_function(
        f"(() => {{ const r = {REGIONS}; return r.values && r.values.length === 50"
        " && r.canvas.width === 50 && r.canvas.height === 50"
        " && document.getElementById('fit-regions').contains(r.canvas); })()"
    )


def canvas_matches_values(page: Any) -> dict[str, Any]:
    """Reads the regions' canvas back: every cell's pixel against the colour its z' takes on the
    colour scale (each class's band from its faint stop to its strong stop)."""
    return page.evaluate(
        rf"""async () => {{
          const {{ regionColorscale }} = await import('/static/js/decision_colours.js');
          const {{ palette }} = await import('/static/js/theme.js');
          const r = {REGIONS};
          const view = window.studio.fitView;
          const p = palette();
          const scale = regionColorscale(view.classColours(p), p.panel);
          const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
          const pixels = r.canvas.getContext('2d').getImageData(0, 0, 50, 50).data;
          let worst = 0;
          const classes = new Set();
          r.values.forEach((row, j) => row.forEach((v, i) => {{
            if (v === null) return;
            const c = Math.floor(v);
            classes.add(c);
            const t = (v - c) / 0.999;
            const [a, b] = [rgb(scale[2 * c][1]), rgb(scale[2 * c + 1][1])];
            const o = 4 * ((49 - j) * 50 + i);
            for (let ch = 0; ch < 3; ch++) {{
              const want = a[ch] + (b[ch] - a[ch]) * t;
              worst = Math.max(worst, Math.abs(pixels[o + ch] - want));
            }}
          }}));
          const box = r.canvas.getBoundingClientRect();
          return {{ worst, classes: [...classes], stops: scale.length,
                    width: box.width, height: box.height }};
        }}"""
    )


def classes_in(z: list[list[float | None]]) -> set[int]:
    return {math.floor(v) for row in z for v in row if v is not None}


def test_moons_regions_change_while_training_and_the_run_ends_with_its_accuracy(
    page: Any, live_server: Any
) -> None:
    open_dashboard(page, "/fit/moons")
    assert page.is_visible("#accuracy-card") and page.is_visible("#loss")
    assert page.input_value("#loss") == "cross_entropy"  # the task's defaults fill the form
    assert page.input_value("#samples") == "2000" and page.input_value("#noise") == "0.2"
    # 200 epochs/s: the run lasts a second, so the regions are seen changing even on a busy
    # machine (at full speed it can end before the page's first draw).
    page.select_option("#epochs_per_second", "200")
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    run_id = page.evaluate("window.studio.state.runId")

    wait_for_heatmap(page)
    before = heatmap_values(page)
    assert len(before[0]) == 50 and classes_in(before) <= {0, 1}
    page.wait_for_function(
        f"before => {REGIONS}.values.some((row, j) => row.some((v, i) => v !== before[j][i]))",
        arg=before,
    )
    page.wait_for_function(f"{ACCURACY}.data && {ACCURACY}.data[0].x.length >= 3")
    first_points = page.evaluate(f"{ACCURACY}.data[0].x.length")
    page.wait_for_function(  # more while it trains (unless, on a loaded machine, that was all)
        f"n => {ACCURACY}.data[0].x.length > n"
        " || document.getElementById('status').dataset.status === 'finished'",
        arg=first_points,
    )

    wait_status(page, "finished", timeout=60_000)
    run = get_json(live_server, f"/api/runs/{run_id}")
    epochs = run["epochs"]
    page.wait_for_function(f"n => {ACCURACY}.data[1].x.length === n", arg=epochs)
    test_acc = page.evaluate(f"{ACCURACY}.data[1].y[{epochs - 1}]")
    assert test_acc == pytest.approx(100 * run["test_acc"], abs=1e-3)  # percent, test trace
    assert run["test_acc"] >= 0.9

    shown = page.inner_text("#status-test-acc")
    assert shown == f"{100 * run['test_acc']:.1f} %"
    # The misclassified count fits the final test accuracy (600 test points by default).
    page.wait_for_function(
        "n => Number(document.getElementById('fit-note').dataset.misclassified) === n",
        arg=round((1 - run["test_acc"]) * 600),
    )
    crosses = page.evaluate("document.getElementById('fit-wrong').data[0].x.length")
    assert 0 < crosses <= round((1 - run["test_acc"]) * 600)

    # Training points filled, test points outlined, one marker symbol per class.
    traces = page.evaluate(
        f"{POINTS}.data.map(t => ({{name: t.name, n: t.x.length, symbol: t.marker.symbol}}))"
    )
    assert [t["symbol"] for t in traces] == ["circle", "square", "circle-open", "square-open"]
    assert sum(t["n"] for t in traces[:2]) == 1000 and sum(t["n"] for t in traces[2:]) == 600

    # Hovering the regions reads the network's answer there.
    box = page.locator("#fit-points .nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "/class [01], \\d+(\\.\\d)? % sure/.test("
        "document.getElementById('fit-readout').textContent)"
    )

    # The run's link brings the same final picture back from a snapshot.
    misclassified = page.get_attribute("#fit-note", "data-misclassified")
    final = heatmap_values(page)
    page.reload()
    page.wait_for_function("window.studio?.state.haveSnapshot")
    wait_for_heatmap(page)
    assert heatmap_values(page) == final
    assert page.get_attribute("#fit-note", "data-misclassified") == misclassified
    page.wait_for_function(f"n => {ACCURACY}.data[1].x.length === n", arg=epochs)


def test_three_blobs_colour_three_regions(page: Any) -> None:
    open_dashboard(page, "/fit/blobs")
    assert page.locator("#fit-view .legend-key").count() == 3 + 2  # classes, test, crosses
    page.click("#train")
    wait_status(page, "finished", timeout=60_000)
    wait_for_heatmap(page)
    page.wait_for_function("!window.studio?.fitView.busy")
    z = heatmap_values(page)
    assert classes_in(z) == {0, 1, 2}
    # The canvas shows each cell in its class's band, as sure as the network is (±1 of 255
    # from rounding to the colour table), and covers the plot (not a 50-pixel stamp).
    drawn = canvas_matches_values(page)
    assert sorted(drawn["classes"]) == [0, 1, 2] and drawn["stops"] == 6
    assert drawn["worst"] <= 2
    assert drawn["width"] > 150 and drawn["height"] > 150

    # A legend key hides its class's points and shows them again.
    key = page.locator("#fit-view .legend-key[data-key='class-1']")
    key.click()
    page.wait_for_function(f"{POINTS}.data[1].visible === false")
    assert key.get_attribute("aria-pressed") == "false"
    key.click()
    page.wait_for_function(f"{POINTS}.data[1].visible === true")


def test_the_loss_choice_round_trips_through_the_url(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/moons?loss=mse&hidden=8")
    assert page.input_value("#loss") == "mse"
    page.select_option("#loss", "cross_entropy")
    page.wait_for_function("location.search.includes('loss=cross_entropy')")
    page.select_option("#loss", "mse")
    page.wait_for_function("location.search.includes('loss=mse')")

    page.fill("#epochs", "3")
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    run_id = page.evaluate("window.studio.state.runId")
    assert get_json(live_server, f"/api/runs/{run_id}")["config"]["loss"] == "mse"
    page.wait_for_function(
        "document.getElementById('loss-chart').layout.yaxis.title.text === 'loss (MSE)'"
    )
    wait_status(page, "finished")

    # Regression tasks have no loss to choose and no accuracy chart.
    page.select_option("#task", "sin")
    page.wait_for_function("location.pathname === '/fit/sin'")
    assert page.is_hidden("#loss") and page.is_hidden("#accuracy-card")
    assert "loss=" not in page.url
    page.select_option("#task", "spiral3")
    page.wait_for_function("location.pathname === '/fit/spiral3'")
    assert page.input_value("#loss") == "cross_entropy" and "loss=cross_entropy" in page.url
    assert page.is_visible("#accuracy-card")
