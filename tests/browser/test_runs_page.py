"""The runs page (/runs) in Chromium: it lists runs, sorts by best test loss, overlays two runs,
groups three seeds into one band, downloads the exports and a chart PNG, and opens a run on the
dashboard; the dashboard links to it and lists the task's runs."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import ended_run, get_json, poll

pytestmark = pytest.mark.browser

FAST = {"samples": 200, "epochs": 60}


def finished_runs(server: Any, *configs: dict) -> list[str]:
    ended = [ended_run(server, {**FAST, **config}) for config in configs]
    assert all(status["status"] == "finished" for status in ended)
    return [status["id"] for status in ended]


def open_runs(page: Any, count: int) -> None:
    page.goto("/runs")
    page.wait_for_function(
        f"document.querySelectorAll('tr[data-run-id]').length === {count}", timeout=20_000
    )


def row_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all("tr[data-run-id]", "rows => rows.map(r => r.dataset.runId)")


def loss_traces(page: Any) -> list[dict]:
    return page.evaluate(
        """() => (document.getElementById('overlay-loss').data || []).map(t => ({
            meta: t.meta || {}, colour: t.line && t.line.color, fill: t.fill || null,
            points: (t.y || []).length }))"""
    )


def test_runs_page_lists_runs_and_sorts_by_best_test_loss(page, live_server):
    ids = finished_runs(live_server, *({"task": "bowl", "lr": lr} for lr in (0.1, 0.001, 0.01)))
    open_runs(page, 3)
    for run_id in ids:
        row = page.locator(f'tr[data-run-id="{run_id}"]')
        assert row.locator(".run-id").inner_text() == run_id[:8]
        assert row.locator("input.select-run[type=checkbox]").count() == 1
    page.click('th[data-sort="best_test_loss"]')
    best = {run["id"]: run["best_test_loss"] for run in get_json(live_server, "/api/runs")}
    assert row_ids(page) == sorted(ids, key=best.get)
    page.click('th[data-sort="best_test_loss"]')
    assert row_ids(page) == sorted(ids, key=best.get, reverse=True)


def test_ticking_two_runs_overlays_them_in_two_colours_without_opening_them(page, live_server):
    wide, narrow = {"task": "sin", "hidden": [16, 16]}, {"task": "sin", "hidden": [4]}
    ids = finished_runs(live_server, wide, narrow)
    open_runs(page, 2)
    for run_id in ids:
        page.check(f'tr[data-run-id="{run_id}"] input.select-run')
    page.wait_for_function(
        "(document.getElementById('overlay-loss').data || []).length === 4"  # test + train each
    )
    assert page.url.endswith("/runs")
    test_lines = [t for t in loss_traces(page) if t["meta"].get("column") == "test_loss"]
    assert len(test_lines) == 2 and len({line["colour"] for line in test_lines}) == 2
    assert all(line["points"] == FAST["epochs"] for line in test_lines)
    page.check('input[name="x-axis"][value="seconds"]')
    page.wait_for_function(
        "document.getElementById('overlay-loss').layout.xaxis.title.text.includes('time')"
    )


def test_three_seeds_of_one_config_group_into_one_band(page, live_server):
    ids = finished_runs(live_server, *({"task": "sin", "seed": seed} for seed in (1, 2, 3)))
    open_runs(page, 3)
    for run_id in ids:
        page.check(f'tr[data-run-id="{run_id}"] input.select-run')
    page.wait_for_function(
        """(document.getElementById('overlay-loss').data || [])
            .some(t => t.meta && t.meta.kind === 'band' && t.meta.runs === 3)"""
    )
    traces = loss_traces(page)
    bands = [t for t in traces if t["meta"].get("kind") == "band"]
    means = [
        t for t in traces if t["meta"].get("column") == "test_loss" and "kind" not in t["meta"]
    ]
    assert len(bands) == 1 and bands[0]["fill"] == "tonexty"
    assert len(means) == 1 and means[0]["meta"]["runs"] == 3
    assert "(3 seeds)" in legend_names(page)[0]
    page.uncheck("#group-seeds")
    page.wait_for_function(
        """(document.getElementById('overlay-loss').data || [])
            .filter(t => t.meta && t.meta.column === 'test_loss').length === 3"""
    )


def legend_names(page: Any) -> list[str]:
    return page.evaluate(
        """() => (document.getElementById('overlay-loss').data || [])
            .filter(t => t.showlegend !== false && t.name).map(t => t.name)"""
    )


def test_repeats_of_one_seed_are_not_called_seeds(page, live_server):
    ids = finished_runs(live_server, *({"task": "square", "seed": 7} for _ in range(2)))
    open_runs(page, 2)
    for run_id in ids:
        page.check(f'tr[data-run-id="{run_id}"] input.select-run')
    page.wait_for_function(
        """(document.getElementById('overlay-loss').data || [])
            .some(t => t.meta && t.meta.kind === 'band' && t.meta.runs === 2)"""
    )
    names = legend_names(page)
    assert any("(2 runs, 1 seed)" in name for name in names), names
    assert not any("seeds)" in name for name in names), names


def test_a_run_that_finished_without_learning_is_not_shown_as_a_success(page, live_server):
    warned, healthy = finished_runs(
        live_server,
        {"task": "sin", "optimizer": "sgd", "lr": 1e-6, "hidden": [1]},  # hardly moves
        {"task": "sin"},
    )
    assert get_json(live_server, f"/api/runs/{warned}")["warnings"]
    open_runs(page, 2)
    cell = page.locator(f'tr[data-run-id="{warned}"] .run-status')
    assert cell.inner_text() == "finished ⚠"
    assert cell.get_attribute("data-warned") == "true"
    assert "raise the learning rate" in cell.get_attribute("title")
    plain = page.locator(f'tr[data-run-id="{healthy}"] .run-status')
    assert plain.inner_text() == "finished" and plain.get_attribute("data-warned") is None
    assert page.evaluate(
        "c => getComputedStyle(c).color !== getComputedStyle(document.querySelector("
        "`tr[data-run-id='${c.dataset.other}'] .run-status`)).color",
        cell.evaluate_handle(f"c => (c.dataset.other = '{healthy}', c)"),
    )


def test_compare_charts_fit_their_boxes_when_the_accuracy_chart_appears(page, live_server):
    page.set_viewport_size({"width": 1440, "height": 900})
    ids = finished_runs(live_server, {"task": "moons", "hidden": [8]}, {"task": "moons"})
    open_runs(page, 2)
    for run_id in ids:
        page.check(f'tr[data-run-id="{run_id}"] input.select-run')
    page.locator("#overlay-acc-figure").wait_for(state="visible")
    fits = """() => ['overlay-loss', 'overlay-acc'].every(id => {
        const el = document.getElementById(id);
        return el._fullLayout && el._fullLayout.width <= el.clientWidth + 1; })"""
    page.wait_for_function(fits)
    layout = page.evaluate("document.getElementById('overlay-loss').layout.yaxis")
    assert layout["type"] == "log" and layout["dtick"] == 1  # whole decades only


def test_export_buttons_download_files(page, live_server):
    (run_id,) = finished_runs(live_server, {"task": "sin"})
    open_runs(page, 1)
    row = page.locator(f'tr[data-run-id="{run_id}"]')
    expected = {"csv": ("csv", b"epoch,"), "npz": ("npz", b"PK"), "torch": ("py", b'"""')}
    for export, (suffix, start) in expected.items():
        with page.expect_download() as info:
            row.locator(f'a[data-export="{export}"]').click()
        download = info.value
        assert download.suggested_filename.endswith(suffix)
        with open(download.path(), "rb") as handle:
            assert handle.read().startswith(start)
    page.check(f'tr[data-run-id="{run_id}"] input.select-run')
    page.wait_for_function("(document.getElementById('overlay-loss').data || []).length === 2")
    with page.expect_download() as info:
        page.click('button.png[data-chart="overlay-loss"]')
    assert info.value.suggested_filename.endswith(".png")


def test_a_row_opens_its_run_on_the_dashboard_which_links_back(page, live_server):
    (run_id,) = finished_runs(live_server, {"task": "saddle", "epochs": 20})
    open_runs(page, 1)
    page.click(f'tr[data-run-id="{run_id}"] td:nth-child(4)')  # the task cell
    page.wait_for_url(f"**/fit/saddle?run={run_id}*")
    page.wait_for_selector(f'#task-runs a[data-run-id="{run_id}"]')
    assert page.get_attribute("a#all-runs-link", "href") == "/runs"


def test_an_interrupted_run_offers_to_continue_from_its_saved_weights(page, live_server):
    (run_id,) = finished_runs(live_server, {"task": "sin", "epochs": 30})
    manager = live_server.app.extensions["runs"]
    for _ in range(500):  # its final state is stored (after that nothing writes its row again)
        if manager.get(run_id).closed:
            break
        page.wait_for_timeout(20)
    # as if its server had died: the stored row says interrupted and no live run remains
    live_server.app.extensions["store"].update_run(run_id, status="interrupted")
    manager.registry.remove(run_id)
    page.goto(f"/fit/sin?run={run_id}")
    page.wait_for_selector("#interrupted-banner:not([hidden])")
    page.click("#continue-run")
    page.wait_for_url(lambda url: "run=" in url and run_id not in url)
    new_id = page.url.split("run=")[1].split("&")[0]
    continued = get_json(live_server, "/api/runs")
    assert {run["id"]: run["continued_from"] for run in continued}[new_id] == run_id


@pytest.mark.parametrize("width", [1024, 1400])
def test_the_runs_table_scrolls_inside_its_panel_not_the_page(page, live_server, width):
    finished_runs(live_server, {"task": "sin", "hidden": [64, 64, 64, 64]})
    page.set_viewport_size({"width": width, "height": 900})
    open_runs(page, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wrap = page.locator(".runs-table-wrap").bounding_box()
    assert wrap["x"] + wrap["width"] <= width


def test_the_uploads_are_listed_with_their_size_and_can_be_deleted(page, live_server):
    import requests

    csv = "x,target\n" + "".join(f"{i},{i * 2}\n" for i in range(20))
    answer = requests.post(
        f"{live_server.url}/api/datasets", files={"file": ("line.csv", csv)}, timeout=30
    )
    dataset_id = answer.json()["id"]
    page.goto("/runs")
    row = page.locator(f'#uploads-body tr[data-id="{dataset_id}"]')
    row.wait_for(timeout=20_000)
    assert "bytes" in row.inner_text() and "1 of at most" in page.inner_text("#uploads-summary")
    row.locator("button.delete-upload").click()
    page.wait_for_function("document.querySelectorAll('#uploads-body tr').length === 0")
    assert "Deleted" in page.inner_text("#uploads-message")
    assert get_json(live_server, "/api/datasets")["datasets"] == []


def test_the_runs_table_shows_seed_sweep_and_a_learning_rate_changed_live(page, live_server):
    import requests

    steady = finished_runs(live_server, {"task": "sin", "seed": 11, "lr": 0.05})[0]
    changed = requests.post(f"{live_server.url}/api/runs", timeout=10, json={
        "task": "sin", "samples": 100, "epochs": 5000, "epochs_per_second": 40, "lr": 0.05})
    changed = changed.json()["id"]
    poll(lambda: get_json(live_server, f"/api/runs/{changed}")["epoch"] >= 2, 60, "epoch 2")
    requests.patch(f"{live_server.url}/api/runs/{changed}", json={"lr": 0.2}, timeout=10)
    poll(lambda: len(get_json(live_server, f"/api/runs/{changed}")["lr_changes"]) == 2, 60,
         "the lr change")
    requests.post(f"{live_server.url}/api/runs/{changed}/stop", timeout=10)
    sweep = requests.post(f"{live_server.url}/api/sweeps", timeout=30, json={
        "base": {"task": "sin", "samples": 60, "epochs": 5}, "vary": {"lr": [0.01]}}).json()["id"]
    poll(lambda: get_json(live_server, f"/api/sweeps/{sweep}")["status"] == "finished", 60,
         "the sweep to finish")
    open_runs(page, 3)
    plain = page.locator(f'tr[data-run-id="{steady}"]')
    assert plain.locator(".run-seed").inner_text() == "11"
    assert plain.locator(".run-lr").inner_text() == "0.05"
    assert plain.locator(".run-lr").get_attribute("data-changed") is None
    assert plain.locator(".run-sweep").count() == 0
    lr = page.locator(f'tr[data-run-id="{changed}"] .run-lr')
    assert lr.inner_text() == "0.05 → 0.2" and lr.get_attribute("data-changed") == "true"
    title = lr.get_attribute("title")
    assert "0.05 from the start" in title and "0.2 from epoch" in title
    swept = page.locator("tr[data-run-id] a.run-sweep")
    assert swept.count() == 1 and swept.inner_text() == "sweep"
    assert swept.get_attribute("title") == f"from sweep {sweep}"
    assert swept.get_attribute("href") == f"/sweeps/{sweep}"
    assert swept.locator("xpath=ancestor::tr").locator(".run-seed").inner_text() == "0\nsweep"
    # the filter finds a run by the rates it shows (a fresh user's "0.2" found nothing)
    page.fill("#filter-text", "→ 0.2")
    page.wait_for_function("document.querySelectorAll('tr[data-run-id]').length === 1")
    assert row_ids(page) == [changed]
    # one way of writing times on the page: the runs' and the sweeps' alike
    page.fill("#filter-text", "")
    started = page.locator(f'tr[data-run-id="{steady}"] .run-started').inner_text()
    created = page.locator("#sweeps-body tr td").nth(4).inner_text()
    assert len(started.split(", ")) == len(created.split(", ")) == 2, (started, created)
    assert len(started.split(", ")[0]) <= 8 and len(created.split(", ")[0]) <= 8
