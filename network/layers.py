"""Layers: the :class:`Layer` interface, :class:`Linear`, :class:`Dropout`, :class:`Affine`.

A layer's ``forward`` and ``backward`` sit side by side. ``forward`` remembers what ``backward``
needs (its input, output or mask) and writes into buffers the layer owns, allocated once per batch
size; ``backward`` *adds* to (or, when told the gradients were just zeroed, writes) the parameter
gradients and returns the gradient with respect to the input. ``layer(x)`` returns a copy the caller
owns; ``forward``/``backward`` return the layer's buffers, valid until its next call with the
same batch size (this is what :class:`~network.Sequential` uses internally).
"""

from __future__ import annotations

import numpy as np

from .init import INITIALIZERS, Initializer, as_rng, initialize
from .parameter import Parameter

__all__ = ["Layer", "Linear", "Dropout", "Affine", "float_dtype"]

_MAX_CACHED_SIZES = 8


def float_dtype(dtype: object) -> np.dtype:
    """``np.dtype(dtype)`` if it is float32 or float64, else ValueError naming ``dtype``."""
    try:
        resolved = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        resolved = None
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return resolved


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value!r}")
    return int(value)


class Layer:
    """Base class of every layer.

    Subclasses implement ``forward(x, inplace=False)`` and
    ``backward(grad, input_grad=True, inplace=False, accumulate=True)``:

    - ``inplace=True`` in ``forward`` lets the layer overwrite ``x`` (the model passes it when
      ``x`` is an internal buffer nobody needs any more); in ``backward`` it lets the layer
      overwrite ``grad``.
    - ``input_grad=False`` skips dL/dx (returns None): the first layer of a model needs none.
    - ``accumulate=False`` writes parameter gradients instead of adding to them (only valid
      right after they were zeroed; saves a pass over the gradients).
    """

    #: True if ``backward`` reads this layer's output, so the next layer must not overwrite it.
    needs_output: bool = False

    def __init__(self) -> None:
        self.training = True
        self._clear_buffers()

    def parameters(self) -> list[Parameter]:
        """The layer's trainable parameters (weight before bias)."""
        return []

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """Output for input ``x`` (an internal buffer; see the module docstring)."""
        raise NotImplementedError

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray | None:
        """Given dL/d(output) for the last forward, update parameter grads; return dL/dx."""
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Forward pass returning an array the caller owns (non-float input becomes float32)."""
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        self._clear_buffers()
        return np.array(self.forward(x), copy=True)

    def config(self) -> dict:
        """Constructor arguments that rebuild this layer (saved by :func:`network.save`)."""
        return {}

    def _clear_buffers(self) -> None:
        """Forget cached buffers (after a dtype change, or for one-off standalone calls)."""
        self._cache: dict = {}
        self._key: object = None  # the key of the buffers in use

    def _buffers(self, key: object, make) -> tuple:
        """The buffers for ``key`` (e.g. the batch shape), created by ``make()`` on first use."""
        cache = self._cache
        bufs = cache.get(key)
        if bufs is None:
            if len(cache) >= _MAX_CACHED_SIZES:
                cache.clear()
            bufs = cache[key] = make()
        self._key = key
        return bufs

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """Fully connected layer: ``y = x @ W + b``.

    ``W`` (``.weight``) has shape ``(in_features, out_features)``, ``b`` (``.bias``) shape
    ``(out_features,)``. Backward: ``dW = xᵀ @ g``, ``db = 1ᵀ @ g`` (a GEMV, faster than
    ``g.sum(0)``), ``dx = g @ Wᵀ``.

    Args:
        in_features, out_features: layer sizes (positive ints).
        bias: whether to add ``b``.
        init: weight initialiser, one of ``xavier, he, uniform, normal`` or a callable
            ``(shape, rng) -> array``; the default ``"uniform"`` is PyTorch's.
        seed: int or ``np.random.Generator`` for the initialiser.
        dtype: float32 (default) or float64.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Initializer = "uniform",
        seed: int | np.random.Generator | None = None,
        dtype: object = np.float32,
    ) -> None:
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        if not callable(init) and init not in INITIALIZERS:
            raise ValueError(
                f"init must be one of {', '.join(INITIALIZERS)} or a callable, got {init!r}"
            )
        dtype = float_dtype(dtype)
        weight, bias_values = initialize(
            init, (self.in_features, self.out_features), as_rng(seed), dtype
        )
        self.weight = Parameter(weight, "weight")
        self.bias = Parameter(bias_values, "bias") if bias else None
        self._x: np.ndarray | None = None

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

    def _make_buffers(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dtype = self.weight.data.dtype
        return (
            np.empty((n, self.out_features), dtype),  # output
            np.empty((n, self.in_features), dtype),  # input gradient
            np.ones(n, dtype),  # for the bias gradient as a GEMV
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Forward pass returning an array the caller owns (``x`` is cast to the weight dtype)."""
        x = np.asarray(x, dtype=self.weight.data.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x must have shape (batch, {self.in_features}), got {x.shape}")
        return super().__call__(x)

    def _use(self, n: int) -> None:
        """Switch to the buffers for batch size ``n``."""
        self._out, self._dx, self._ones = self._buffers(n, lambda: self._make_buffers(n))

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """``y = x @ W + b`` into the layer's output buffer."""
        if x.shape[0] != self._key:
            self._use(x.shape[0])
        out = self._out
        if self.in_features == 1:  # an outer product: a broadcast multiply beats an sgemm call
            np.multiply(x, self.weight.data, out=out)
        else:
            np.matmul(x, self.weight.data, out=out)
        if self.bias is not None:
            out += self.bias.data
        self._x = x
        return out

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray | None:
        """``dW (+)= xᵀ g``, ``db (+)= 1ᵀ g``; returns ``dx = g Wᵀ`` if ``input_grad``."""
        x = self._x
        if x is None:
            raise RuntimeError("Linear.backward called before forward")
        if x.shape[0] != self._key:
            self._use(x.shape[0])
        if accumulate:
            self.weight.grad += x.T @ grad
            if self.bias is not None:
                self.bias.grad += self._ones @ grad
        else:
            np.matmul(x.T, grad, out=self.weight.grad)
            if self.bias is not None:
                np.matmul(self._ones, grad, out=self.bias.grad)
        if not input_grad:
            return None
        if self.out_features == 1:  # an outer product again
            return np.multiply(grad, self.weight.data.T, out=self._dx)
        return np.matmul(grad, self.weight.data.T, out=self._dx)


class Dropout(Layer):
    """Inverted dropout, active only in training mode.

    Training: ``y = x · m / (1 - p)`` with ``m ~ Bernoulli(1 - p)`` drawn per element;
    backward ``dx = g · m / (1 - p)``. Evaluation: ``y = x``.

    Args:
        p: probability of zeroing an element, in ``[0, 1)``.
        seed: int or ``np.random.Generator`` for the masks.
    """

    # In evaluation mode the output *is* the input, so nothing may overwrite it in place.
    needs_output = True

    def __init__(self, p: float = 0.5, seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
            raise TypeError(f"p must be a float in [0, 1), got {p!r}")
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = as_rng(seed)
        self._mask: np.ndarray | None = None

    def config(self) -> dict:
        """``p``."""
        return {"p": self.p}

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """``x · mask / (1 - p)`` in training mode, ``x`` itself in evaluation mode."""
        if not self.training or self.p == 0.0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self._mask = keep.astype(x.dtype) * (1.0 / (1.0 - self.p))
        return np.multiply(x, self._mask, out=x if inplace else None)

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray | None:
        """``g · mask / (1 - p)`` (``g`` in evaluation mode)."""
        if not input_grad:
            return None
        if self._mask is None:
            return grad
        return np.multiply(grad, self._mask, out=grad if inplace else None)


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

    def __init__(self, scale, shift, dtype: object = np.float32) -> None:
        super().__init__()
        dtype = float_dtype(dtype)
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
        self.scale, self.shift = scale.astype(dtype), shift.astype(dtype)

    def config(self) -> dict:
        """``scale`` and ``shift`` as lists of floats."""
        return {"scale": self._scale64.tolist(), "shift": self._shift64.tolist()}

    def forward(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """``x · scale + shift`` (in place when allowed)."""
        if x.ndim != 2 or x.shape[1] != self.features:
            raise ValueError(f"x must have shape (batch, {self.features}), got {x.shape}")
        if x.dtype != self.scale.dtype:  # follow the model's dtype (Sequential.to)
            self.scale = self._scale64.astype(x.dtype)
            self.shift = self._shift64.astype(x.dtype)
        if inplace:
            out = x
        else:
            out = self._buffers(x.shape, lambda: (np.empty_like(x),))[0]
        np.multiply(x, self.scale, out=out)
        out += self.shift
        return out

    def backward(
        self,
        grad: np.ndarray,
        input_grad: bool = True,
        inplace: bool = False,
        accumulate: bool = True,
    ) -> np.ndarray | None:
        """``g · scale``."""
        if not input_grad:
            return None
        return np.multiply(grad, self.scale, out=grad if inplace else None)
