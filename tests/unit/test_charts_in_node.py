"""The charts' pure parts loaded in node (issue 25): smoothing by epoch distance, seed groups and
their time axis, log-axis ticks. See `js_modules.run_js`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from js_modules import run_js
from smoothing_reference import tensorboard_smoothing


def by_distance(values: list[float], epochs: list[int], weight: float) -> list[float]:
    """Σ w^(e_i − e_j)·v_j / Σ w^(e_i − e_j) over the values so far: the definition."""
    e, v = np.array(epochs, float), np.array(values)
    return [float(np.sum(weight ** (e[i] - e[: i + 1]) * v[: i + 1])
                  / np.sum(weight ** (e[i] - e[: i + 1]))) for i in range(len(v))]  # fmt: skip


def long_run(epochs: int, seed: int = 0) -> np.ndarray:
    """A long run's loss: a fast first fall, a warm restart every 5,000 epochs, 1 % noise."""
    rng = np.random.default_rng(seed)
    e = np.arange(1, epochs + 1)
    loss = 1e-3 + np.exp(-e / 300) + 0.5 * np.exp(-(e % 5000) / 100)
    return loss * (1 + 0.01 * rng.standard_normal(epochs))


def thinned(epochs: int, every: int) -> np.ndarray:
    """The epochs a snapshot keeps (as the server thins: every k-th and the last), 0-based."""
    keep = np.arange(every - 1, epochs, every)
    return keep if keep[-1] == epochs - 1 else np.append(keep, epochs - 1)


# --- 7. smoothing by epoch distance ------------------------------------------------------------


@pytest.mark.parametrize("weight", [0.0, 0.6, 0.9, 0.99])
def test_every_epoch_smooths_as_tensorboard_and_gaps_by_distance(weight):
    values = [1.0, 0.5, 0.8, 0.2, 0.4, 0.1, 0.3, 0.05]
    epochs = [3, 6, 9, 12, 15, 18, 20, 21]
    got = run_js(
        f"""const {{ smoothSeries }} = await importModule('/static/js/smoothing.js');
        const values = {values};
        return [smoothSeries(values, {weight}), smoothSeries(values, {weight}, [1,2,3,4,5,6,7,8]),
                smoothSeries(values, {weight}, {epochs})];"""
    )
    assert got[0] == pytest.approx(tensorboard_smoothing(values, weight))
    assert got[1] == pytest.approx(tensorboard_smoothing(values, weight))
    assert got[2] == pytest.approx(by_distance(values, epochs, weight))


def test_on_a_log_axis_the_logarithms_are_smoothed():
    """A loss falling tenfold every 10 epochs: on a log axis the smoothed curve is the debiased
    average of the logarithms (it lags the raw line by a few epochs, as on a linear axis), not
    the arithmetic one, which early on is drawn above the raw line by whole orders of magnitude.
    The chart smooths so when its scale is log, and values ≤ 0 are skipped there."""
    values = [10 ** (-epoch / 10) for epoch in range(60)]
    got = run_js(
        f"""const {{ smoothSeries }} = await importModule('/static/js/smoothing.js');
        const {{ LossChart }} = await importModule('/static/js/loss_chart.js');
        const {{ palette }} = await importModule('/static/js/theme.js');
        const values = {values};
        const chart = new LossChart(element(), {{ smoothing: 0.9, logScale: true }});
        chart.reset({{ epoch: values.map((_v, i) => i + 1), train_loss: values,
                       test_loss: values, lr: values.map(() => 0.01) }}, 'r');
        return [smoothSeries(values, 0.9, undefined, {{ log: true }}), smoothSeries(values, 0.9),
                chart.figure(palette()).data[2].y, smoothSeries([1, 0, -1, 0.5], 0.5, undefined,
                {{ log: true }})];"""
    )
    logs = tensorboard_smoothing([float(np.log10(v)) for v in values], 0.9)
    assert got[0] == pytest.approx([10**v for v in logs])
    assert got[2] == pytest.approx(got[0])  # the chart's smoothed train loss, on its log axis
    late = 59  # the arithmetic mean sits 25x above the raw loss there; the geometric one 4x
    assert got[1][late] / values[late] > 20 and got[0][late] / values[late] < 10
    assert got[3][0] == pytest.approx(1.0) and got[3][1] is None and got[3][2] is None
    assert got[3][3] == pytest.approx(10 ** ((0.5 * 0 + np.log10(0.5)) / 1.5))


@pytest.mark.parametrize(
    ("epochs", "weight"),
    [(45_000, 0.6), (45_000, 0.95), (45_000, 0.99), (90_000, 0.9), (61_000, 0.999), (21_000, 0.8)],
)
def test_a_thinned_snapshot_smooths_as_the_whole_history(epochs, weight):
    """The loss chart itself (LossChart.reset + figure: the lines before they are decimated for
    drawing), fed the whole history and the snapshot's every-k-th epochs: the smoothed curves
    agree at the kept epochs."""
    losses = long_run(epochs)
    every = int(np.ceil(epochs / 20_000))
    keep = thinned(epochs, every)
    got = run_js(
        f"""const {{ LossChart }} = await importModule('/static/js/loss_chart.js');
        const {{ palette }} = await importModule('/static/js/theme.js');
        const losses = {np.round(losses, 6).tolist()};
        const keep = {keep.tolist()};
        const draw = (history) => {{
          const chart = new LossChart(element(), {{ smoothing: {weight} }});
          chart.reset(history, 'r');
          return chart.figure(palette()).data[3].y;  // the smoothed test loss
        }};
        const whole = draw({{ epoch: losses.map((_, i) => i + 1), train_loss: losses,
                               test_loss: losses }});
        const part = draw({{ epoch: keep.map((i) => i + 1), train_loss: keep.map((i) => losses[i]),
                              test_loss: keep.map((i) => losses[i]) }});
        return {{ whole: keep.map((i) => whole[i]), part }};"""
    )
    whole, part = np.array(got["whole"]), np.array(got["part"])
    moved = np.abs(part - whole) / whole
    # only points next to a restart (a jump between two kept epochs) may move by 5 %; smoothed
    # per point, 17-96 % of them moved (0.9-0.999), by up to 770 %
    assert np.mean(moved > 0.05) < 0.02, (moved.max(), np.mean(moved > 0.05))
    assert np.median(moved) < 0.01


# --- 5. seeds as one band; 6. a group's time axis never runs backwards ---------------------------

OVERLAY = """
const { Overlay, groupSeconds } = await importModule('/static/js/runs_overlay.js');
const overlay = new Overlay(element(), element(), element(), element());
const draw = (runs, histories, axis = 'epoch', grouping = true) => {
  overlay.runs = runs; overlay.histories = new Map(Object.entries(histories));
  overlay.axis = axis; overlay.grouping = grouping; overlay.draw();
  return drawn.at(-2).data.map((t) => ({ name: t.name, x: t.x, y: t.y, colour: t.line?.color,
                                         meta: t.meta ?? null }));
};
"""


def moons_config(seed: int, domain: list[list[float]], **changes) -> dict:
    return {"hidden": [8], "activation": "tanh", "optimizer": "adam", "lr": 0.01, "loss":
            "cross_entropy", "seed": seed, "domain": domain, "epochs": 3, **changes}  # fmt: skip


def history(seconds: list[float], loss: list[float], accuracy: bool = True) -> dict:
    answer = {"epoch": list(range(1, len(loss) + 1)), "train_loss": loss, "test_loss": loss,
              "seconds": seconds}  # fmt: skip
    if accuracy:
        answer["test_acc"] = [0.5] * len(loss)
    return answer


DOMAINS = [[[-2, 3.1], [-1.6, 2.0]], [[-2, 3], [-1.4, 1.9]], [[-2.1, 3], [-1.5, 1.9]]]


@pytest.mark.parametrize(
    "task", ["moons", "circles", "spiral", "blobs", "xor", "dataset:abc"]
)
def test_seeds_whose_derived_domains_differ_are_one_group(task):
    runs = [{"id": f"r{k}", "task": task, "config": moons_config(k, DOMAINS[k])}
            for k in range(3)]  # fmt: skip
    histories = {f"r{k}": history([0.1, 0.2, 0.3], [1.0, 0.5, 0.2]) for k in range(3)}
    traces = run_js(OVERLAY + f"return draw({json.dumps(runs)}, {json.dumps(histories)});")
    lines = [t for t in traces if t["meta"] and t["meta"].get("column") == "test_loss"
             and "kind" not in t["meta"]]  # fmt: skip
    assert len(lines) == 1 and "(3 seeds)" in lines[0]["name"]


def test_a_regression_domain_or_another_setting_is_still_a_difference():
    sin = {"hidden": [8], "lr": 0.01, "loss": "mse"}
    runs = [
        {"id": "a", "task": "sin", "config": {**sin, "seed": 1, "domain": [[-3, 3]]}},
        {"id": "b", "task": "sin", "config": {**sin, "seed": 2, "domain": [[-2, 2]]}},
        {"id": "c", "task": "moons", "config": moons_config(3, DOMAINS[0])},
        {"id": "d", "task": "moons", "config": moons_config(4, DOMAINS[1], lr=0.1)},
    ]
    histories = {"a": history([1], [1.0], False), "b": history([1], [1.0], False),
                 "c": history([1], [1.0]), "d": history([1], [1.0])}  # fmt: skip
    traces = run_js(OVERLAY + f"return draw({json.dumps(runs)}, {json.dumps(histories)});")
    solid = [t for t in traces if t["meta"] and t["meta"]["column"] == "test_loss"]
    assert len(solid) == 4


@pytest.mark.parametrize(
    "seconds",
    [
        [[0.1, 0.2, 0.3, 0.4, 1.251], [0.005, 0.01, 0.014]],  # the slower run goes on
        [[0.01, 0.02], [0.5, 1.0, 1.5, 2.0], [0.2, 0.4, 0.6]],  # ends in the other order
        [[0.3, 0.31, 0.9, 5.0], [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]],
    ],
)
def test_a_group_on_the_time_axis_never_runs_backwards(seconds):
    runs = [{"id": f"r{k}", "task": "sin", "config": {"hidden": [4], "seed": k}}
            for k in range(len(seconds))]  # fmt: skip
    histories = {f"r{k}": history(column, [1.0] * len(column), False)
                 for k, column in enumerate(seconds)}  # fmt: skip
    got = run_js(
        OVERLAY + f"const traces = draw({json.dumps(runs)}, {json.dumps(histories)}, 'seconds');"
        f"return {{ traces, note: null, direct: groupSeconds({seconds}) }};"
    )
    mean = [t for t in got["traces"] if "seeds" in t.get("name", "")][0]
    assert all(b >= a for a, b in zip(mean["x"], mean["x"][1:], strict=False))
    assert mean["x"] == got["direct"]
    first = [column[0] for column in seconds]
    assert mean["x"][0] == pytest.approx(np.mean(first))  # the mean while every run is there
    assert len(mean["x"]) == max(len(column) for column in seconds)


def test_a_runs_colour_stays_when_grouping_or_the_axis_changes():
    runs = [{"id": "a", "task": "sin", "config": {"hidden": [4], "seed": 1}},
            {"id": "b", "task": "sin", "config": {"hidden": [8], "seed": 1}},
            {"id": "c", "task": "sin", "config": {"hidden": [4], "seed": 2}}]  # fmt: skip
    histories = {k: history([0.1, 0.2], [1.0, 0.5], False) for k in "abc"}
    got = run_js(
        OVERLAY
        + f"""const runs = {json.dumps(runs)}, histories = {json.dumps(histories)};
        const colours = () => Object.fromEntries(
          ['a', 'b', 'c'].map((id) => [id, overlay.colourOf(id)]));
        const seen = [];
        for (const [axis, grouping] of [['epoch', true], ['epoch', false], ['seconds', false],
                                        ['seconds', true], ['epoch', true]]) {{
          draw(runs, histories, axis, grouping); seen.push([grouping, colours()]);
        }}
        return seen;"""
    )
    for grouping, colours in got:
        assert colours["a"] == got[1][1]["a"] and colours["b"] == got[1][1]["b"]
        if grouping:
            assert colours["c"] == colours["a"]  # drawn in its group's colour
    assert len({got[1][1]["a"], got[1][1]["b"], got[1][1]["c"]}) == 3


# --- 10. log axes at whole decades: two labels at least, seven at most ---------------------------


def labels(axis: dict) -> list[int]:
    """The exponents Plotly labels on a log axis of this range and dtick (multiples of dtick)."""
    lo, hi = axis["range"]
    step = axis["dtick"]
    every = range(int(np.floor(lo)), int(np.ceil(hi)) + 1)
    return [k for k in every if lo <= k <= hi and k % step == 0]


@pytest.mark.parametrize(
    "values",
    [[0.003], [1e-6], [0.0031, 0.0029], [0.5, 0.7], [1e-30, 1e2], [1e-9, 3e-9], [12.0, 99.0],
     [1e-3, 1.0], [2e-5, 7e4], [0.1]],
)
def test_a_log_axis_shows_between_two_and_seven_decade_labels(values):
    axis = run_js(
        f"""const {{ logAxis }} = await importModule('/static/js/log_axis.js');
        return logAxis({json.dumps(values)});"""
    )
    shown = labels(axis)
    assert 2 <= len(shown) <= 7, (values, axis)
    assert 10 ** axis["range"][0] <= min(values) and max(values) <= 10 ** axis["range"][1]


@pytest.mark.parametrize("lr", [0.003, 1e-6, 0.5])
def test_the_lr_axis_of_a_constant_rate_has_two_labels(lr):
    got = run_js(
        f"""const {{ LossChart }} = await importModule('/static/js/loss_chart.js');
        const chart = new LossChart(element(), {{ smoothing: 0.6, logScale: true }});
        chart.reset({{ epoch: [1, 2, 3], train_loss: [1, 0.5, 0.2], test_loss: [1, 0.6, 0.3],
                       lr: [{lr}, {lr}, {lr}] }}, 'r');
        chart.drawAll();
        const layout = drawn.at(-1).layout;
        return {{ lr: layout.yaxis2, loss: layout.yaxis }};"""
    )
    assert len(labels(got["lr"])) >= 2 and len(labels(got["loss"])) >= 2


def test_the_compare_charts_loss_axis_and_legend():
    runs = [{"id": "a", "task": "sin", "config": {"hidden": [4], "seed": 1}}]
    histories = {"a": history([0.1, 0.2, 0.3], [0.0031, 0.0030, 0.0029], False)}
    got = run_js(
        OVERLAY + f"draw({json.dumps(runs)}, {json.dumps(histories)});"
        "return drawn.at(-2).layout;"
    )
    assert len(labels(got["yaxis"])) >= 2
    assert got["legend"]["y"] >= 1 and got["legend"]["yanchor"] == "bottom"  # not under x


def test_a_learning_rate_changed_live_is_named_by_its_path_in_the_legend():
    """The config holds a changed run's last rate only: the legend tells "lr 0.05→0.2" from a
    run trained at 0.2 throughout, and the two are not one seed group."""
    config = {"hidden": [8], "lr": 0.2, "loss": "mse"}
    changed = [{"epoch": 0, "lr": 0.05}, {"epoch": 40, "lr": 0.2}]
    runs = [
        {"id": "a" * 8, "task": "sin", "config": {**config, "seed": 1}, "lr_changes": changed},
        {"id": "b" * 8, "task": "sin", "config": {**config, "seed": 2}},
    ]
    histories = {"a" * 8: history([1], [1.0], False), "b" * 8: history([1], [1.0], False)}
    traces = run_js(OVERLAY + f"return draw({json.dumps(runs)}, {json.dumps(histories)});")
    names = {t["name"] for t in traces if t["meta"] and t["meta"]["column"] == "test_loss"}
    assert any("lr 0.05→0.2" in name for name in names), names
    assert any(name.endswith("lr 0.2") or "lr 0.2 " in name for name in names), names
    assert len(names) == 2
