"""Gradient checking against float64 central differences."""

from __future__ import annotations

import copy

import numpy as np

from .losses import Loss
from .model import Sequential

__all__ = ["gradcheck", "numeric_gradient"]


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``max|a - n| / max(max|a|, max|n|)`` over one array (0 when both are zero)."""
    scale = max(float(np.max(np.abs(analytic))), float(np.max(np.abs(numeric))))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(analytic - numeric))) / scale


def gradcheck(
    model: Sequential, loss_fn: Loss, x: np.ndarray, t: np.ndarray, eps: float = 1e-6
) -> float:
    """Largest relative error between back-propagated and numerical gradients.

    Works on a float64 copy of ``model`` in evaluation mode (the model itself is untouched).
    Each parameter array and the input gradient dL/dx are compared with central differences
    ``(L(θ + ε) - L(θ - ε)) / 2ε``; an array's error is ``max|analytic - numeric|`` divided by its
    largest gradient magnitude. Returns the maximum over all arrays (below ~1e-7 when correct).
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential, got {type(model).__name__}")
    if not isinstance(loss_fn, Loss):
        raise TypeError(f"loss_fn must be a Loss, got {type(loss_fn).__name__}")
    net = copy.deepcopy(model).to(np.float64).eval()
    x = net.as_input(np.asarray(x, dtype=np.float64)).copy()
    t = loss_fn.targets(t, net.predict(x).shape[1], np.float64, len(x))
    tape = net.record(x)
    net.zero_grad()
    dx = net.backprop(tape, loss_fn.gradient(tape.output, t), input_grad=True, accumulate=False)
    pairs = [(p.data, p.grad.copy()) for p in net.parameters()] + [(x, dx.copy())]
    return max(
        _relative_error(
            analytic, numeric_gradient(lambda: loss_fn.value(net.predict(x), t), values, eps)
        )
        for values, analytic in pairs
    )


def numeric_gradient(loss_at, values: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences ``(L(v + ε) - L(v - ε)) / 2ε`` for every element of ``values``
    (changed in place and restored), where ``loss_at()`` computes L."""
    numeric = np.empty_like(values)
    flat, flat_numeric = values.reshape(-1), numeric.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        up = loss_at()
        flat[i] = saved - eps
        down = loss_at()
        flat[i] = saved
        flat_numeric[i] = (up - down) / (2 * eps)
    return numeric
