"""TensorBoard's debiased exponential moving average, the reference the page's smoothing is
checked against (tests/unit/test_charts_in_node.py, tests/browser/test_modules.py)."""

from __future__ import annotations


def tensorboard_smoothing(values: list[float], weight: float) -> list[float]:
    """One smoothed value per value (one per epoch): ``last = w·last + (1 − w)·v``, divided by
    ``1 − wⁿ`` after n values (the debiasing)."""
    last, count, smoothed = 0.0, 0, []
    for value in values:
        last = last * weight + (1 - weight) * value
        count += 1
        smoothed.append(last / (1 - weight**count))
    return smoothed
