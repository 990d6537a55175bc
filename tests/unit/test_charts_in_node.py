"""The charts' pure parts loaded in node (issue 25): smoothing by epoch distance, seed groups and
their time axis, log-axis ticks. See `js_modules.run_js`."""

from __future__ import annotations

import numpy as np
import pytest
from js_modules import run_js


def tensorboard(values: list[float], weight: float) -> list[float]:
    """TensorBoard's debiased EMA, one value per epoch, as a reference."""
    last, count, smoothed = 0.0, 0, []
    for value in values:
        last = last * weight + (1 - weight) * value
        count += 1
        smoothed.append(last / (1 - weight**count))
    return smoothed


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
    assert got[0] == pytest.approx(tensorboard(values, weight))
    assert got[1] == pytest.approx(tensorboard(values, weight))
    assert got[2] == pytest.approx(by_distance(values, epochs, weight))


@pytest.mark.parametrize(("epochs", "weight"), [(45_000, 0.6), (45_000, 0.95), (45_000, 0.99),
                                                (90_000, 0.9), (61_000, 0.999), (21_000, 0.8)])  # fmt: skip
def test_a_thinned_snapshot_smooths_as_the_whole_history(epochs, weight):
    """The loss chart itself (LossChart.reset + drawAll), fed the whole history and the
    snapshot's every-k-th epochs: the smoothed curves agree at the kept epochs."""
    losses = long_run(epochs)
    every = int(np.ceil(epochs / 20_000))
    keep = thinned(epochs, every)
    got = run_js(
        f"""const {{ LossChart }} = await importModule('/static/js/loss_chart.js');
        const losses = {np.round(losses, 6).tolist()};
        const keep = {keep.tolist()};
        const draw = (history) => {{
          const chart = new LossChart(element(), {{ smoothing: {weight} }});
          chart.reset(history, 'r');
          chart.drawAll();
          return drawn.at(-1).data[3].y;  // the smoothed test loss
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
