"""The dashboard's pure modules, run in the browser: smoothing and URL state."""

from __future__ import annotations

from typing import Any

import pytest
from smoothing_reference import tensorboard_smoothing

pytestmark = pytest.mark.browser


@pytest.fixture
def modules(page: Any) -> Any:
    page.goto("/fit/sin")
    page.wait_for_function("window.studio !== undefined")
    return page


def test_smoothing_matches_tensorboard_and_never_rewrites_the_past(modules: Any) -> None:
    values = [1.0, 0.5, 0.8, 0.2, 0.4, 0.1, 0.3, 0.05]
    result = modules.evaluate(
        """async (values) => {
          const { smoothSeries, DebiasedEma } = await import('/static/js/smoothing.js');
          const whole = smoothSeries(values, 0.8);
          const ema = new DebiasedEma(0.8);
          const prefix = values.slice(0, 4).map(v => ema.push(v));
          const skip = smoothSeries([1, null, 3], 0.5);
          return { whole, prefix, none: smoothSeries(values, 0), skip };
        }""",
        values,
    )
    assert result["whole"] == pytest.approx(tensorboard_smoothing(values, 0.8))
    assert result["prefix"] == result["whole"][:4]
    assert result["none"] == pytest.approx(values)
    assert result["skip"][1] is None and result["skip"][2] == pytest.approx(
        tensorboard_smoothing([1, 3], 0.5)[1]
    )


def test_url_state_round_trips_a_config(modules: Any) -> None:
    result = modules.evaluate(
        """async () => {
          const url = await import('/static/js/url_state.js');
          const { ConfigSchema } = await import('/static/js/config_schema.js');
          const schema = new ConfigSchema(await (await fetch('/api/schema')).json());
          const { configToQuery, queryToConfig, taskFromPath } = url;
          const config = { hidden: [16, 16], activation: 'relu', optimizer: 'sgd', lr: 0.01,
            momentum: 0.9, batch_size: 32, epochs: 500, domain: [[-2, 2], [-1, 3]] };
          const query = configToQuery(config, 'abc123', schema);
          return { query, parsed: queryToConfig('?' + query, schema),
                   task: taskFromPath('/fit/saddle') };
        }"""
    )
    assert "hidden=16,16" in result["query"] and result["query"].endswith("run=abc123")
    parsed = result["parsed"]
    assert parsed["runId"] == "abc123"
    assert parsed["config"]["hidden"] == ["16", "16"]
    assert parsed["config"]["domain"] == [["-2", "2"], ["-1", "3"]]
    assert parsed["config"]["lr"] == "0.01" and parsed["config"]["activation"] == "relu"
    assert result["task"] == "saddle"


def test_decision_regions_encode_class_and_confidence_in_one_value(modules: Any) -> None:
    result = modules.evaluate(
        """async () => {
          const view = await import('/static/js/decision_colours.js');
          const { regionValues, regionColorscale, blend } = view;
          const prediction = { z: [[0, 1, 2], [2, null, 0]],
                               confidence: [[1 / 3, 1, 2 / 3], [0.2, null, 1]] };
          return {
            values: regionValues(prediction, 3),
            scale: regionColorscale(['#0072B2', '#E69F00', '#009E73'], '#ffffff'),
            half: blend('#000000', '#ffffff', 0.5),
          };
        }"""
    )
    values = result["values"]
    assert values[0][0] == pytest.approx(0)  # at chance: the bottom of class 0's band
    assert values[0][1] == pytest.approx(1.999)  # sure: the top of class 1's band, still class 1
    assert values[0][2] == pytest.approx(2.4995)  # halfway from chance (1/3) to sure
    assert values[1][0] == pytest.approx(2) and values[1][1] is None  # below chance clamps
    positions = [stop[0] for stop in result["scale"]]
    assert positions == sorted(positions) and positions[0] == 0 and positions[-1] == 1
    assert len(positions) == 6  # two stops (faint, strong) per class
    assert result["half"] == "rgb(128,128,128)"


def test_live_changes_are_found_across_history_chunks(modules: Any) -> None:
    result = modules.evaluate(
        """async () => {
          const { steeredChanges } = await import('/static/js/loss_chart.js');
          const last = {};
          const first = steeredChanges({ epoch: [1, 2, 3], batch_size: [32, 32, 8],
            l1: [0, 0, 0], weight_decay: [0, 0, 0.001] }, 3, last);
          // a chunk of one new epoch: no change, then a change inside the next chunk only
          const none = steeredChanges({ epoch: [4], batch_size: [8], l1: [0],
            weight_decay: [0.001] }, 1, last);
          const later = steeredChanges({ epoch: [5, 6], batch_size: [8, 8], l1: [null, 0.0001],
            weight_decay: [0.001, 0.001] }, 2, last);
          const short = steeredChanges({ epoch: [1, 2], batch_size: [32] }, 2, {});
          return { first, none, later, short };
        }"""
    )
    assert result["first"] == [
        {"epoch": 3, "text": "batch 32 → 8"},
        {"epoch": 3, "text": "weight decay 0 → 0.001"},
    ]
    assert result["none"] == []
    assert result["later"] == [{"epoch": 6, "text": "L1 0 → 0.0001"}]
    assert result["short"] == []  # a column not as long as the epochs is not read
