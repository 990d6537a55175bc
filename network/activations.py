"""Activation layers: each is its formula ``f`` and its derivative ``df``, nothing else.

``f(x, out)`` returns ``y = f(x)``; ``df(x, y, out)`` returns ``dy/dx`` element-wise, both into
``out`` (numpy allocates when it is None). ``reads`` names what ``df`` reads: ``("y",)`` by default
(the model may then compute ``y`` over ``x`` in place), ``("x",)`` or ``("x", "y")`` otherwise.
Backward is the chain rule, written once: ``dL/dx = dL/dy · dy/dx``. A new activation is a
subclass with its formulas in the docstring, ``f``, ``df`` and ``reads``, named in ``_BY_NAME``.
Defaults match PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from . import checks
from .layers import Layer, copy_into

__all__ = ["ACTIVATIONS", "Activation", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU"]
__all__ += ["Softplus", "Identity", "get_activation"]


class Activation(Layer):
    """Base class of the element-wise activations: subclasses define ``f`` and ``df``."""

    reads: tuple[str, ...] = ("y",)

    def forward(self, x, out=None, aux=None):
        """``f(x)``."""
        return self.f(x, out)

    def backward(self, grad, x, y, aux=None):
        """The chain rule: ``dL/dx = grad · df`` (into ``grad``, with ``aux`` as scratch)."""
        grad *= self.df(x, y, np.empty_like(grad) if aux is None else aux)
        return grad


class Tanh(Activation):
    """``y = tanh(x)``;  ``dy/dx = 1 - y²``."""

    def f(self, x, out):
        return np.tanh(x, out=out)

    def df(self, x, y, out):
        return np.subtract(1.0, np.multiply(y, y, out=out), out=out)


class Sigmoid(Activation):
    """``y = σ(x) = 1 / (1 + e⁻ˣ)``, computed as ``(1 + tanh(x/2)) / 2`` (never overflows);
    ``dy/dx = y (1 - y)``."""

    def f(self, x, out):
        t = np.tanh(np.multiply(x, 0.5, out=out), out=out)
        return np.multiply(np.add(t, 1.0, out=t), 0.5, out=t)

    def df(self, x, y, out):
        return np.multiply(np.subtract(1.0, y, out=out), y, out=out)


class ReLU(Activation):
    """``y = max(x, 0)``;  ``dy/dx = [y > 0]``."""

    def f(self, x, out):
        return np.maximum(x, 0.0, out=out)

    def df(self, x, y, out):
        return np.greater(y, 0.0, out=out)


class LeakyReLU(Activation):
    """``y = max(x, a·x)`` (``a = negative_slope`` in [0, 1]);  ``dy/dx = 1 if y > 0 else a``."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = checks.real(negative_slope, "negative_slope", 0.0, 1.0)

    def f(self, x, out):
        return np.maximum(x, self.negative_slope * x, out=out)

    def df(self, x, y, out):
        d = np.greater(y, 0.0, out=out)  # [y > 0], then a + (1 - a)·[y > 0]
        return np.add(np.multiply(d, 1.0 - self.negative_slope, out=d), self.negative_slope, out=d)


class ELU(Activation):
    """``y = x if x > 0 else α(eˣ - 1)``;  ``dy/dx = 1 if y > 0 else y + α``."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = checks.real(alpha, "alpha", 0.0, low_open=True)

    def f(self, x, out):
        negative = self.alpha * np.expm1(np.minimum(x, 0.0))
        return np.add(np.maximum(x, 0.0, out=out), negative, out=out)

    def df(self, x, y, out):
        d = np.add(y, self.alpha, out=out)
        np.copyto(d, 1.0, where=y > 0.0)
        return d


class GELU(Activation):
    """GELU, tanh form (PyTorch ``GELU(approximate="tanh")``), ``k = √(2/π)``, ``c = 0.044715``:
    ``y = x/2 · (1 + t)``, ``t = tanh(k (x + c x³))``;
    ``dy/dx = (1 + t)/2 + x/2 · (1 - t²) · k (1 + 3c x²)``."""

    reads = ("x",)
    k, c = math.sqrt(2.0 / math.pi), 0.044715

    def _t(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(self.k * (x + self.c * x**3))

    def f(self, x, out):
        y = np.add(self._t(x), 1.0, out=out)
        y *= 0.5 * x
        return y

    def df(self, x, y, out):
        t = self._t(x)
        d = np.multiply(0.5 * x * (1.0 - t * t), self.k * (1.0 + 3.0 * self.c * x * x), out=out)
        d += 0.5 * (1.0 + t)
        return d


class Softplus(Activation):
    """``y = log(1 + e^(βx)) / β``, computed as ``max(x, 0) + log1p(e^(-β|x|)) / β``;
    ``dy/dx = σ(βx) = 1 - e^(-βy)``.

    Unlike PyTorch there is no linear cut-off above ``βx > 20`` (a difference below 2e-9).
    """

    def __init__(self, beta: float = 1.0) -> None:
        self.beta = checks.real(beta, "beta", 0.0, low_open=True)

    def f(self, x, out):
        tail = np.log1p(np.exp(-self.beta * np.abs(x))) / self.beta
        return np.add(np.maximum(x, 0.0, out=out), tail, out=out)

    def df(self, x, y, out):
        return np.negative(np.expm1(np.multiply(y, -self.beta, out=out), out=out), out=out)


class Identity(Activation):
    """``y = x``;  ``dy/dx = 1``."""

    reads = ()

    def f(self, x, out):
        return x.copy() if out is None else copy_into(out, x)

    def df(self, x, y, out):
        return 1.0


_BY_NAME: dict[str, type[Activation]] = {
    "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU, "elu": ELU,
    "gelu": GELU, "softplus": Softplus, "identity": Identity,
}  # fmt: skip

#: Names accepted by :func:`get_activation` and ``mlp(..., activation=...)``.
ACTIVATIONS: tuple[str, ...] = tuple(_BY_NAME)


def get_activation(name: str, **kwargs) -> Activation:
    """A new activation layer from its lower-case name (one of :data:`ACTIVATIONS`)."""
    return checks.one_of(name, "activation", _BY_NAME)(**kwargs)
