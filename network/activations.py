"""Activation layers (element-wise). Defaults match PyTorch.

Where the derivative can be written with the output ``y`` (tanh, sigmoid, ReLU, leaky ReLU, ELU,
softplus) the layer may overwrite its input in place and keeps only ``y`` for backward.
"""

from __future__ import annotations

import math

import numpy as np

from .layers import Layer

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "Softplus",
    "Identity",
    "get_activation",
]


class Activation(Layer):
    """Base class: buffers ``(out, tmp, dx)`` shaped like the input, cached per input shape."""

    needs_output = True

    def _make(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        return np.empty_like(x), np.empty_like(x), np.empty_like(x)

    def _use(self, x: np.ndarray) -> None:
        """Switch to the buffers for inputs shaped like ``x``: ``_out``, ``_tmp``, ``_dx``."""
        self._out, self._tmp, self._dx = self._buffers(x.shape, lambda: self._make(x))


class Tanh(Activation):
    """``y = tanh(x)``; ``dy/dx = 1 - y²``."""

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """tanh, in place when allowed."""
        if x.shape != self._key:
            self._use(x)
        self._y = np.tanh(x, out=x if inplace else self._out)
        return self._y

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray:
        """``g · (1 - y²)``."""
        tmp, dx = self._tmp, self._dx
        np.multiply(self._y, self._y, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        return np.multiply(grad, tmp, out=grad if inplace else dx)


class Sigmoid(Activation):
    """``y = 1 / (1 + e^-x)`` (computed as ``(1 + tanh(x/2)) / 2``, which never overflows);
    ``dy/dx = y (1 - y)``."""

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """Logistic sigmoid."""
        if x.shape != self._key:
            self._use(x)
        y = np.multiply(x, 0.5, out=x if inplace else self._out)
        np.tanh(y, out=y)
        y += 1.0
        y *= 0.5
        self._y = y
        return y

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray:
        """``g · y (1 - y)``."""
        tmp, dx = self._tmp, self._dx
        np.subtract(1.0, self._y, out=tmp)
        tmp *= self._y
        return np.multiply(grad, tmp, out=grad if inplace else dx)


class ReLU(Activation):
    """``y = max(x, 0)``; ``dy/dx = [y > 0]``."""

    def _make(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        return np.empty_like(x), np.empty(x.shape, bool), np.empty_like(x)

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """Rectifier."""
        if x.shape != self._key:
            self._use(x)
        self._y = np.maximum(x, 0.0, out=x if inplace else self._out)
        return self._y

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray:
        """``g · [y > 0]`` (a boolean mask: far faster than ``sign``)."""
        mask, dx = self._tmp, self._dx
        np.greater(self._y, 0.0, out=mask)
        return np.multiply(grad, mask, out=grad if inplace else dx)


class LeakyReLU(Activation):
    """``y = x if x > 0 else a·x``; ``dy/dx = 1 if y > 0 else a`` (``a = negative_slope``)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            raise TypeError(f"negative_slope must be a float >= 0, got {negative_slope!r}")
        if not 0.0 <= negative_slope <= 1.0:
            raise ValueError(f"negative_slope must be in [0, 1], got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def config(self) -> dict:
        """``negative_slope``."""
        return {"negative_slope": self.negative_slope}

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """``max(x, a·x)`` (valid for ``0 <= a <= 1``)."""
        if x.shape != self._key:
            self._use(x)
        np.multiply(x, self.negative_slope, out=self._tmp)
        self._y = np.maximum(x, self._tmp, out=x if inplace else self._out)
        return self._y

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray:
        """``g · (a + (1 - a)·[y > 0])``."""
        tmp, dx = self._tmp, self._dx
        np.greater(self._y, 0.0, out=tmp)
        tmp *= 1.0 - self.negative_slope
        tmp += self.negative_slope
        return np.multiply(grad, tmp, out=grad if inplace else dx)


def _positive_float(name: str, value: object) -> float:
    """``value`` as a float, or TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a positive float, got {value!r}")
    if not value > 0:
        raise ValueError(f"{name} must be a positive float, got {value!r}")
    return float(value)


class ELU(Activation):
    """``y = x if x > 0 else α(eˣ - 1)``; ``dy/dx = 1 if y > 0 else y + α``."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = _positive_float("alpha", alpha)

    def config(self) -> dict:
        """``alpha``."""
        return {"alpha": self.alpha}

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """``max(x, 0) + α·expm1(min(x, 0))``."""
        if x.shape != self._key:
            self._use(x)
        negative = np.minimum(x, 0.0, out=self._tmp)
        np.expm1(negative, out=negative)
        negative *= self.alpha
        y = np.maximum(x, 0.0, out=x if inplace else self._out)
        y += negative
        self._y = y
        return y

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray:
        """``g · (1 if y > 0 else y + α)``."""
        tmp, dx = self._tmp, self._dx
        np.add(self._y, self.alpha, out=tmp)
        np.copyto(tmp, 1.0, where=self._y > 0.0)
        return np.multiply(grad, tmp, out=grad if inplace else dx)


_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


class GELU(Activation):
    """GELU, tanh form (PyTorch ``GELU(approximate="tanh")``):
    ``y = x/2 · (1 + t)``, ``t = tanh(k (x + c x³))``, ``k = √(2/π)``, ``c = 0.044715``;
    ``dy/dx = (1 + t)/2 + x/2 · (1 - t²) · k (1 + 3c x²)``. Needs ``x``, so never works in place.
    """

    needs_output = False  # backward reads its input and t, not its output

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """Tanh-approximated GELU into the layer's own buffer."""
        if x.shape != self._key:
            self._use(x)
        t = np.multiply(x, x, out=self._tmp)
        t *= _GELU_C
        t += 1.0
        t *= x
        t *= _GELU_K
        np.tanh(t, out=t)
        y = np.add(t, 1.0, out=self._out)
        y *= x
        y *= 0.5
        self._x, self._t = x, t
        return y

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray:
        """See the class docstring."""
        x, t = self._x, self._t
        x2 = x * x
        slope = (1.0 - t * t) * (0.5 * _GELU_K) * x * (1.0 + (3.0 * _GELU_C) * x2)
        slope += 0.5 * (1.0 + t)
        return np.multiply(grad, slope, out=grad if inplace else self._dx)


class Softplus(Activation):
    """``y = log(1 + e^(βx)) / β`` (stable form); ``dy/dx = σ(βx) = 1 - e^(-βy)``.

    Unlike PyTorch there is no linear cut-off above ``βx > 20`` (a difference below 2e-9).
    """

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = _positive_float("beta", beta)

    def config(self) -> dict:
        """``beta``."""
        return {"beta": self.beta}

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """``max(x, 0) + log1p(exp(-β|x|)) / β``."""
        if x.shape != self._key:
            self._use(x)
        tail = np.abs(x, out=self._tmp)
        tail *= -self.beta
        np.exp(tail, out=tail)
        np.log1p(tail, out=tail)
        if self.beta != 1.0:
            tail *= 1.0 / self.beta
        y = np.maximum(x, 0.0, out=x if inplace else self._out)
        y += tail
        self._y = y
        return y

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray:
        """``g · (-expm1(-βy))``."""
        tmp, dx = self._tmp, self._dx
        np.multiply(self._y, -self.beta, out=tmp)
        np.expm1(tmp, out=tmp)
        np.negative(tmp, out=tmp)
        return np.multiply(grad, tmp, out=grad if inplace else dx)


class Identity(Activation):
    """``y = x``; ``dy/dx = 1``. Returns its input itself (so nothing may overwrite it)."""

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """``x``."""
        return x

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray:
        """``g``."""
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
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name, one of {', '.join(ACTIVATIONS)}; got {name!r}")
    key = name.lower()
    if key not in _BY_NAME:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {name!r}")
    return _BY_NAME[key](**kwargs)
