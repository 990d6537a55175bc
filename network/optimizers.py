"""Optimizers with PyTorch's semantics and defaults (so results match it step for step).

Each declares its hyperparameters once, in ``defaults`` (name → default value, as PyTorch's
``defaults`` dict); they become attributes, checked at construction, and may be changed between
steps (``opt.lr = 0.01``). When the parameters are views into one contiguous buffer (as in every
:class:`~network.Sequential`) the optimizer works on that buffer as a whole: each step is a handful
of vector operations, whatever the number of layers. Otherwise it loops over the parameters with
the same code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from . import checks
from .parameter import Parameter

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "OPTIMIZERS", "get_optimizer"]


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _contiguous_span(arrays: list[np.ndarray]) -> np.ndarray | None:
    """One 1-D view covering ``arrays`` if they lie back to back, in order, in one buffer."""
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    start = expected = _address(arrays[0])
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous or _address(a) != expected:
            return None
        expected += a.nbytes
    itemsize = base.itemsize
    offset = (start - _address(base)) // itemsize
    return base[offset : offset + (expected - start) // itemsize]


def _betas(value: object) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {value!r}")
    return tuple(checks.real(b, "betas", 0.0, 1.0, high_open=True) for b in value)  # type: ignore[return-value]


#: How each hyperparameter is checked (and converted), whichever optimizer takes it.
_CHECKS = {
    "lr": lambda v: checks.real(v, "lr", 0.0, low_open=True),
    "momentum": lambda v: checks.real(v, "momentum", 0.0),
    "weight_decay": lambda v: checks.real(v, "weight_decay", 0.0),
    "l1": lambda v: checks.real(v, "l1", 0.0),
    "eps": lambda v: checks.real(v, "eps", 0.0),
    "alpha": lambda v: checks.real(v, "alpha", 0.0, 1.0, high_open=True),
    "betas": _betas,
    "nesterov": bool,
}


class Optimizer:
    """Base class: holds the parameters, the hyperparameters and per-group state arrays.

    **Regularisation**, common to all: ``weight_decay`` (λ, L2) is added to the gradient,
    ``g = ∇ + λ·p``, on every parameter (as in PyTorch). ``l1`` is an L1 penalty ``l1·Σ|w|`` on
    the weights (parameters of 2+ dimensions; biases are exempt, as in TensorFlow Playground),
    applied as a proximal step after the optimizer's own update: soft-thresholding
    ``w ← sign(w)·max(|w| - lr·l1, 0)``. A weight the step would carry across 0 stops at exactly
    0 (Playground's rule), so L1 yields exact zeros; with Adam or RMSprop the threshold is
    ``lr·l1`` too (not scaled by their per-weight step sizes).

    Subclasses define ``defaults``, ``_state_names`` (arrays created with the optimizer) and
    ``_update`` (one step, on the gradient with weight decay added).
    """

    defaults: dict[str, object] = {"lr": 0.01, "l1": 0.0, "weight_decay": 0.0}
    _state_names: tuple[str, ...] = ()
    _uses_tmp = False

    def __init__(self, params: Iterable[Parameter], lr: float | None = None, **hyperparameters):
        params = list(params)
        if not params:
            raise ValueError("params must contain at least one Parameter, got an empty list")
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"params must be Parameter objects, got {type(p).__name__}")
        unknown = set(hyperparameters) - set(self.defaults)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected arguments {', '.join(sorted(unknown))}; "
                f"it takes {', '.join(self.defaults)}"
            )
        if lr is not None:
            hyperparameters["lr"] = lr
        for name, default in self.defaults.items():
            setattr(self, name, _CHECKS[name](hyperparameters.get(name, default)))
        self.params = params
        self.steps = 0
        flat_data = _contiguous_span([p.data for p in params])
        flat_grad = _contiguous_span([p.grad for p in params])
        if flat_data is not None and flat_grad is not None and flat_data.size == flat_grad.size:
            self._groups = [(flat_data, flat_grad)]
        else:
            self._groups = [(p.data, p.grad) for p in params]
        self._state = [
            {name: np.zeros_like(data) for name in self._state_names} for data, _ in self._groups
        ]
        self._scratch = [np.empty_like(data) for data, _ in self._groups]
        self._tmp = [np.empty_like(data) if self._uses_tmp else None for data, _ in self._groups]
        self._weights = [p.data for p in params if p.data.ndim > 1]  # what L1 shrinks
        self._bound = params[0].data  # to notice parameters reallocated behind our back

    def zero_grad(self) -> None:
        """Set every parameter gradient to zero."""
        for _, grad in self._groups:
            grad.fill(0)

    def step(self) -> None:
        """Update the parameters from their gradients (then L1's proximal step)."""
        if self.params[0].data is not self._bound:
            raise RuntimeError(
                "the parameters were reallocated after this optimizer was created "
                "(e.g. by model.to(dtype)); create the optimizer again"
            )
        self.steps += 1
        lr = float(self.lr)  # a Python float never promotes float32
        buffers = zip(self._groups, self._state, self._scratch, self._tmp, strict=True)
        for (data, grad), state, scratch, tmp in buffers:
            g = self._with_weight_decay(data, grad, scratch) if self.weight_decay else grad
            self._update(data, g, state, scratch, tmp, lr)
        if self.l1:
            self._shrink_weights(lr * float(self.l1))

    def _update(self, data, g, state, scratch, tmp, lr: float) -> None:
        """One step on one group: ``data`` from ``g`` (which may be ``scratch``); ``tmp`` is a
        second scratch buffer for optimizers with ``_uses_tmp``."""
        raise NotImplementedError

    def _with_weight_decay(self, data: np.ndarray, grad: np.ndarray, scratch: np.ndarray):
        """``g = ∇ + λ·p`` into ``scratch``."""
        np.multiply(data, float(self.weight_decay), out=scratch)
        scratch += grad
        return scratch

    def _shrink_weights(self, threshold: float) -> None:
        """L1's proximal step: ``w ← sign(w)·max(|w| - threshold, 0)`` on every weight."""
        for w in self._weights:
            shrunk = np.abs(w)
            shrunk -= threshold
            np.maximum(shrunk, 0.0, out=shrunk)
            np.copysign(shrunk, w, out=w)

    def hyperparameters(self) -> dict:
        """The constructor arguments besides ``params`` (``lr`` first)."""
        return {name: getattr(self, name) for name in self.defaults}

    def state_dict(self) -> dict:
        """Hyper-parameters, step count and copies of the state arrays."""
        return {
            "hyperparameters": self.hyperparameters(),
            "steps": self.steps,
            "state": [{k: v.copy() for k, v in s.items()} for s in self._state],
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (for the same parameters)."""
        if len(state["state"]) != len(self._state):
            raise ValueError("state does not match this optimizer's parameters")
        for name, value in state["hyperparameters"].items():
            setattr(self, name, value)
        self.steps = int(state["steps"])
        for mine, theirs, (data, _) in zip(self._state, state["state"], self._groups, strict=True):
            for k, v in theirs.items():
                mine[k] = np.array(v, dtype=data.dtype, copy=True)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


def _buffer(state: dict, name: str, like: np.ndarray) -> np.ndarray:
    """``state[name]``, created as zeros when missing (e.g. momentum switched on later)."""
    if name not in state:
        state[name] = np.zeros_like(like)
    return state[name]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and Nesterov (PyTorch):

    ``g = ∇ + λ·p``; with momentum ``v = μ·v + g`` and ``g = g + μ·v`` (Nesterov) or ``g = v``;
    then ``p -= lr·g``.
    """

    defaults = {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0, "l1": 0.0}

    def __init__(self, params: Iterable[Parameter], lr: float | None = None, **hyperparameters):
        super().__init__(params, lr, **hyperparameters)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True requires momentum > 0, got momentum=0")

    def _update(self, data, g, state, scratch, tmp, lr):
        mu = float(self.momentum)
        if not mu:
            np.multiply(g, lr, out=scratch)
        else:
            v = _buffer(state, "velocity", data)  # starts from rest
            v *= mu
            v += g
            if not self.nesterov:
                np.multiply(v, lr, out=scratch)
            elif g is scratch:  # weight decay put g in scratch already
                scratch += mu * v
                scratch *= lr
            else:
                np.multiply(v, mu, out=scratch)
                scratch += g
                scratch *= lr
        data -= scratch


class Adam(Optimizer):
    """Adam (PyTorch semantics; weight decay added to the gradient, not decoupled):

    ``g = ∇ + λ·p``; ``m = β₁m + (1-β₁)g``; ``v = β₂v + (1-β₂)g²``;
    ``p -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)``.
    """

    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "l1": 0.0}
    _state_names = ("m", "v")
    _uses_tmp = True

    def _update(self, data, g, state, scratch, tmp, lr):
        b1, b2 = self.betas
        t = self.steps
        m, v = state["m"], state["v"]
        np.subtract(g, m, out=tmp)  # m += (1-β₁)(g - m), PyTorch's lerp
        tmp *= 1.0 - b1
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= 1.0 / math.sqrt(1.0 - b2**t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr / (1.0 - b1**t)
        data -= tmp


class RMSprop(Optimizer):
    """RMSprop (PyTorch semantics, not centred):

    ``g = ∇ + λ·p``; ``s = αs + (1-α)g²``; ``d = g / (√s + ε)``; with momentum ``b = μb + d``,
    ``p -= lr·b``, else ``p -= lr·d``.
    """

    defaults = {
        "lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "weight_decay": 0.0, "l1": 0.0
    }  # fmt: skip
    _state_names = ("square_avg",)
    _uses_tmp = True

    def _update(self, data, g, state, scratch, tmp, lr):
        alpha = self.alpha
        s = state["square_avg"]
        s *= alpha
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - alpha
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        if self.momentum:
            b = _buffer(state, "momentum_buffer", data)  # starts from rest
            b *= float(self.momentum)
            b += tmp
            np.multiply(b, lr, out=tmp)
        else:
            tmp *= lr
        data -= tmp


_BY_NAME: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}

#: Names accepted by :func:`get_optimizer`.
OPTIMIZERS: tuple[str, ...] = tuple(_BY_NAME)


def get_optimizer(
    name: str, params: Iterable[Parameter], lr: float | None = None, **kwargs
) -> Optimizer:
    """A new optimizer from its name (``"sgd"``, ``"adam"``, ``"rmsprop"``) and its arguments.

    ``lr=None`` takes the optimizer's default. Unknown keyword arguments raise TypeError.
    """
    return checks.one_of(name, "optimizer", _BY_NAME)(params, lr, **kwargs)
