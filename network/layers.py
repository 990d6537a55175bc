"""Layers: the :class:`Layer` interface, :class:`Linear`, :class:`Dropout`, :class:`Affine`.

A layer is a function ``y = f(x)`` (of its parameters too) and the two products backward needs,
each a method of a few lines::

    forward(x, out, aux)        -> y        y = f(x), written into ``out``
    backward(g, x, y, aux)      -> dx       dL/dx = g · ∂y/∂x (may overwrite ``g``, or use ``aux``)
    param_grads(g, x, out)      -> [dθ]     dL/dθ for each parameter, written into ``out``

``g`` is dL/dy. A layer keeps nothing between calls: what backward needs (``x``, ``y`` and the
``aux`` buffer, shaped like ``x``) is handed back to it by :class:`~network.Sequential`, which
records it on a :class:`~network.model.Tape`, owns every buffer, and decides where ``out`` is (a
fresh buffer, or ``x`` itself when the layer may work in place) and whether gradients are
written or added. ``reads`` says which of ``x`` and ``y`` a layer's backward reads, so the model
knows what it must not overwrite. ``out``, ``aux`` and the ``out`` of ``param_grads`` may be None:
numpy then allocates (standalone use, :meth:`~network.Sequential.trace`).
"""

from __future__ import annotations

import numpy as np

from . import checks
from .checks import float_dtype
from .init import INITIALIZERS, Initializer, as_rng, initialize
from .parameter import Parameter

__all__ = ["Layer", "Linear", "Dropout", "Affine", "float_dtype"]


class Layer:
    """Base class of every layer (see the module docstring for the three methods).

    ``layer(x)`` runs ``forward`` alone and returns a new array the caller owns.
    """

    #: What ``backward`` reads: ``"x"`` (the input), ``"y"`` (the output), both or neither.
    reads: tuple[str, ...] = ("x", "y")
    training: bool = True  #: set per instance by ``Sequential.train`` / ``eval``

    def parameters(self) -> list[Parameter]:
        """The layer's trainable parameters (weight before bias)."""
        return []

    def forward(self, x: np.ndarray, out: np.ndarray | None = None, aux=None) -> np.ndarray:
        """``y = f(x)`` into ``out`` (see the module docstring)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray, x: np.ndarray, y: np.ndarray, aux=None) -> np.ndarray:
        """dL/dx from dL/dy ``grad`` and the forward's ``x``, ``y``, ``aux``."""
        raise NotImplementedError

    def param_grads(self, grad: np.ndarray, x: np.ndarray, out=None) -> list[np.ndarray]:
        """dL/dθ per parameter (none here)."""
        return []

    def output_width(self, in_features: int) -> int:
        """Width of the output for inputs ``in_features`` wide (the same, but for Linear)."""
        return in_features

    def cast(self, dtype: np.dtype) -> None:
        """Follow the model's dtype (``Sequential.to``); parameters are cast by the model."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Forward pass returning an array the caller owns (non-float input becomes float32)."""
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        return np.array(self.forward(x), copy=True)

    def config(self) -> dict:
        """Constructor arguments that rebuild this layer (saved by :func:`network.save`): by
        default its public attributes (an activation's ``alpha``, ``beta``, ...)."""
        return {k: v for k, v in vars(self).items() if k != "training" and not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """Fully connected layer: ``y = x W + b``.

    ``W`` (``.weight``) has shape ``(in_features, out_features)``, ``b`` (``.bias``) shape
    ``(out_features,)``. Backward: ``dx = g Wᵀ``; ``dW = xᵀ g``, ``db = 1ᵀ g`` (a GEMV, faster
    than ``g.sum(0)``).

    Args:
        in_features, out_features: layer sizes (positive ints).
        bias: whether to add ``b``.
        init: weight initialiser, one of ``xavier, he, uniform, normal`` or a callable
            ``(shape, rng) -> array``; the default ``"uniform"`` is PyTorch's.
        seed: int or ``np.random.Generator`` for the initialiser.
        dtype: float32 (default) or float64.
    """

    reads = ("x",)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Initializer = "uniform",
        seed: int | np.random.Generator | None = None,
        dtype: object = np.float32,
    ) -> None:
        self.in_features = checks.integer(in_features, "in_features")
        self.out_features = checks.integer(out_features, "out_features")
        if not callable(init) and init not in INITIALIZERS:
            raise ValueError(
                f"init must be one of {', '.join(INITIALIZERS)} or a callable, got {init!r}"
            )
        weight, bias_values = initialize(
            init, (self.in_features, self.out_features), as_rng(seed), float_dtype(dtype)
        )
        self.weight = Parameter(weight, "weight")
        self.bias = Parameter(bias_values, "bias") if bias else None

    def parameters(self) -> list[Parameter]:
        """``[weight, bias]`` (or ``[weight]`` without bias)."""
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def config(self) -> dict:
        """``in_features``, ``out_features`` and ``bias``."""
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
        }

    def output_width(self, in_features: int) -> int:
        """``out_features``."""
        return self.out_features

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Forward pass returning an array the caller owns (``x`` is cast to the weight dtype)."""
        x = np.asarray(x, dtype=self.weight.data.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x must have shape (batch, {self.in_features}), got {x.shape}")
        return super().__call__(x)

    def forward(self, x, out=None, aux=None):
        """``y = x W + b``."""
        if self.in_features == 1:  # an outer product: a broadcast multiply beats an sgemm call
            y = np.multiply(x, self.weight.data, out=out)
        else:
            y = np.matmul(x, self.weight.data, out=out)
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, grad, x, y, aux=None):
        """``dx = g Wᵀ`` into ``aux``."""
        if self.out_features == 1:  # an outer product again
            return np.multiply(grad, self.weight.data.T, out=aux)
        return np.matmul(grad, self.weight.data.T, out=aux)

    def param_grads(self, grad, x, out=None):
        """``[dW, db] = [xᵀ g, 1ᵀ g]``."""
        d_weight = np.matmul(x.T, grad, out=None if out is None else out[0])
        if self.bias is None:
            return [d_weight]
        ones = _ONES.get((len(grad), grad.dtype))
        if ones is None:
            ones = ones_vector(len(grad), grad.dtype)
        return [d_weight, np.matmul(ones, grad, out=None if out is None else out[1])]


_ONES: dict = {}


def ones_vector(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ``n`` ones, cached: sums over rows as GEMVs (``ones @ g``) are
    faster than ``g.sum(0)`` (bias gradients, softmax row sums)."""
    key = (n, dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(n, dtype)
        ones.flags.writeable = False
    return ones


class Dropout(Layer):
    """Inverted dropout, active only in training mode.

    Training: ``y = x · m``, ``m = Bernoulli(1 - p) / (1 - p)`` drawn per element into ``aux``;
    backward ``dx = g · m``. Evaluation: ``y = x``, ``dx = g``.

    Args:
        p: probability of zeroing an element, in ``[0, 1)``.
        seed: int or ``np.random.Generator`` for the masks.
    """

    reads = ()  # the mask is in aux

    def __init__(self, p: float = 0.5, seed: int | np.random.Generator | None = None) -> None:
        self.p = checks.real(p, "p", 0.0, 1.0, high_open=True)
        self.rng = as_rng(seed)

    def config(self) -> dict:
        """``p``."""
        return {"p": self.p}

    def active(self) -> bool:
        """Whether this forward drops units (training mode and ``p > 0``)."""
        return self.training and self.p > 0.0

    def forward(self, x, out=None, aux=None):
        """``x · m`` (training), ``x`` (evaluation); ``m`` is left in ``aux``."""
        if not self.active():
            return x.copy() if out is None else copy_into(out, x)
        keep = self.rng.random(x.shape) >= self.p
        mask = np.multiply(keep, 1.0 / (1.0 - self.p), out=aux, dtype=x.dtype)
        return np.multiply(x, mask, out=out)

    def backward(self, grad, x, y, aux=None):
        """``g · m`` (``g`` in evaluation mode)."""
        if not self.active():
            return grad
        if aux is None:
            raise ValueError("Dropout.backward needs the mask its forward left in aux")
        grad *= aux
        return grad


def copy_into(out: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``out[...] = x`` (nothing to do when ``out`` is ``x``); returns ``out``."""
    if out is not x:
        np.copyto(out, x)
    return out


class Affine(Layer):
    """Fixed per-feature affine map: ``y = x · scale + shift`` (no trainable parameters).

    It carries a fitted standardisation into a saved model: the input z-score
    ``(x - mean) / std`` is ``Affine(1 / std, -mean / std)`` and its inverse ``Affine(std,
    mean)``, so a model saved with them maps raw inputs to outputs in the data's units.
    Backward: ``dx = g · scale``. The values are part of :meth:`config` (so
    :func:`network.save` keeps them with the architecture).

    Args:
        scale, shift: 1-D sequences of one number per feature (equal lengths), or scalars
            (one feature).
        dtype: float32 (default) or float64.
    """

    reads = ()

    def __init__(self, scale, shift, dtype: object = np.float32) -> None:
        scale = np.atleast_1d(np.asarray(scale, dtype=np.float64))
        shift = np.atleast_1d(np.asarray(shift, dtype=np.float64))
        if scale.ndim != 1 or shift.shape != scale.shape or scale.size == 0:
            raise ValueError(
                f"scale and shift must be 1-D with one value per feature and equal lengths, "
                f"got shapes {scale.shape} and {shift.shape}"
            )
        if not (np.all(np.isfinite(scale)) and np.all(np.isfinite(shift))):
            raise ValueError("scale and shift must be finite")
        self.features = int(scale.size)
        self._scale64, self._shift64 = scale, shift
        self.cast(float_dtype(dtype))

    def cast(self, dtype: np.dtype) -> None:
        """``scale`` and ``shift`` in ``dtype``."""
        self.scale, self.shift = self._scale64.astype(dtype), self._shift64.astype(dtype)

    def config(self) -> dict:
        """``scale`` and ``shift`` as lists of floats."""
        return {"scale": self._scale64.tolist(), "shift": self._shift64.tolist()}

    def _values(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if x.dtype == self.scale.dtype:
            return self.scale, self.shift
        return self._scale64.astype(x.dtype), self._shift64.astype(x.dtype)

    def forward(self, x, out=None, aux=None):
        """``x · scale + shift``."""
        if x.ndim != 2 or x.shape[1] != self.features:
            raise ValueError(f"x must have shape (batch, {self.features}), got {x.shape}")
        scale, shift = self._values(x)
        y = np.multiply(x, scale, out=out)
        y += shift
        return y

    def backward(self, grad, x, y, aux=None):
        """``g · scale``."""
        grad *= self._values(grad)[0]
        return grad
