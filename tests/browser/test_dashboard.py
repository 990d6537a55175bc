"""The dashboard in a real browser: train, watch, pause, share, and fail loudly on any error.

Every test runs against a fresh live server and a fresh page (see conftest.py): a console error,
an uncaught exception or a request to another host fails it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browser_helpers import get_json, open_dashboard

pytestmark = pytest.mark.browser

LONG_RUN = "100000"  # epochs: a run that keeps going until the test stops it


# ---------------------------------------------------------------- helpers


def set_hidden(page: Any, sizes: list[int | str]) -> None:
    """Edit the hidden-layer list in the form until it holds exactly `sizes`."""
    rows = page.locator("#hidden-layers input.layer-size")
    while rows.count() < len(sizes):
        page.click("#add-layer")
    while rows.count() > len(sizes):
        page.locator("#hidden-layers .remove-layer").last.click()
    for index, size in enumerate(sizes):
        rows.nth(index).fill(str(size))


def wait_status(page: Any, *statuses: str, timeout: float = 20_000) -> None:
    """Wait (up to `timeout` ms, 20 s by default) until the status line shows one of `statuses`."""
    page.wait_for_function(
        "statuses => statuses.includes(document.getElementById('status').dataset.status)",
        arg=list(statuses),
        timeout=timeout,
    )


def shown_epoch(page: Any) -> int:
    return int(page.get_attribute("#status", "data-epoch"))


def wait_loss_points(page: Any, epoch: int, timeout: float = 20_000) -> None:
    """Wait until the loss chart's train line is drawn up to `epoch` (a long line is drawn
    decimated: a bounded number of points, the last epoch always among them)."""
    page.wait_for_function(
        "n => { const gd = document.getElementById('loss-chart');"
        " return gd.data && gd.data[0].x.length > 0 && gd.data[0].x.at(-1) >= n; }",
        arg=epoch,
        timeout=timeout,
    )


def start_run(page: Any, epochs: str = LONG_RUN) -> str:
    """Press Train with `epochs` and wait until the page watches a running run; its id."""
    page.fill("#epochs", epochs)
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    return page.evaluate("window.studio.state.runId")


# ---------------------------------------------------------------- tests


def test_sin_run_streams_loss_and_prediction_then_finishes(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin")
    set_hidden(page, [16, 16])
    run_id = start_run(page, epochs="3000")

    wait_loss_points(page, 20)
    # From now on the loss chart's lines (their decimated points) are drawn on its canvas
    # (line_canvas.js), never by a whole Plotly redraw.
    page.evaluate(
        """() => {
          window.lossCalls = {react: 0, restyle: 0,
                              canvas: document.getElementById('loss-chart').lineCanvas.draws};
          for (const name of ['react', 'restyle', 'newPlot']) {
            const original = Plotly[name];
            Plotly[name] = function (gd, ...rest) {
              const el = typeof gd === 'string' ? document.getElementById(gd) : gd;
              if (el && el.id === 'loss-chart') {
                window.lossCalls[name] = (window.lossCalls[name] || 0) + 1;
              }
              return original.call(this, gd, ...rest);
            };
          }
        }"""
    )
    page.wait_for_function("document.getElementById('fit-prediction').data[0].y.length > 0")
    before = page.evaluate("Array.from(document.getElementById('fit-prediction').data[0].y)")
    page.wait_for_function(
        "before => { const y = document.getElementById('fit-prediction').data[0].y;"
        " return y.some((v, i) => v !== before[i]); }",
        arg=before,
    )
    wait_status(page, "finished", timeout=60_000)
    wait_loss_points(page, 3000)
    # while it trained, the x axis was widened ahead of the lines; once the run ended, it fits
    # them again
    page.wait_for_function(
        "document.getElementById('loss-chart')._fullLayout.xaxis.range[1] === 3000"
    )
    assert page.evaluate("window.studio.lossChart.length") == 3000  # every epoch is kept
    drawn = page.evaluate("document.getElementById('loss-chart').data[0].x.length")
    assert drawn <= 800  # and drawn in a bounded number of points (decimation.js)
    ends = page.evaluate(
        """() => { const line = document.getElementById('loss-chart').data[0];
                   const kept = window.studio.lossChart.history.train;
                   return {drawnMin: Math.min(...line.y.filter(v => v !== null)),
                           min: Math.min(...kept.filter(v => v !== null)),
                           drawnLast: line.y.at(-1), last: kept.at(-1)}; }"""
    )
    assert ends["drawnMin"] == ends["min"] and ends["drawnLast"] == ends["last"]

    calls = page.evaluate("window.lossCalls")
    assert calls["react"] == 0 and calls.get("newPlot", 0) == 0
    canvas_draws = page.evaluate("document.getElementById('loss-chart').lineCanvas.draws")
    assert canvas_draws - calls["canvas"] >= 2

    run = get_json(live_server, f"/api/runs/{run_id}")
    assert run["config"]["hidden"] == [16, 16]
    assert run["status"] == "finished"
    assert "hidden=16,16" in page.url and f"run={run_id}" in page.url
    assert page.locator("#status-epoch").inner_text().replace("\u00a0", " ").endswith("3000 / 3000")
    assert page.is_disabled("#pause") and page.is_disabled("#stop")


def test_pause_and_resume_from_the_buttons(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin")
    run_id = start_run(page)
    wait_status(page, "running")
    page.wait_for_function("Number(document.getElementById('status').dataset.epoch) > 5")

    page.click("#pause")
    wait_status(page, "paused")
    assert page.locator("#pause").inner_text().strip().endswith("Resume")
    paused_at = get_json(live_server, f"/api/runs/{run_id}")["epoch"]
    page.wait_for_timeout(600)  # nothing to wait for: the point is that nothing happens
    assert get_json(live_server, f"/api/runs/{run_id}")["epoch"] == paused_at
    assert shown_epoch(page) == paused_at

    page.click("#pause")
    wait_status(page, "running")
    page.wait_for_function(
        "n => Number(document.getElementById('status').dataset.epoch) > n", arg=paused_at
    )
    page.click("#stop")
    wait_status(page, "stopped")
    assert get_json(live_server, f"/api/runs/{run_id}")["status"] == "stopped"


def test_space_toggles_pause_outside_text_fields(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin")
    run_id = start_run(page)
    wait_status(page, "running")

    page.focus("#lr")
    page.keyboard.press("Space")  # typing in a field must not pause
    page.locator("#loss-title").click()  # focus leaves the form
    page.keyboard.press("Space")
    wait_status(page, "paused")
    assert get_json(live_server, f"/api/runs/{run_id}")["status"] == "paused"

    page.focus("#pause")  # on a focused button Space must toggle once, not twice
    page.keyboard.press("Space")
    wait_status(page, "running")
    assert get_json(live_server, f"/api/runs/{run_id}")["status"] == "running"


def test_saddle_draws_a_3d_surface_and_an_error_heatmap(page: Any) -> None:
    open_dashboard(page, "/fit/saddle")
    assert page.locator("#domain-inputs input").count() == 4
    start_run(page, epochs="300")
    page.wait_for_function(
        "(() => { const gd = document.getElementById('fit-surface');"
        " return gd.data && gd.data.some(t => t.type === 'surface' && t.name === 'network'); })()"
    )
    target = page.evaluate("document.getElementById('fit-target').data.map(t => t.type)")
    assert target == ["surface"]  # the target, beside the network's surface
    # WebGL draws at the screen's pixel ratio (1 here), not plotly's default of 2: a quarter of
    # the pixels to render at every redraw of the surface.
    ratios = page.evaluate(
        "[...document.querySelectorAll('#fit-surface canvas, #fit-target canvas')]"
        ".filter(c => c.clientWidth > 0).map(c => c.width / c.clientWidth)"
    )
    assert ratios and all(ratio == pytest.approx(1, abs=0.01) for ratio in ratios)
    # The |error| map: a canvas of one pixel per cell under the map's axes, coloured Cividis.
    cells = "window.studio.fitView.errorMap.cells"
    page.wait_for_function(
        f"(() => {{ const c = {cells}; return c.values && c.values.length === 50"
        " && c.canvas.width === 50"
        " && document.getElementById('fit-error').contains(c.canvas); })()"
    )
    z = page.evaluate(f"{cells}.values")
    assert len(z) == 50 and len(z[0]) == 50
    assert all(v is None or v >= 0 for row in z for v in row)
    drawn = page.evaluate(
        f"""() => {{
          const c = {cells};
          const data = c.canvas.getContext('2d').getImageData(0, 0, 50, 50).data;
          let hi = 0, at = 0;
          c.values.forEach((row, j) => row.forEach((v, i) => {{
            if (v !== null && v > hi) {{ hi = v; at = 4 * ((49 - j) * 50 + i); }}
          }}));
          const box = c.canvas.getBoundingClientRect();
          return {{ largest: Array.from(data.slice(at, at + 4)), width: box.width }};
        }}"""
    )
    assert drawn["largest"] == [255, 233, 69, 255]  # the largest error: Cividis's top colour
    assert drawn["width"] > 100  # scaled up to the plot area
    # Hovering the map reads the error under the pointer.
    box = page.locator("#fit-error .nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = page.locator("#fit-error .error-tip")
    tip.wait_for(state="visible")
    assert "|ŷ − f| = " in tip.inner_text()


def test_zero_neurons_is_flagged_and_starts_no_run(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin")
    set_hidden(page, [16, 0])
    page.click("#train")
    error = page.locator("#error-hidden")
    error.wait_for(state="visible")
    assert "at least 1 neuron" in error.inner_text()
    assert page.get_attribute("#hidden-1", "aria-invalid") == "true"
    assert page.get_attribute("#hidden-0", "aria-invalid") is None
    assert get_json(live_server, "/api/runs") == []
    assert page.evaluate("window.studio.state.runId") is None

    page.fill("#hidden-1", "8")  # fixing the field clears its message
    error.wait_for(state="hidden")


def test_server_validation_errors_show_next_to_their_fields(
    page: Any, live_server: Any, problems: Any
) -> None:
    problems.allow_console(r"status of 400")  # the browser logs the refused POST itself
    open_dashboard(page, "/fit/sin")
    body = json.dumps({"errors": {"lr": "too hot for this server", "bogus": "unknown field"}})
    page.route(
        "**/api/runs",
        lambda route: route.fulfill(status=400, content_type="application/json", body=body)
        if route.request.method == "POST"
        else route.fallback(),
    )
    page.click("#train")
    page.locator("#error-lr").wait_for(state="visible")
    assert page.locator("#error-lr").inner_text().endswith("too hot for this server")
    assert page.get_attribute("#lr", "aria-invalid") == "true"
    assert "bogus" in page.locator("#error-form").inner_text()
    assert get_json(live_server, "/api/runs") == []


def test_reloading_a_running_run_url_brings_its_history_back(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin")
    set_hidden(page, [8, 24, 8])
    run_id = start_run(page)
    wait_loss_points(page, 50)
    url = page.url
    assert f"run={run_id}" in url and "hidden=8,24,8" in url

    page.goto("/")  # away, then back through the shared link
    open_dashboard(page, url)
    page.wait_for_function("window.studio?.state.haveSnapshot")
    epoch_now = get_json(live_server, f"/api/runs/{run_id}")["epoch"]
    wait_loss_points(page, epoch_now)
    assert page.evaluate("document.getElementById('loss-chart').data[0].x[0]") == 1
    values = page.eval_on_selector_all("#hidden-layers input", "els => els.map(e => e.value)")
    assert values == ["8", "24", "8"]
    wait_status(page, "running")
    page.click("#stop")
    wait_status(page, "stopped")


def test_the_url_carries_the_config_both_ways(page: Any) -> None:
    open_dashboard(page, "/fit/square?hidden=7,9&activation=relu&lr=0.02&seed=5&noise=0.25")
    values = page.eval_on_selector_all("#hidden-layers input", "els => els.map(e => e.value)")
    assert values == ["7", "9"]
    assert page.input_value("#activation") == "relu"
    assert page.input_value("#lr") == "0.02"
    assert page.input_value("#seed") == "5"
    assert page.input_value("#noise") == "0.25"
    assert page.input_value("#task") == "square"

    page.fill("#lr", "0.05")
    page.click("#add-layer")
    page.wait_for_function("location.search.includes('lr=0.05')")
    assert "hidden=7,9,9" in page.url and page.url.split("?")[0].endswith("/fit/square")
    page.select_option("#task", "saddle")
    page.wait_for_function("location.pathname === '/fit/saddle'")
    assert page.locator("#domain-inputs input").count() == 4


def test_log_scale_and_smoothing_change_the_chart(page: Any) -> None:
    open_dashboard(page, "/fit/sin")
    start_run(page)
    wait_loss_points(page, 30)
    chart = "document.getElementById('loss-chart')"
    assert page.evaluate(f"{chart}.layout.yaxis.type") == "log"  # losses span decades
    page.uncheck("#log-scale")
    page.wait_for_function(f"{chart}.layout.yaxis.type === 'linear'")
    page.check("#log-scale")
    page.wait_for_function(f"{chart}.layout.yaxis.type === 'log'")

    # Smoothed values already drawn never change when new points arrive (compared epoch by
    # epoch: a long line is drawn decimated, so an epoch drawn before may be left out later).
    smoothed = f"[Array.from({chart}.data[2].x), Array.from({chart}.data[2].y)]"
    before = dict(zip(*page.evaluate(smoothed), strict=True))
    page.wait_for_function(f"n => {chart}.data[2].x.at(-1) > n + 20", arg=max(before))
    after = dict(zip(*page.evaluate(smoothed), strict=True))
    kept = [epoch for epoch in before if epoch in after]
    assert kept and all(after[epoch] == before[epoch] for epoch in kept)
    page.click("#pause")
    wait_status(page, "paused")

    page.fill("#smoothing", "0")
    page.wait_for_function(f"{chart}.data[2].visible === false")
    page.fill("#smoothing", "0.95")
    page.wait_for_function(f"{chart}.data[2].visible === true")
    raw = page.evaluate(f"Array.from({chart}.data[0].y)")
    smooth = page.evaluate(f"Array.from({chart}.data[2].y)")
    assert page.evaluate(f"{chart}.data[0].x[0] === {chart}.data[2].x[0]")
    assert smooth[0] == pytest.approx(raw[0])  # debiased: the first point is the first value
    assert any(abs(s - r) > 1e-9 for s, r in zip(smooth[1:], raw[1:], strict=True))
    assert page.locator("#smoothing-value").inner_text() == "0.95"


def test_network_drawing_follows_the_form_and_summarises_wide_layers(page: Any) -> None:
    open_dashboard(page, "/fit/sin")
    set_hidden(page, [64, 5])
    page.wait_for_function(
        "document.querySelector('#network-view').textContent.includes('16 of 64 shown')"
    )
    assert page.locator("#network-view .net-input").count() == 1
    assert page.locator("#network-view [data-neuron]").count() == 16 + 5 + 1
    start_run(page, epochs="400")
    page.wait_for_function(
        "document.querySelector('#network-note').textContent.startsWith('live weights')"
    )
    # The edges (one canvas): positive and negative weights, the negative ones dashed.
    page.wait_for_function("(window.studio.network.edges.painted?.none ?? 1) === 0")
    painted = page.evaluate("window.studio.network.edges.painted")
    assert painted["positive"] > 0 and painted["negative"] > 0
    assert painted["dashed"] == painted["negative"]
    assert painted["positive"] + painted["negative"] == 16 * 1 + 16 * 5 + 5 * 1
    inked = page.evaluate(
        "(() => { const c = window.studio.network.edges;"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let k = 3; k < d.length; k += 4) if (d[k] > 0) n += 1; return n; })()"
    )
    assert inked > 500  # drawn, not just counted


def test_lost_connection_reconnects_and_resyncs_from_a_snapshot(page: Any, problems: Any) -> None:
    # the test cuts the socket itself: Chromium may then report the server's in-flight frame
    # ("Data frame received after close") on the closed websocket; that is the provoked loss
    problems.allow_console(r"^WebSocket connection to .* failed: ")
    open_dashboard(page, "/fit/sin")
    start_run(page)
    wait_loss_points(page, 20)
    page.evaluate(
        """() => {
          window.seenBanners = [];
          new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(
            n => window.seenBanners.push([n.id, n.textContent])))
          ).observe(document.getElementById('banners'), {childList: true});
          window.studio.socket.dropConnection();
        }"""
    )
    page.wait_for_function("window.studio?.stats.snapshots >= 2")
    page.wait_for_function("!document.getElementById('banner-connection')")
    wait_status(page, "running")
    wait_loss_points(page, 40)
    seen = page.evaluate("window.seenBanners")
    assert any(id_ == "banner-connection" and "reconnecting" in text for id_, text in seen)


def test_a_burst_of_frames_renders_once_with_all_points_and_the_latest_prediction(
    page: Any,
) -> None:
    open_dashboard(page, "/fit/sin")
    start_run(page, epochs="200")
    wait_status(page, "finished")
    page.wait_for_function("document.getElementById('loss-chart').data[0].x.length === 200")
    result = page.evaluate(
        """async () => {
          const studio = window.studio;
          const before = studio.stats.renders;
          const x = document.getElementById('fit-prediction').data[0].x;
          for (let k = 1; k <= 30; k++) {
            studio.socket.handlers.onFrame({
              run_id: studio.state.runId, status: 'finished', epoch: 200 + k, epochs: 230,
              elapsed: 1, history: {epoch: [200 + k], train_loss: [0.5], test_loss: [0.5]},
              prediction: {x: Array.from(x), y: Array.from(x, () => k)}, network: null,
            });
          }
          await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
          await new Promise(r => setTimeout(r, 300));
          await new Promise(r => requestAnimationFrame(r));
          const loss = document.getElementById('loss-chart').data[0].x;
          return {renders: studio.stats.renders - before, points: studio.lossChart.length,
                  last: loss[loss.length - 1],
                  prediction: Array.from(document.getElementById('fit-prediction').data[0].y)};
        }"""
    )
    assert result["points"] == 230 and result["last"] == 230
    assert set(result["prediction"]) == {30}  # the latest prediction won
    assert result["renders"] <= 3  # 30 frames, a handful of animation frames


def test_hovering_shows_exact_values(page: Any) -> None:
    open_dashboard(page, "/fit/sin")
    start_run(page, epochs="200")
    wait_status(page, "finished")
    wait_loss_points(page, 200)
    box = page.locator("#loss-chart .nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "document.querySelector('#loss-chart .hoverlayer').textContent.includes('train')"
    )
    text = page.evaluate("document.querySelector('#loss-chart .hoverlayer').textContent")
    assert "test" in text and any(ch.isdigit() for ch in text)

    # Over a point of the target curve: the header reads the network's value there.
    x, y = page.evaluate(
        """() => {
          const gd = document.getElementById('fit-data');
          const box = gd.getBoundingClientRect();
          const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, t = gd.data[2];
          return [box.left + xa._offset + xa.l2p(t.x[100]),
                  box.top + ya._offset + ya.l2p(t.y[100])];
        }"""
    )
    page.mouse.move(x, y)
    page.wait_for_function("document.getElementById('fit-readout').textContent !== ''")
    assert page.inner_text("#fit-readout").startswith("network ŷ(")


def test_every_control_has_a_label_and_is_keyboard_reachable(page: Any) -> None:
    open_dashboard(page, "/fit/saddle")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button')]
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
             .map(el => el.id || el.outerHTML.slice(0, 60))"""
    )
    assert unlabelled == []
    reached = set()
    page.locator("#task").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id"))
    for control in ("upload", "hidden-0", "add-layer", "lr", "epochs", "epochs_per_second",
                    "domain-1-hi", "seed", "train", "log-scale", "smoothing"):
        assert control in reached, control


def test_a_diverged_run_shows_a_banner(page: Any) -> None:
    open_dashboard(page, "/fit/sin")
    page.select_option("#optimizer", "sgd")
    page.fill("#lr", "10")
    start_run(page, epochs="200")
    wait_status(page, "diverged")
    banner = page.locator("#banner-run")
    banner.wait_for(state="visible")
    assert banner.get_attribute("data-kind") == "diverged"
    assert "diverged" in banner.inner_text().lower()
    assert page.get_attribute("#banner-run", "role") == "alert"


def test_dark_scheme_recolours_page_and_charts_and_1024px_fits(page: Any) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    open_dashboard(page, "/fit/sin")
    page.wait_for_function("document.getElementById('loss-chart').layout")
    light = page.evaluate("document.getElementById('loss-chart').layout.font.color")
    page.emulate_media(color_scheme="dark")
    page.wait_for_function(
        "c => document.getElementById('loss-chart').layout.font.color !== c", arg=light
    )
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 20, 26)"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    sidebar = page.locator(".sidebar").bounding_box()
    for selector in ("#train", "#pause", "#stop"):
        box = page.locator(selector).bounding_box()
        assert box["x"] + box["width"] <= sidebar["x"] + sidebar["width"], selector
    for selector in ("#smoothing", "#log-scale", "#network-view"):
        box = page.locator(selector).bounding_box()
        assert box["x"] + box["width"] <= 1024, selector


def test_a_link_to_an_unknown_run_explains_itself(page: Any) -> None:
    open_dashboard(page, "/fit/sin?hidden=4&run=nosuchrun")
    banner = page.locator("#banner-run")
    banner.wait_for(state="visible")
    assert "nosuchrun" in banner.inner_text()
    page.wait_for_function("!location.search.includes('run=')")
    assert page.get_attribute("#status", "data-status") == "idle"
    assert page.is_enabled("#train")


def test_unknown_task_gives_a_friendly_404(page: Any, problems: Any) -> None:
    problems.allow_console(r"status of 404")  # the document itself is a 404, as it should be
    response = page.goto("/fit/nope")
    assert response.status == 404
    assert page.locator("#notfound-message").inner_text() == "Unknown task 'nope'"
    assert page.locator("a[href='/fit/sin']").count() == 1
    assert page.locator("a[href='/fit/saddle']").count() == 1
