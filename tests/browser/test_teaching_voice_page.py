"""Issue 26 in the page: the best-epoch marker and the overfitting band on the loss chart, the
observations' quiet line, and a healthy run's pill with no warning."""

from __future__ import annotations

import pytest
from browser_helpers import ended_run, get_json, open_dashboard, wait_status

pytestmark = pytest.mark.browser

OVERFITS = {"task": "sin", "samples": 30, "noise": 0.5, "hidden": [64, 64], "lr": 0.01,
            "epochs": 400}  # fmt: skip


MARKS = """() => {
  const gd = document.getElementById('loss-chart');
  if (!gd || !gd.layout) return null;
  const shapes = (gd.layout.shapes || []).map(s => [s.name, s.x0]);
  const band = (gd.data || []).find(t => t.name === 'overfitting gap');
  return {shapes, band: band ? band.x.length : 0};
}"""


def test_the_loss_chart_marks_the_best_epoch_and_shades_the_overfitting_gap(page, live_server):
    status = ended_run(live_server, OVERFITS)
    run_id = status["id"]
    assert status["findings"][0]["kind"] == "overfitting"
    open_dashboard(page, f"/fit/sin?run={run_id}")
    wait_status(page, "finished")
    page.wait_for_function(f"({MARKS})()?.band > 0")
    marks = page.evaluate(MARKS)
    assert ["best epoch", status["best_epoch"]] in marks["shapes"]
    assert ["overfitting", status["findings"][0]["epoch"]] in marks["shapes"]
    banner = page.locator("#banner-warnings").inner_text()
    assert "overfit" in banner and f"epoch {status['findings'][0]['epoch']}" in banner
    # a run that learned and then overfit is told so, not "not learning"
    assert "This run overfits:" in banner
    assert page.inner_text("#status-pill").lower() == "finished · overfits"


def test_a_healthy_run_has_no_warning_on_its_pill_and_says_its_observations_quietly(
    page, live_server
):
    status = ended_run(live_server, {"task": "circles", "activation": "relu", "lr": 0.1})
    run_id = status["id"]
    assert status["warnings"] == [] and status["observations"]
    open_dashboard(page, f"/fit/circles?run={run_id}")
    wait_status(page, "finished")
    page.wait_for_function("!document.getElementById('observations').hidden")
    pill = page.inner_text("#status-pill")
    assert "⚠" not in pill and "not learning" not in pill
    assert page.locator("#banner-warnings").count() == 0
    assert "dead" in page.inner_text("#observations")


def test_early_stopping_is_a_field_of_the_form_and_of_the_link(page, live_server):
    open_dashboard(page, "/fit/sin?early_stopping=20&samples=40&noise=0.5&epochs=400&hidden=64,64")
    config = page.evaluate("window.studio.form.read().config")
    assert config["early_stopping"] == {"patience": 20, "restore_best": True}
    page.select_option("#early_stopping", "10")
    page.wait_for_function("location.search.includes('early_stopping=10')")
    page.click("#train")
    wait_status(page, "finished")
    run_id = page.evaluate("window.studio.state.runId")
    status = get_json(live_server, f"/api/runs/{run_id}")
    assert status["config"]["early_stopping"] == {"patience": 10, "restore_best": True}
    assert "early stopping" in status["reason"]
    page.wait_for_function("document.getElementById('status-epoch').textContent.includes('early')")
    assert "not learning" not in page.inner_text("#status-pill")
    page.select_option("#early_stopping", "off")
    assert page.evaluate("window.studio.form.read().config.early_stopping") is None
