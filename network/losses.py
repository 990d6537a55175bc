"""Loss functions, each its value and its gradient with respect to the outputs ``y``.

``loss(y, t)`` returns a Python float and remembers ``y`` and ``t`` for ``loss.backward()``
(dL/dy), as in PyTorch. Underneath are three stateless methods, which training and
:meth:`~network.Sequential.trace` use: :meth:`Loss.targets` converts targets once into the form
the loss computes with (one-hot rows for cross-entropy), :meth:`Loss.value` and
:meth:`Loss.gradient` take outputs and converted targets.
"""

from __future__ import annotations

import numpy as np

from . import checks
from .layers import ones_vector

__all__ = ["Loss", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss", "LOSSES", "get_loss"]


class Loss:
    """Base class of the losses: subclasses define ``value`` and ``gradient`` (and may convert
    targets differently in ``targets``)."""

    #: whether training reports accuracy with this loss by default
    classification: bool = False

    def __init__(self) -> None:
        self._last: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, y: np.ndarray, t: np.ndarray) -> float:
        """The loss of outputs ``y`` against targets ``t`` (a Python float)."""
        return self.forward(y, t)

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """The loss of outputs ``y`` (batch, outputs) against targets ``t``; remembered for
        :meth:`backward`."""
        y = np.asarray(y)
        if y.ndim != 2 or y.dtype.kind != "f":
            raise ValueError(
                f"y must be a float array of shape (batch, outputs), got {y.dtype} {y.shape}"
            )
        t = self.targets(t, y.shape[1], y.dtype, n=y.shape[0])
        self._last = (y, t)
        return self.value(y, t)

    def backward(self) -> np.ndarray:
        """dL/dy for the last :meth:`forward` call (an array the caller owns)."""
        if self._last is None:
            raise RuntimeError("backward called before the loss was computed")
        return self.gradient(*self._last)

    def targets(self, t: np.ndarray, outputs: int, dtype: np.dtype, n: int | None = None):
        """Targets ``t`` for ``outputs`` outputs as a (batch, outputs) array of ``dtype`` (the
        form :meth:`value` and :meth:`gradient` take); ValueError on a wrong shape or a row
        count other than ``n``. (batch,) is accepted for one output."""
        t = np.asarray(t)
        if t.ndim == 1 and outputs == 1:
            t = t.reshape(-1, 1)
        if t.ndim != 2 or t.shape[1] != outputs:
            raise ValueError(f"targets must have shape (batch, {outputs}), got {t.shape}")
        if n is not None and t.shape[0] != n:
            raise ValueError(f"targets have {t.shape[0]} rows but the outputs have {n}")
        return t.astype(dtype, copy=False)

    def value(self, y: np.ndarray, t: np.ndarray) -> float:
        """The loss of outputs ``y`` against converted targets ``t``."""
        raise NotImplementedError

    def gradient(self, y: np.ndarray, t: np.ndarray) -> np.ndarray:
        """dL/dy for outputs ``y`` and converted targets ``t`` (a new array)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    """Mean squared error over all elements: ``L = mean((y - t)²)``;
    ``dL/dy = 2 (y - t) / y.size``."""

    def value(self, y, t):
        diff = y - t
        return float(np.vdot(diff, diff)) / diff.size

    def gradient(self, y, t):
        g = np.subtract(y, t)
        g *= 2.0 / g.size
        return g


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy on logits ``y`` (N, C), averaged over the batch:
    ``L = mean_n(logsumexp(y_n) - Σ_c t_nc y_nc)`` with one-hot (or probability) targets ``t``;
    ``dL/dy = (softmax(y) - t) / N``. Targets may be integer labels (N,) or one-hot (N, C).
    The softmax is stabilised by subtracting the row maximum and fused with the gradient.
    """

    classification = True

    def targets(self, t, outputs, dtype, n=None):
        """Integer labels (batch,) become one-hot rows; (batch, outputs) rows are kept."""
        t = np.asarray(t)
        if n is not None and t.shape[:1] != (n,):
            raise ValueError(f"targets have {t.shape[0] if t.ndim else 0} rows, the outputs {n}")
        if t.ndim == 1:
            if t.dtype.kind not in "iub":
                raise ValueError(f"integer class labels expected for 1-D targets, got {t.dtype}")
            if t.size and (t.min() < 0 or t.max() >= outputs):
                raise ValueError(
                    f"class labels must be in [0, {outputs}), got {t.min()}..{t.max()}"
                )
            onehot = np.zeros((t.shape[0], outputs), dtype)
            onehot[np.arange(t.shape[0]), t] = 1.0
            return onehot
        if t.ndim != 2 or t.shape[1] != outputs:
            raise ValueError(
                f"targets must be int labels (batch,) or one-hot (batch, {outputs}), got {t.shape}"
            )
        return t.astype(dtype, copy=False)

    def value(self, y, t):
        z = y - y.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        return float(np.dot(lse, t.sum(axis=1)) - np.vdot(t, z)) / y.shape[0]

    def gradient(self, y, t):
        p = np.subtract(y, y.max(axis=1, keepdims=True))
        np.exp(p, out=p)
        p /= (p @ ones_vector(y.shape[1], y.dtype))[
            :, None
        ]  # row sums as a GEMV: faster for few classes
        p -= t
        p *= 1.0 / y.shape[0]
        return p


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits, mean over all elements:
    ``L = mean(max(y, 0) - y·t + log(1 + e^-|y|))``; ``dL/dy = (σ(y) - t) / y.size``.
    Targets are in [0, 1] with the shape of ``y`` ((N,) is accepted for one output).
    """

    classification = True

    def value(self, y, t):
        terms = np.maximum(y, 0.0) - y * t + np.log1p(np.exp(-np.abs(y)))
        return float(terms.sum()) / terms.size

    def gradient(self, y, t):
        g = np.multiply(y, 0.5)  # σ(y) = (1 + tanh(y/2)) / 2
        np.tanh(g, out=g)
        g += 1.0
        g *= 0.5
        g -= t
        g *= 1.0 / g.size
        return g


_BY_NAME: dict[str, type[Loss]] = {
    "mse": MSELoss,
    "cross_entropy": CrossEntropyLoss,
    "bce": BCEWithLogitsLoss,
}

#: Names accepted by :func:`get_loss`.
LOSSES: tuple[str, ...] = tuple(_BY_NAME)


def get_loss(name: str) -> Loss:
    """A new loss from its name: ``"mse"``, ``"cross_entropy"`` or ``"bce"``."""
    return checks.one_of(name, "loss", _BY_NAME)()
