"""`Parameter`: a trainable array together with its gradient."""

from __future__ import annotations

import numpy as np

__all__ = ["Parameter"]


class Parameter:
    """A trainable array ``data`` and the gradient ``grad`` of the loss with respect to it.

    ``grad`` has the shape and dtype of ``data``. Inside a :class:`~network.Sequential` both are
    views into one flat buffer per model (so an optimizer step is a few vector operations); change
    values in place (``p.data[...] = values``) rather than rebinding ``p.data``.
    """

    __slots__ = ("data", "grad", "name")

    def __init__(self, data: np.ndarray, name: str = "") -> None:
        self.data: np.ndarray = np.asarray(data)
        self.grad: np.ndarray = np.zeros_like(self.data)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``data``."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """dtype of ``data`` (and ``grad``)."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """Number of scalars in ``data``."""
        return self.data.size

    def zero_grad(self) -> None:
        """Set the gradient to zero, in place."""
        self.grad.fill(0)

    def __repr__(self) -> str:
        return f"Parameter({self.name or 'unnamed'}, shape={self.shape}, dtype={self.dtype})"
