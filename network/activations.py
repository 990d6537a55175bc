"""Activation layers: each is its formula ``f`` and its derivative ``df``, nothing else.

``f(x, out)`` returns ``y = f(x)``; ``df(x, y, out)`` returns ``dy/dx`` element-wise, from ``y``
where it can (then ``reads = ("y",)`` and the model may compute ``y`` over ``x`` in place). Both
write into ``out`` (numpy allocates when it is None). Backward is the chain rule, once for all:
``dL/dx = dL/dy · dy/dx``. Defaults match PyTorch.

A new activation is a subclass with a docstring giving its formulas, ``f``, ``df`` and ``reads``,
and its lower-case name in ``_BY_NAME``.
"""

from __future__ import annotations

import math

import numpy as np

from . import checks
from .layers import Layer

__all__ = ["ACTIVATIONS", "Activation", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU"]
__all__ += ["Softplus", "Identity", "get_activation"]


class Activation(Layer):
    """Base class of the element-wise activations."""

    reads: tuple[str, ...] = ("y",)

    def f(self, x: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        """``y = f(x)``."""
        raise NotImplementedError

    def df(self, x: np.ndarray, y: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        """``dy/dx`` (``x`` is only valid when ``"x"`` is in ``reads``)."""
        raise NotImplementedError

    def forward(self, x, out=None, aux=None):
        """``f(x)``."""
        return self.f(x, out)

    def backward(self, grad, x, y, aux=None):
        """The chain rule: ``dL/dx = grad · df`` (into ``grad``, with ``aux`` as scratch)."""
        grad *= self.df(x, y, aux)
        return grad

    def config(self) -> dict:
        """The constructor arguments (its attributes, for those that take some)."""
        return {name: value for name, value in vars(self).items() if name != "training"}


class Tanh(Activation):
    """``y = tanh(x)``;  ``dy/dx = 1 - y²``."""

    def f(self, x, out):
        return np.tanh(x, out=out)

    def df(self, x, y, out):
        d = np.multiply(y, y, out=out)
        return np.subtract(1.0, d, out=d)


class Sigmoid(Activation):
    """``y = σ(x) = 1 / (1 + e⁻ˣ)``, computed as ``(1 + tanh(x/2)) / 2`` (never overflows);
    ``dy/dx = y (1 - y)``."""

    def f(self, x, out):
        y = np.multiply(x, 0.5, out=out)
        np.tanh(y, out=y)
        y += 1.0
        y *= 0.5
        return y

    def df(self, x, y, out):
        d = np.subtract(1.0, y, out=out)
        d *= y
        return d


class ReLU(Activation):
    """``y = max(x, 0)``;  ``dy/dx = [y > 0]``."""

    def f(self, x, out):
        return np.maximum(x, 0.0, out=out)

    def df(self, x, y, out):
        return np.greater(y, 0.0, out=out)


class LeakyReLU(Activation):
    """``y = max(x, a·x)`` (``a = negative_slope`` in [0, 1]);  ``dy/dx = 1 if y > 0 else a``."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = checks.real(negative_slope, "negative_slope", 0.0, 1.0)

    def f(self, x, out):
        return np.maximum(x, self.negative_slope * x, out=out)

    def df(self, x, y, out):
        a = self.negative_slope
        d = np.greater(y, 0.0, out=out)
        d *= 1.0 - a
        d += a
        return d


class ELU(Activation):
    """``y = x if x > 0 else α(eˣ - 1)``;  ``dy/dx = 1 if y > 0 else y + α``."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = checks.real(alpha, "alpha", 0.0, low_open=True)

    def f(self, x, out):
        negative = self.alpha * np.expm1(np.minimum(x, 0.0))
        y = np.maximum(x, 0.0, out=out)
        y += negative
        return y

    def df(self, x, y, out):
        d = np.add(y, self.alpha, out=out)
        np.copyto(d, 1.0, where=y > 0.0)
        return d


_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


class GELU(Activation):
    """GELU, tanh form (PyTorch ``GELU(approximate="tanh")``), ``k = √(2/π)``, ``c = 0.044715``:
    ``y = x/2 · (1 + t)``, ``t = tanh(k (x + c x³))``;
    ``dy/dx = (1 + t)/2 + x/2 · (1 - t²) · k (1 + 3c x²)``."""

    reads = ("x",)

    @staticmethod
    def _t(x: np.ndarray) -> np.ndarray:
        return np.tanh(_GELU_K * (x + _GELU_C * x**3))

    def f(self, x, out):
        y = np.add(self._t(x), 1.0, out=out)
        y *= 0.5 * x
        return y

    def df(self, x, y, out):
        t = self._t(x)
        d = np.multiply(0.5 * x * (1.0 - t * t), _GELU_K * (1.0 + 3.0 * _GELU_C * x * x), out=out)
        d += 0.5 * (1.0 + t)
        return d


class Softplus(Activation):
    """``y = log(1 + e^(βx)) / β``, computed as ``max(x, 0) + log1p(e^(-β|x|)) / β``;
    ``dy/dx = σ(βx) = 1 - e^(-βy)``.

    Unlike PyTorch there is no linear cut-off above ``βx > 20`` (a difference below 2e-9).
    """

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = checks.real(beta, "beta", 0.0, low_open=True)

    def f(self, x, out):
        tail = np.log1p(np.exp(-self.beta * np.abs(x))) / self.beta
        y = np.maximum(x, 0.0, out=out)
        y += tail
        return y

    def df(self, x, y, out):
        d = np.multiply(y, -self.beta, out=out)
        np.expm1(d, out=d)
        return np.negative(d, out=d)


class Identity(Activation):
    """``y = x``;  ``dy/dx = 1``."""

    reads = ()

    def f(self, x, out):
        if out is None:
            return x.copy()
        if out is not x:
            np.copyto(out, x)
        return out

    def backward(self, grad, x, y, aux=None):
        """``dL/dx = dL/dy``."""
        return grad


_BY_NAME: dict[str, type[Activation]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "softplus": Softplus,
    "identity": Identity,
}

#: Names accepted by :func:`get_activation` and ``mlp(..., activation=...)``.
ACTIVATIONS: tuple[str, ...] = tuple(_BY_NAME)


def get_activation(name: str, **kwargs) -> Activation:
    """A new activation layer from its lower-case name (one of :data:`ACTIVATIONS`)."""
    return checks.one_of(name, "activation", _BY_NAME)(**kwargs)
