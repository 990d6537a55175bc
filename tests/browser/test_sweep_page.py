"""The sweep page in Chromium (issue 30): it updates live while the sweep trains, its parameters
chart has one point per config with the seeds' range as error bars, and axe-core finds nothing."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from browser_helpers import get_json, open_dashboard
from test_accessibility import axe_source, violations

pytestmark = pytest.mark.browser

BODY = {"base": {"task": "sin", "samples": 100, "epochs": 60, "epochs_per_second": 10},
        "vary": {"hidden": [[4], [8, 8]], "lr": [0.01, 0.03]}, "seeds": 2}  # fmt: skip


def post_sweep(server: Any, body: dict) -> str:
    request = urllib.request.Request(
        server.url + "/api/sweeps", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["id"]


def test_the_sweep_page_updates_live_with_one_point_per_config(page: Any, live_server: Any):
    sweep_id = post_sweep(live_server, BODY)
    page.goto(f"/sweeps/{sweep_id}")
    status = "document.getElementById('sweep-status').textContent"
    page.wait_for_function(f"{status}.startsWith('running: 0 of 8 runs ended')")
    page.wait_for_function(f"{status}.startsWith('finished')", timeout=90_000)
    # from no run ended to all 8 without a reload: the page follows the sweep by itself
    assert get_json(live_server, f"/api/sweeps/{sweep_id}")["status"] == "finished"
    assert page.locator("#sweep-body tr").count() == 4
    assert page.locator("#sweep-body tr.best").count() == 1
    chart = page.evaluate(
        """() => document.getElementById('sweep-params').data.map(t => ({
             name: t.name, x: t.x.length, visible: t.error_y.visible,
             plus: t.error_y.array.length, minus: t.error_y.arrayminus.length}))"""
    )
    assert sum(trace["x"] for trace in chart) == 4
    assert {trace["name"] for trace in chart} == {"1 hidden layer", "2 hidden layers"}
    assert all(t["visible"] and t["plus"] == t["minus"] == t["x"] for t in chart)
    # log axes labelled at whole decades only (Plotly's own read "2 3 4 … 100 2 3 4")
    axes = page.evaluate("""() => { const l = document.getElementById('sweep-params').layout;
        return [l.xaxis, l.yaxis].map((a) => [a.type, a.dtick, a.range]); }""")
    for kind, dtick, (low, high) in axes:
        assert kind == "log" and dtick == int(dtick) >= 1 and low == int(low) and high == int(high)
    parallel = page.evaluate("document.getElementById('sweep-parallel').data[0].dimensions.length")
    assert parallel == 3  # hidden, lr and the metric
    formats = page.evaluate(
        "document.getElementById('sweep-parallel').data[0].dimensions.map(d => d.tickformat)"
    )
    assert formats[-1] == ".3~g"  # the metric's ticks in 3 digits, not 0.985833
    page.wait_for_function(  # the loss curves: one group (mean and band) per config
        "document.getElementById('overlay-loss').data?.filter(t => t.meta?.kind === 'band')"
        ".length === 4"
    )
    # sorting by a column orders the rows by it; a click on a config lists its runs
    page.click("#sweep-head th[data-sort='params'] button")
    params = page.eval_on_selector_all(
        "#sweep-body tr", "rows => rows.map(r => r.children[2].textContent)"
    )
    assert params == sorted(params, key=int)
    page.click("#sweep-body tr >> nth=0")
    assert page.locator("#sweep-runs-list li").count() == 2
    link = page.locator("#sweep-runs-list a").first.get_attribute("href")
    assert link.startswith("/fit/sin?run=")


CHARTS_FIT = """() => ['overlay-loss', 'overlay-acc'].every((id) => {
    const g = document.getElementById(id); const svg = g.querySelector('.main-svg');
    return g.offsetParent === null || (svg && g.data?.length
      && Math.abs(svg.getBoundingClientRect().width - g.getBoundingClientRect().width) <= 2); })"""


def test_a_classification_sweeps_captions_name_the_accuracy_its_charts_plot(page, live_server):
    body = {"base": {"task": "moons", "samples": 100, "epochs": 5}, "vary": {"lr": [0.01, 0.03]}}
    sweep_id = post_sweep(live_server, body)
    page.set_viewport_size({"width": 1440, "height": 900})  # the fresh user's
    page.goto(f"/sweeps/{sweep_id}")
    page.wait_for_function("document.getElementById('sweep-params').data?.length > 0")
    # the loss curves beside the accuracy ones, each as wide as its box (a fresh user's finding:
    # the loss chart drawn 1382 px wide in the 685 px the accuracy chart left it, cut in half)
    page.wait_for_function("document.getElementById('overlay-acc').data?.length > 0")
    page.wait_for_function(CHARTS_FIT, timeout=10_000)
    # the table lists the best config first: the highest accuracy (it listed it last)
    page.wait_for_function("document.querySelectorAll('#sweep-body tr').length === 2")
    page.wait_for_selector("#sweep-body tr.best")
    assert page.evaluate("document.querySelector('#sweep-body tr').classList.contains('best')")
    sort = page.get_attribute("#sweep-head th[data-sort='metric']", "aria-sort")
    assert sort == "descending"
    captions = page.eval_on_selector_all(".sweep-metric", "spans => spans.map(s => s.textContent)")
    assert captions == ["Best test accuracy", "best test accuracy"]
    title = page.evaluate("document.getElementById('sweep-params').layout.yaxis.title.text")
    assert title == "best test accuracy"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_sweep_page_has_no_axe_violation(page: Any, live_server: Any, scheme: str):
    page.emulate_media(color_scheme=scheme)
    sweep_id = post_sweep(live_server, {**BODY, "seeds": 1})
    page.goto(f"/sweeps/{sweep_id}")
    page.wait_for_function(
        "document.getElementById('sweep-status').textContent.startsWith('finished')",
        timeout=60_000,
    )
    page.wait_for_function("document.getElementById('sweep-params').data?.length > 0")
    assert violations(page) == []


def test_the_dashboard_form_launches_a_sweep_and_the_runs_page_lists_it(page: Any, live_server):
    open_dashboard(page, "/fit/sin")
    page.fill("#samples", "100")
    page.fill("#epochs", "30")
    page.click("#sweep-open")
    page.fill("#sweep-hidden", "4; 8,8")
    page.fill("#sweep-lr", "0.01, 0.03")
    page.fill("#sweep-seeds", "2")
    assert page.text_content("#sweep-run-count") == "8 runs"  # counted before launching
    page.click("#sweep-launch")
    page.wait_for_url("**/sweeps/*")
    sweep_id = page.url.rsplit("/", 1)[1]
    sweep = get_json(live_server, f"/api/sweeps/{sweep_id}")
    assert sweep["total"] == 8
    assert sweep["config"]["vary"] == {"hidden": [[4], [8, 8]], "lr": [0.01, 0.03]}
    assert sweep["config"]["base"]["task"] == "sin" and sweep["config"]["base"]["epochs"] == 30
    page.wait_for_function(
        "document.getElementById('sweep-status').textContent.startsWith('finished')",
        timeout=60_000,
    )
    page.goto("/runs")
    page.wait_for_selector(f"#sweeps-body a[href='/sweeps/{sweep_id}']")
    assert "finished" in page.text_content("#sweeps-body")
    page.add_script_tag(content=axe_source())  # the sweeps list (the rest of /runs is not ours)
    found = page.evaluate(
        """() => axe.run({include: [['#sweeps-table']]}, {resultTypes: ['violations']})
             .then(r => r.violations.map(v => v.id))"""
    )
    assert found == []


def test_the_sweep_form_has_no_axe_violation(page: Any):
    open_dashboard(page, "/fit/sin")
    page.click("#sweep-open")
    page.fill("#sweep-lr", "0.01, 0.03")
    assert violations(page) == []


def test_the_loss_curves_reach_the_last_epoch_of_every_run(page: Any, live_server: Any):
    """A fresh user's finding: a history fetched while its run trained stayed in the chart after
    the run ended, so the x axis stopped short of the runs' last epoch."""
    body = {"base": {"task": "sin", "samples": 100, "epochs": 200, "epochs_per_second": 50},
            "vary": {"lr": [0.01, 0.03]}}  # fmt: skip
    sweep_id = post_sweep(live_server, body)
    page.goto(f"/sweeps/{sweep_id}")
    # drawn while the runs train (the page refetches their histories every 2.5 s)
    page.wait_for_function(
        "document.getElementById('overlay-loss').data?.some(t => t.x.length > 0)"
    )
    page.wait_for_function(
        "document.getElementById('sweep-status').textContent.startsWith('finished')",
        timeout=60_000,
    )
    page.wait_for_function(
        """() => { const g = document.getElementById('overlay-loss');
             return g.data.length === 4 && g.data.every(t => t.x[t.x.length - 1] === 200)
               && g._fullLayout.xaxis.range[1] >= 200; }""",
        timeout=10_000,
    )


def test_a_stopped_sweep_names_its_never_started_runs_cancelled(page: Any, live_server: Any):
    """A fresh user's finding: a stopped sweep counted its never-started runs as ended."""
    body = {"base": {"task": "sin", "samples": 100, "epochs": 400, "epochs_per_second": 20},
            "vary": {"lr": [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]}}  # fmt: skip
    sweep_id = post_sweep(live_server, body)
    page.goto(f"/sweeps/{sweep_id}")
    status = "document.getElementById('sweep-status').textContent"
    page.wait_for_function(f"/[1-9] running/.test({status})")
    page.click("#sweep-stop")
    page.wait_for_function(f"{status}.startsWith('stopped')")
    sweep = get_json(live_server, f"/api/sweeps/{sweep_id}")
    cancelled = sweep["counts"]["cancelled"]
    assert cancelled == sum(run["status"] == "cancelled" for run in sweep["runs"]) >= 1
    page.wait_for_function(f"{status}.includes(', 0 running')")
    text = page.evaluate(status)
    assert text.startswith(f"stopped: {6 - cancelled} of 6 runs ended")
    assert text.endswith(f"{cancelled} cancelled (not started)")
    row = page.locator("#sweep-body tr", has_text="(1 cancelled)").first
    row.click()
    assert "cancelled, never started" in page.text_content("#sweep-runs-list")
    page.goto("/runs")
    cell = page.locator(f"#sweeps-body tr:has(a[href='/sweeps/{sweep_id}']) td").nth(2)
    assert cell.inner_text() == f"{6 - cancelled}/6 ({cancelled} cancelled)"


def test_the_sweep_form_keeps_what_was_typed_and_offers_layer_sizes(page: Any):
    """A fresh user's finding: the form filled in the current run's layers over what they had
    typed. It keeps the typed lists (across page loads too) and offers candidates instead."""
    open_dashboard(page, "/fit/sin?hidden=8,8")
    page.click("#sweep-open")
    assert page.input_value("#sweep-hidden") == ""  # nothing varied that the user did not ask
    candidates = "#sweep-hidden-candidates button"
    texts = page.eval_on_selector_all(candidates, "bs => bs.map(b => b.textContent)")
    assert texts == ["4,4; 8,8; 16,16", "8; 8,8; 8,8,8"]
    page.click(f"{candidates} >> nth=0")
    assert page.input_value("#sweep-hidden") == "4,4; 8,8; 16,16"
    assert page.text_content("#sweep-run-count") == "3 runs"
    page.fill("#sweep-hidden", "4; 8")
    page.fill("#sweep-seeds", "3")
    page.click("#sweep-cancel")
    page.click("#sweep-open")  # the same page: as left
    assert page.input_value("#sweep-hidden") == "4; 8"
    page.click("#sweep-cancel")
    open_dashboard(page, "/fit/sin?hidden=32")  # another page load, other layers
    page.click("#sweep-open")
    assert page.input_value("#sweep-hidden") == "4; 8"
    assert page.input_value("#sweep-seeds") == "3"
    assert page.text_content("#sweep-run-count") == "6 runs"
    texts = page.eval_on_selector_all(candidates, "bs => bs.map(b => b.textContent)")
    assert texts == ["16; 32; 64", "none; 32; 32,32"]
    assert violations(page) == []


def test_the_sweep_form_shows_the_layer_configs_and_refuses_sizes_over_the_limit(
    page: Any, live_server: Any
):
    """A fresh user's finding: "4, 16, 64" silently meant one net of three layers, and
    "4;16;2000" counted 3 runs with Launch enabled (the server refused it after)."""
    most = get_json(live_server, "/api/schema")["properties"]["hidden"]["items"]["maximum"]
    open_dashboard(page, "/fit/sin")
    page.click("#sweep-open")
    page.fill("#sweep-hidden", "4, 16, 64")
    assert page.text_content("#sweep-hidden-parsed") == "1 config: 4,16,64 — 3 layers in one net"
    page.fill("#sweep-hidden", "4; 16; 64")
    assert page.text_content("#sweep-hidden-parsed") == "3 configs: 4 · 16 · 64"
    assert page.is_enabled("#sweep-launch")
    page.fill("#sweep-hidden", f"4; 16; {most + 1}")
    assert page.text_content("#sweep-run-count") == (
        f"hidden: {most + 1} neurons is more than a layer takes (at most {most})"
    )
    assert not page.is_enabled("#sweep-launch")
    assert violations(page) == []
