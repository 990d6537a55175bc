"""Issue 11 in the page: a default run is watchable, a running run is steerable (speed, lr),
Step, input features, warnings, help on every control, phone width, Train during a run."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_helpers import get_json, open_dashboard, wait_status

pytestmark = pytest.mark.browser

LONG_RUN = "100000"


def loss_points(page: Any) -> int:
    """The last epoch the loss chart's train line is drawn to (0: none; a long line is drawn
    decimated, its last epoch always among its points)."""
    line = "(document.getElementById('loss-chart').data || [{x: []}])[0]"
    return page.evaluate(f"{line}.x.at(-1) ?? 0")


def start_run(page: Any, epochs: str = LONG_RUN) -> str:
    """Press Train with `epochs`; wait until the page watches the new run; its id."""
    page.fill("#epochs", epochs)
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    return page.evaluate("window.studio.state.runId")


def server_epoch(server: Any, run_id: str) -> int:
    return get_json(server, f"/api/runs/{run_id}")["epoch"]


def pace_over(page: Any, server: Any, run_id: str, epochs: int) -> float:
    """Epochs per second the server trained over the next `epochs` epochs, by its own training
    seconds (`elapsed`): the page shows them, no sleep, no measurement by the test."""
    first = get_json(server, f"/api/runs/{run_id}")
    page.wait_for_function("n => Number(document.getElementById('status').dataset.epoch) >= n",
                           arg=first["epoch"] + epochs, timeout=30_000)  # fmt: skip
    second = get_json(server, f"/api/runs/{run_id}")
    return (second["epoch"] - first["epoch"]) / (second["elapsed"] - first["elapsed"])


def test_a_default_run_lasts_long_enough_to_watch_and_its_chart_grows(
    page: Any, live_server: Any
) -> None:
    open_dashboard(page, "/fit/sin", full_speed=False)
    assert page.input_value("#epochs_per_second") == "auto"
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    run_id = page.evaluate("window.studio.state.runId")
    epochs = get_json(live_server, f"/api/runs/{run_id}")["config"]["epochs"]
    page.wait_for_function("n => document.getElementById('loss-chart').data[0].x.at(-1) >= n",
                           arg=epochs // 5)  # fmt: skip
    early = loss_points(page)
    assert page.get_attribute("#status", "data-status") == "running"
    page.wait_for_function(
        "n => document.getElementById('loss-chart').data[0].x.at(-1) > n", arg=early + 50
    )
    assert page.get_attribute("#status", "data-status") == "running"  # it grew while it ran
    wait_status(page, "finished", timeout=40_000)
    assert get_json(live_server, f"/api/runs/{run_id}")["elapsed"] >= 8  # its training seconds
    page.wait_for_function(
        "n => document.getElementById('loss-chart').data[0].x.at(-1) === n", arg=epochs
    )


def test_changing_speed_mid_run_changes_the_pace(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin?epochs_per_second=5", full_speed=False)
    run_id = start_run(page)
    wait_status(page, "running")
    assert pace_over(page, live_server, run_id, 5) <= 8
    page.select_option("#epochs_per_second", "full")
    page.wait_for_function(
        "id => window.studio.state.runConfig.epochs_per_second === null", arg=run_id
    )
    assert get_json(live_server, f"/api/runs/{run_id}")["config"]["epochs_per_second"] is None
    assert pace_over(page, live_server, run_id, 300) > 50
    assert "speed=full" in page.url  # the link to the run carries its current pace


def test_a_live_lr_change_reaches_the_run_and_shows_on_the_loss_chart(
    page: Any, live_server: Any
) -> None:
    open_dashboard(page, "/fit/sin?epochs_per_second=50", full_speed=False)
    run_id = start_run(page)
    page.wait_for_function(
        "() => (document.getElementById('loss-chart').data[4].y || []).includes(0.01)"
    )
    page.fill("#lr", "0.002")
    page.wait_for_function(
        "() => (document.getElementById('loss-chart').data[4].y || []).includes(0.002)"
    )
    assert get_json(live_server, f"/api/runs/{run_id}")["config"]["lr"] == 0.002
    assert page.evaluate("document.getElementById('loss-chart').data[4].visible") is True
    assert "lr=0.002" in page.url
    # a field for the next run is marked so, and stays out of the link to this run
    assert page.is_visible('[data-field="lr"] .live-tag')
    assert page.is_visible('[data-field="epochs"] .next-tag')
    page.fill("#seed", "7")
    page.wait_for_timeout(300)  # nothing to wait for: the point is that the URL does not change
    assert "seed=7" not in page.url
    page.click("#stop")
    wait_status(page, "stopped")


def test_a_live_batch_size_change_is_marked_on_the_loss_chart_where_it_took_effect(
    page: Any, live_server: Any
) -> None:
    open_dashboard(page, "/fit/sin?epochs_per_second=50", full_speed=False)
    run_id = start_run(page)
    page.wait_for_function("window.studio?.lossChart.length >= 5")
    page.fill("#batch_size", "8")
    changes = "(document.getElementById('loss-chart').layout.shapes || [])" \
        ".filter(s => s.name === 'live change')"
    page.wait_for_function(f"() => {changes}.length === 1")
    layout = page.evaluate(
        "(() => { const l = document.getElementById('loss-chart').layout;"
        f" return {{shapes: {changes},"
        " notes: (l.annotations || []).filter(a => a.name === 'live change')"
        ".map(a => [a.x, a.text])}; })()"
    )
    marked = layout["shapes"][0]["x0"]
    assert layout["notes"] == [[marked, "batch 32 → 8"]]
    history = get_json(live_server, f"/api/runs/{run_id}/history")
    pairs = zip(history["epoch"], history["batch_size"], strict=True)
    first = next(epoch for epoch, size in pairs if size == 8)
    assert marked == first  # the first epoch trained with the new batch size
    page.click("#stop")
    wait_status(page, "stopped")


def test_a_gap_in_the_frame_numbers_brings_a_fresh_snapshot(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin?epochs_per_second=50", full_speed=False)
    run_id = start_run(page)
    page.wait_for_function("window.studio?.socket.seq >= 3")
    snapshots = page.evaluate("window.studio.stats.snapshots")
    # a frame numbered past the next one, as if frames had been lost on the way
    page.evaluate(
        """runId => window.studio.socket.receive(
            'frame', { run_id: runId, seq: window.studio.socket.seq + 5, status: 'running' })""",
        run_id,
    )
    page.wait_for_function(f"window.studio?.stats.snapshots > {snapshots}")
    assert page.evaluate("window.studio.socket.gaps") == 1
    page.wait_for_function("window.studio?.socket.seq >= 2 && window.studio?.socket.seq < 1e9")
    page.click("#stop")
    wait_status(page, "stopped")


def test_enter_in_a_live_field_applies_it_and_keeps_the_run(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin?epochs_per_second=50", full_speed=False)
    run_id = start_run(page)
    page.fill("#lr", "0.003")
    page.press("#lr", "Enter")
    page.wait_for_function(
        "() => (document.getElementById('loss-chart').data[4].y || []).includes(0.003)"
    )
    assert page.is_hidden("#replace-box")
    assert page.evaluate("window.studio.state.runId") == run_id
    assert get_json(live_server, f"/api/runs/{run_id}")["config"]["lr"] == 0.003
    page.click("#stop")
    wait_status(page, "stopped")


def test_step_trains_one_epoch_and_stays_paused(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin?epochs_per_second=20", full_speed=False)
    run_id = start_run(page)
    wait_status(page, "running")
    assert page.is_disabled("#step")
    page.click("#pause")
    wait_status(page, "paused")
    paused_at = server_epoch(live_server, run_id)
    page.click("#step")
    page.wait_for_function(
        "n => Number(document.getElementById('status').dataset.epoch) === n", arg=paused_at + 1
    )
    page.locator("#loss-title").click()  # focus out of the form: "." steps
    page.keyboard.press(".")
    page.wait_for_function(
        "n => Number(document.getElementById('status').dataset.epoch) === n", arg=paused_at + 2
    )
    run = get_json(live_server, f"/api/runs/{run_id}")
    assert (run["status"], run["epoch"]) == ("paused", paused_at + 2)
    assert page.get_attribute("#status", "data-status") == "paused"


def test_toggling_x_squared_adds_an_input_to_the_network(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin")
    assert page.evaluate("window.studio.network.sizes[0]") == 1
    page.locator("#feature-toggles label", has_text="x²").click()
    page.wait_for_function("window.studio?.network.sizes[0] === 2")
    assert "input_features=x;x**2" in page.url
    run_id = start_run(page, epochs="50")
    run = get_json(live_server, f"/api/runs/{run_id}")
    assert run["config"]["input_features"] == ["x", "x**2"]
    page.wait_for_function("window.studio?.network.sizes[0] === 2 && !window.studio?.state.preview")


def test_editing_the_next_runs_layers_keeps_the_live_network_in_view(page: Any) -> None:
    open_dashboard(page, "/fit/sin?hidden=8&epochs_per_second=50", full_speed=False)
    start_run(page)
    page.wait_for_function("window.studio?.network.sizes.join() === '1,8,1'")
    page.fill('[data-field="hidden"] input >> nth=0', "16")
    page.wait_for_timeout(300)  # nothing to wait for: the point is that the view does not change
    assert page.evaluate("window.studio.network.sizes.join()") == "1,8,1"
    assert page.evaluate("window.studio.state.preview") is False
    page.click("#stop")
    wait_status(page, "stopped")
    page.fill('[data-field="hidden"] input >> nth=0', "12")  # no live run: the preview shows
    page.wait_for_function("window.studio?.network.sizes.join() === '1,12,1'")


@pytest.mark.parametrize("width", [1024, 1440])
def test_the_run_buttons_fit_their_labels_while_paused(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    open_dashboard(page, "/fit/sin?epochs_per_second=50", full_speed=False)
    start_run(page)
    page.click("#pause")
    wait_status(page, "paused")
    boxes = page.evaluate(
        """() => ['train', 'pause', 'step', 'stop'].map(id => {
            const b = document.getElementById(id); const r = b.getBoundingClientRect();
            return {id, left: r.left, right: r.right, fits: b.scrollWidth <= b.clientWidth,
                    text: b.innerText}; })"""
    )
    assert "Resume" in boxes[1]["text"]
    assert all(box["fits"] for box in boxes), boxes
    rects = [page.locator(f"#{box['id']}").bounding_box() for box in boxes]
    for k, one in enumerate(rects):  # no two overlap (they may wrap onto a second row)
        for other in rects[k + 1 :]:
            apart = (one["x"] + one["width"] <= other["x"]
                     or other["x"] + other["width"] <= one["x"]
                     or one["y"] + one["height"] <= other["y"]
                     or other["y"] + other["height"] <= one["y"])  # fmt: skip
            assert apart, (one, other)
    sidebar = page.locator(".sidebar").bounding_box()
    assert all(rect["x"] + rect["width"] <= sidebar["x"] + sidebar["width"] for rect in rects)
    page.click("#stop")
    wait_status(page, "stopped")


def test_a_bad_feature_shows_its_error_next_to_the_features(page: Any, problems: Any) -> None:
    problems.allow_console(r"status of 400")  # the server's refusal, shown next to the field
    open_dashboard(page, "/fit/moons")
    page.fill("#custom-features", "sin(z)")
    page.click("#train")
    page.wait_for_function("document.getElementById('error-input_features').textContent !== ''")
    assert "sin(z)" in page.inner_text("#error-input_features")
    assert page.evaluate("window.studio.state.runId") is None


def test_a_run_that_does_not_learn_warns_and_gets_no_green_tick(page: Any) -> None:
    open_dashboard(page, "/fit/sin?lr=10&epochs=300")
    page.click("#train")
    wait_status(page, "finished", "diverged")
    page.wait_for_function("document.getElementById('status').dataset.warned === 'true'")
    banner = page.locator("#banner-warnings")
    assert "not learning" in banner.inner_text()
    assert "not learning" in page.inner_text("#status-pill").lower()


def test_train_during_a_run_asks_before_replacing_it_and_keeps_focus(
    page: Any, live_server: Any
) -> None:
    open_dashboard(page, "/fit/sin?epochs_per_second=20", full_speed=False)
    first = start_run(page)
    assert page.evaluate("document.activeElement.id") == "train"  # focus stays on Train
    page.click("#train")
    page.locator("#replace-box").wait_for(state="visible")
    page.click("#replace-no")
    assert page.is_hidden("#replace-box")
    assert page.evaluate("window.studio.state.runId") == first
    page.click("#train")
    page.click("#replace-yes")
    page.wait_for_function("id => window.studio?.state.runId !== id", arg=first)
    page.wait_for_function(
        "id => fetch('/api/runs/' + id).then(r => r.json()).then(r => r.status === 'stopped')",
        arg=first,
    )
    page.click("#stop")


def test_every_control_has_help_text(page: Any) -> None:
    from playwright.sync_api import expect

    for path in ("/fit/saddle", "/fit/moons"):
        open_dashboard(page, path)
        controls = page.locator(
            ".sidebar input, .sidebar select, .sidebar button:not([hidden] *), "
            ".chart-controls input"
        )
        assert controls.count() > 30
        for index in range(controls.count()):
            control = controls.nth(index)
            if not control.is_visible() and control.get_attribute("type") != "file":
                continue
            expect(control).to_have_accessible_description(re.compile(r"\w{3}"))
    page.hover("#lr")
    assert page.is_visible("#hint-lr")  # a short hint on hover
    page.focus("#dropout")
    assert page.is_visible("#hint-dropout")  # and on focus


@pytest.mark.parametrize("path", ["/fit/sin", "/fit/saddle", "/fit/moons"])
def test_at_phone_width_nothing_scrolls_sideways(page: Any, path: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_dashboard(page, path)
    page.wait_for_function("document.getElementById('loss-chart').layout")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sidebar = page.locator(".sidebar").bounding_box()
    main = page.locator(".main").bounding_box()
    assert main["y"] >= sidebar["y"] + sidebar["height"] - 1  # stacked, not side by side


def test_the_status_line_fits_at_1024px_while_training(page: Any) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    open_dashboard(page, "/fit/moons?epochs_per_second=20", full_speed=False)
    start_run(page)
    wait_status(page, "running")
    page.wait_for_function("document.getElementById('status-accuracy').textContent !== ''")
    status = page.locator("#status").bounding_box()
    assert status["height"] <= 40  # one line
    for item in page.locator("#status > *:not([hidden])").all():
        box = item.bounding_box()
        if box:
            assert box["x"] + box["width"] <= status["x"] + status["width"] + 0.5
    page.click("#stop")


def test_log_axis_labels_only_decades_without_overlap(page: Any) -> None:
    open_dashboard(page, "/fit/sin")
    start_run(page, epochs="400")
    wait_status(page, "finished")
    page.wait_for_function("document.getElementById('loss-chart').data[0].x.at(-1) === 400")
    page.wait_for_timeout(200)  # the throttled relayout of the range (nothing to wait on)
    labels = page.evaluate(
        """() => [...document.querySelectorAll('#loss-chart .yaxislayer-above .ytick text')]
             .map(t => { const b = t.getBoundingClientRect();
                         return {text: t.textContent, top: b.top, bottom: b.bottom}; })"""
    )
    assert len(labels) >= 2
    for label in labels:
        text = label["text"].replace("\u200b", "")
        assert re.fullmatch(r"1|10|10[−-]?\d+", text), text
    ordered = sorted(labels, key=lambda label: label["top"])
    for upper, lower in zip(ordered, ordered[1:], strict=False):
        assert upper["bottom"] <= lower["top"]
    title = page.evaluate("document.getElementById('loss-chart').layout.yaxis.title.text")
    assert "standardised" in title


def test_the_page_keeps_its_drawing_when_the_server_goes_away(
    page: Any, live_server: Any, problems: Any
) -> None:
    problems.allow_console(r"ERR_CONNECTION_REFUSED|Failed to load resource|WebSocket")
    open_dashboard(page, "/fit/sin")
    start_run(page, epochs="200")
    wait_status(page, "finished")
    page.wait_for_function("document.getElementById('loss-chart').data[0].x.length === 200")
    live_server.stop()
    page.evaluate("window.studio.socket.dropConnection()")  # the server's socket is gone
    page.locator("#banner-connection").wait_for(state="visible")
    assert loss_points(page) == 200
    assert page.get_attribute("#status", "data-status") == "finished"


def apart(a: dict[str, float], b: dict[str, float]) -> bool:
    """True when two bounding boxes do not overlap."""
    return (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_the_preview_badge_overlaps_no_axis_label(page: Any) -> None:
    for path in ("/fit/sin", "/fit/saddle"):
        open_dashboard(page, path)
        badge = page.locator(".fit-card .empty-state.as-badge")
        badge.wait_for(state="visible")
        box = badge.bounding_box()
        labels = page.locator("#fit-view .xtick text, #fit-view .ytick text, #fit-view .g-gtitle")
        for index in range(labels.count()):
            other = labels.nth(index).bounding_box()
            if not other:
                continue
            assert apart(box, other), (path, labels.nth(index).text_content())


def test_the_new_fields_round_trip_through_the_url(page: Any) -> None:
    path = ("/fit/moons?speed=full&l1=0.001&weight_decay=0.01&dropout=0.2&schedule=cosine"
            "&input_features=x;y;x*y;cos(x)")  # fmt: skip
    open_dashboard(page, path)
    assert page.input_value("#epochs_per_second") == "full"
    assert (page.input_value("#l1"), page.input_value("#dropout")) == ("0.001", "0.2")
    assert page.input_value("#schedule") == "cosine"
    config = page.evaluate("window.studio.form.read().config")
    assert config["input_features"] == ["x", "y", "x*y", "cos(x)"]
    assert config["epochs_per_second"] is None and config["schedule"] == "cosine"
    assert page.input_value("#custom-features") == "cos(x)"
    assert page.evaluate("window.studio.network.sizes[0]") == 4
    page.reload()
    page.wait_for_function("window.studio && window.studio?.state.task !== null")
    assert page.evaluate("window.studio.form.read().config")["input_features"] == [
        "x", "y", "x*y", "cos(x)",
    ]  # fmt: skip
    open_dashboard(page, "/fit/sin", full_speed=False)  # auto: ~15 s for the run's epochs
    assert page.evaluate("window.studio.form.read().config.epochs_per_second") == "auto"


def test_a_queued_run_says_why_and_its_place(page: Any) -> None:
    open_dashboard(page, "/fit/sin")
    text = page.evaluate(
        """async () => {
          const { StatusLine } = await import('/static/js/status.js');
          const root = document.getElementById('status');
          const line = new StatusLine(root, document.getElementById('banners'));
          line.reset('abc', 'queued');
          line.update({ status: 'queued', queue_position: 2, epochs: 500 });
          line.render();
          return document.getElementById('status-epoch').textContent;
        }"""
    )
    assert text.startswith("waiting for a free training slot: 2nd in line")


def test_log_axis_decades_cover_the_losses_with_few_labels(page: Any) -> None:
    open_dashboard(page, "/fit/sin")
    result = page.evaluate(
        """async () => {
          const m = await import('/static/js/loss_chart.js');
          return [m.decadeRange(0.003, 0.02), m.decadeRange(0.5, 0.6), m.decadeRange(1e-9, 3),
                  m.decadeStep(2), m.decadeStep(10)];
        }"""
    )
    assert result == [[-3, -1], [-1, 0], [-9, 1], 1, 2]
