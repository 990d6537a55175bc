"""Weight initialisers. Each draws from a seeded ``np.random.Generator`` and returns an array in the
requested dtype (the draw is made in float64 and cast once, so a float32 and a float64 model built
with the same seed start from the same values)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["INITIALIZERS", "as_rng", "initialize", "xavier", "he", "uniform", "normal"]

Initializer = Callable[[tuple[int, int], np.random.Generator], np.ndarray]


def as_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A ``np.random.Generator`` from a seed, an existing generator (returned as is) or None."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    return np.random.default_rng(seed)


def xavier(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Glorot/Xavier uniform: ``W ~ U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = shape
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape)


def he(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """He/Kaiming normal: ``W ~ N(0, 2 / fan_in)`` (for ReLU-like activations)."""
    return rng.normal(0.0, math.sqrt(2.0 / shape[0]), size=shape)


def uniform(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """PyTorch's default for ``nn.Linear``: ``W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    a = 1.0 / math.sqrt(shape[0])
    return rng.uniform(-a, a, size=shape)


def normal(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """LeCun normal: ``W ~ N(0, 1 / fan_in)``."""
    return rng.normal(0.0, math.sqrt(1.0 / shape[0]), size=shape)


_BY_NAME: dict[str, Initializer] = {
    "xavier": xavier,
    "he": he,
    "uniform": uniform,
    "normal": normal,
}
INITIALIZERS: tuple[str, ...] = tuple(_BY_NAME)


def initialize(
    init: str | Initializer, shape: tuple[int, int], rng: np.random.Generator, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Initial ``(weight, bias)`` for a layer of ``shape = (fan_in, fan_out)`` in ``dtype``.

    ``init`` is one of :data:`INITIALIZERS` or a callable ``(shape, rng) -> array``. Biases start at
    zero, except for ``"uniform"`` which (as PyTorch) draws them from ``U(-1/sqrt(fan_in), ..)``.
    """
    if callable(init):
        weight = np.asarray(init(shape, rng))
        if weight.shape != shape:
            raise ValueError(f"init returned shape {weight.shape}, expected {shape}")
        bias = np.zeros(shape[1])
    elif init in _BY_NAME:
        weight = _BY_NAME[init](shape, rng)
        if init == "uniform":
            a = 1.0 / math.sqrt(shape[0])
            bias = rng.uniform(-a, a, size=shape[1])
        else:
            bias = np.zeros(shape[1])
    else:
        raise ValueError(
            f"init must be one of {', '.join(INITIALIZERS)} or a callable, got {init!r}"
        )
    return weight.astype(dtype), bias.astype(dtype)
