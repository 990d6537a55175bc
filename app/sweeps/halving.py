"""Successive halving (``"early_stop": "halving"``), asynchronous as Optuna's and Ray Tune's
pruners: at each rung of the epochs (`rungs`), a run whose best test loss so far is in the worst
half of the values its sweep's runs reached at that rung (`worst_half`) is stopped there, with
the reason in its status (`reason`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

FIRST_RUNG = 1 / 8  # the first rung's share of the epochs; each next rung doubles it


def rungs(epochs: int) -> list[int]:
    """The rungs of a run of `epochs` epochs: epochs/8, epochs/4, epochs/2 (rounded, at least
    1, below `epochs`, without repeats)."""
    found: list[int] = []
    share = FIRST_RUNG
    while share < 1:
        rung = max(1, round(epochs * share))
        if rung < epochs and rung not in found:
            found.append(rung)
        share *= 2
    return found


def worst_half(value: float, values: list[float]) -> bool:
    """Whether `value` (one of `values`, the rung's values so far) is in their worst half:
    ranked from the lowest, it is past the first ceil(n/2). A lone value never is; a value that
    is not finite always is (with another to compare)."""
    if len(values) < 2:
        return False
    if not math.isfinite(value):
        return True
    ordered = sorted(v if math.isfinite(v) else math.inf for v in values)
    keep = math.ceil(len(ordered) / 2)
    return value > ordered[keep - 1]


def best_until(run: Any, epoch: int) -> float:
    """A run's lowest test loss over its first `epoch` epochs (inf without one)."""
    with run.lock:
        history = run.history
        if "test_loss" not in history.names or history.length < epoch:
            return math.inf
        column = np.asarray(history.columns["test_loss"][:epoch], dtype=np.float64)
    finite = column[np.isfinite(column)]
    return float(finite.min()) if finite.size else math.inf


def reason(rung: int, value: float, count: int) -> str:
    """The status reason of a run that halving stopped."""
    return (f"stopped by successive halving: at the rung of epoch {rung} its best test "
            f"loss {value:.4g} was in the worst half of the {count} runs of the sweep there")
