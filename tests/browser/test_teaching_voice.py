"""Issue 26 in the page: the best-epoch marker and the overfitting band on the loss chart, the
observations' quiet line, and a healthy run's pill with no warning."""

from __future__ import annotations

import pytest
from browser_helpers import ended_run, open_dashboard, wait_status

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
