"""The per-epoch charts draw a bounded number of points per line (static/js/decimation.js, issue
27): however long the run, the first and last epoch, the minimum and the maximum stay drawn, the
line within each bucket keeps its extremes, and a short run is drawn as it is. See
`js_modules.run_js`."""

from __future__ import annotations

import json

import numpy as np
from js_modules import run_js


def decimate(
    xs: list[float], ys: list[float | None], buckets: int | None = None, chunk: int = 0
) -> dict:
    """The drawn points of a DecimatedLine fed `xs`, `ys` (in chunks of `chunk` when > 0)."""
    return run_js(
        f"""
        const {{ DecimatedLine, BUCKETS }} = await importModule('/static/js/decimation.js');
        const xs = {json.dumps(xs)}, ys = {json.dumps(ys)}, chunk = {chunk};
        const line = new DecimatedLine({buckets or "BUCKETS"});
        if (!chunk) line.extend(xs, ys);
        else for (let i = 0; i < xs.length; i += chunk)
          line.extend(xs.slice(i, i + chunk), ys.slice(i, i + chunk));
        return {{ ...line.points(), limit: BUCKETS }};
        """
    )


def test_a_short_run_is_drawn_point_for_point() -> None:
    xs = list(range(1, 201))  # BUCKETS epochs
    ys = [1 / x for x in xs]
    drawn = decimate(xs, ys)
    assert drawn["x"] == xs and drawn["y"] == ys


def test_a_long_run_keeps_its_ends_its_minimum_and_maximum_in_bounded_points() -> None:
    rng = np.random.default_rng(1)
    epochs = 50_000
    xs = list(range(1, epochs + 1))
    ys = (np.exp(-np.arange(epochs) / 3000) + 0.05 * rng.random(epochs)).tolist()
    ys[31_337] = 5.0  # a spike late in the run
    ys[44_444] = -1.0  # and a dip
    drawn = decimate(xs, ys, chunk=97)  # appended frame by frame
    assert len(drawn["x"]) <= 4 * drawn["limit"]
    assert drawn["x"][0] == 1 and drawn["y"][0] == ys[0]
    assert drawn["x"][-1] == epochs and drawn["y"][-1] == ys[-1]
    assert max(drawn["y"]) == 5.0 and drawn["x"][drawn["y"].index(5.0)] == 31_338
    assert min(drawn["y"]) == -1.0
    assert drawn["x"] == sorted(set(drawn["x"]))  # increasing, no point twice
    assert all(ys[x - 1] == y for x, y in zip(drawn["x"], drawn["y"], strict=True))  # real points


def test_every_bucket_keeps_its_extremes() -> None:
    rng = np.random.default_rng(2)
    xs = list(range(1, 10_001))
    ys = rng.random(10_000).tolist()
    drawn = decimate(xs, ys, buckets=50)
    # cut the epochs where the drawn line does: between the kept points, no value lies outside
    # the range of the kept points of its bucket (so the drawn envelope is the true one)
    kept = dict(zip(drawn["x"], drawn["y"], strict=True))
    width = 256  # 10,000 epochs in at most 50 buckets: a power of two
    for start in range(0, 10_001, width):
        inside = [y for x, y in zip(xs, ys, strict=True) if start <= x < start + width]
        if inside:
            shown = [kept[x] for x in range(start, start + width) if x in kept]
            assert min(shown) == min(inside) and max(shown) == max(inside)


def test_missing_values_are_skipped_not_drawn_as_zero() -> None:
    drawn = decimate([1, 2, 3, 4], [0.5, None, 0.25, None])
    assert drawn["x"] == [1, 3] and drawn["y"] == [0.5, 0.25]
