"""Optimizers with PyTorch's semantics and defaults (so results match it step for step).

When the parameters are views into one contiguous buffer (as in every :class:`~network.Sequential`)
the optimizer works on that buffer as a whole: each step is a handful of vector operations,
whatever the number of layers. Otherwise it loops over the parameters with the same code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

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


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


class Optimizer:
    """Base class: holds the parameters, a mutable ``lr`` and per-group state arrays.

    Every optimizer also takes ``l1`` (default 0): an L1 penalty rate on the weights, added to
    the gradient as ``l1·sign(w)`` (see `_regularised`). ``lr``, ``l1``, ``weight_decay`` and
    ``momentum`` may be changed between steps.

    Subclasses define ``_state_names`` and ``_update(data, g, state, scratch, lr)`` (``g`` is the
    gradient with the penalties added), or their own ``step``.
    """

    _state_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Parameter], lr: float, l1: float = 0.0) -> None:
        params = list(params)
        if not params:
            raise ValueError("params must contain at least one Parameter, got an empty list")
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"params must be Parameter objects, got {type(p).__name__}")
        self.params = params
        self.lr = self._positive(lr, "lr")
        self.l1 = self._non_negative(l1, "l1")
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
        # per group, once an L1 penalty is used: (weight mask, scratch for l1·sign(w))
        self._l1_buffers: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(self._groups)
        self._bound = params[0].data  # to notice parameters reallocated behind our back

    def _weight_mask(self, k: int) -> np.ndarray:
        """1 where group `k` holds a weight (a parameter of 2 or more dimensions), 0 on biases."""
        data = self._groups[k][0]
        if len(self._groups) > 1 or len(self.params) == 1:
            return np.full_like(data, 1.0 if self.params[k].data.ndim > 1 else 0.0)
        return np.concatenate(
            [np.full(p.data.size, 1.0 if p.data.ndim > 1 else 0.0, data.dtype) for p in self.params]
        )

    @staticmethod
    def _positive(value: object, name: str) -> float:
        value = _number(value, name)
        if value <= 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
        return value

    @staticmethod
    def _non_negative(value: object, name: str) -> float:
        value = _number(value, name)
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
        return value

    def zero_grad(self) -> None:
        """Set every parameter gradient to zero."""
        for _, grad in self._groups:
            grad.fill(0)

    def _begin_step(self) -> float:
        """Count the step; return ``lr`` as a Python float (which never promotes float32)."""
        if self.params[0].data is not self._bound:
            raise RuntimeError(
                "the parameters were reallocated after this optimizer was created "
                "(e.g. by model.to(dtype)); create the optimizer again"
            )
        self.steps += 1
        return float(self.lr)

    def step(self) -> None:
        """Update the parameters from their gradients."""
        lr = self._begin_step()
        for k, ((data, grad), state, scratch) in enumerate(
            zip(self._groups, self._state, self._scratch, strict=True)
        ):
            self._update(data, self._regularised(k, grad, scratch), state, scratch, lr)

    def _update(self, data, g, state, scratch, lr: float) -> None:
        raise NotImplementedError

    def _regularised(self, k: int, grad: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        """The gradient of group `k` with the penalties: ``g = ∇ + λ·p + l1·sign(w)``.

        ``λ·p`` is weight decay (L2, on every parameter, as in PyTorch); ``l1·sign(w)`` the
        subgradient of the L1 penalty ``l1·Σ|w|`` on the weights only (not the biases, as in
        TensorFlow Playground). Written to ``scratch``; ``grad`` itself when both are 0.
        """
        weight_decay, l1 = self.weight_decay, self.l1
        if weight_decay == 0.0 and l1 == 0.0:
            return grad
        data = self._groups[k][0]
        np.multiply(data, weight_decay, out=scratch)
        scratch += grad
        if l1:
            if self._l1_buffers[k] is None:
                self._l1_buffers[k] = (self._weight_mask(k), np.empty_like(data))
            mask, buffer = self._l1_buffers[k]
            np.sign(data, out=buffer)
            buffer *= mask
            buffer *= l1
            scratch += buffer
        return scratch

    def hyperparameters(self) -> dict:
        """The constructor arguments besides ``params`` (``lr`` first)."""
        return {"lr": self.lr}

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
        for mine, theirs in zip(self._state, state["state"], strict=True):
            for k, v in theirs.items():
                mine[k][...] = v

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov and weight decay (PyTorch):

    ``g = ∇ + λ·p``; with momentum ``v = μ·v + g`` and ``g = g + μ·v`` (Nesterov) or ``g = v``;
    then ``p -= lr·g``.
    """

    _state_names = ("velocity",)

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        self.momentum = self._non_negative(momentum, "momentum")
        self.weight_decay = self._non_negative(weight_decay, "weight_decay")
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True requires momentum > 0, got momentum=0")
        self.nesterov = bool(nesterov)
        if not self.momentum:
            self._state_names = ()
        super().__init__(params, lr, l1)

    def hyperparameters(self) -> dict:
        """``lr, momentum, nesterov, weight_decay, l1``."""
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
            "l1": self.l1,
        }

    def _update(self, data, g, state, scratch, lr):
        mu = self.momentum
        if mu:
            v = state.get("velocity")
            if v is None:  # momentum switched on after creation: start from rest
                v = state["velocity"] = np.zeros_like(data)
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
        else:
            np.multiply(g, lr, out=scratch)
        data -= scratch


class Adam(Optimizer):
    """Adam (PyTorch semantics; weight decay added to the gradient, not decoupled):

    ``g = ∇ + λ·p``; ``m = β₁m + (1-β₁)g``; ``v = β₂v + (1-β₂)g²``;
    ``p -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)``.
    """

    _state_names = ("m", "v")

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        b1, b2 = (_number(b, "betas") for b in betas)
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"betas must be in [0, 1), got {betas!r}")
        self.betas = (b1, b2)
        self.eps = self._non_negative(eps, "eps")
        self.weight_decay = self._non_negative(weight_decay, "weight_decay")
        super().__init__(params, lr, l1)
        self._scratch2 = [np.empty_like(data) for data, _ in self._groups]

    def hyperparameters(self) -> dict:
        """``lr, betas, eps, weight_decay, l1``."""
        return {
            "lr": self.lr,
            "betas": self.betas,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "l1": self.l1,
        }

    def step(self) -> None:
        """One Adam step (bias corrections use the step count)."""
        lr = self._begin_step()
        b1, b2 = self.betas
        t = self.steps
        step_size = lr / (1.0 - b1**t)
        inv_sqrt_bc2 = 1.0 / math.sqrt(1.0 - b2**t)
        for k, ((data, grad), state, scratch, tmp) in enumerate(
            zip(self._groups, self._state, self._scratch, self._scratch2, strict=True)
        ):
            g = self._regularised(k, grad, scratch)
            m, v = state["m"], state["v"]
            np.subtract(g, m, out=tmp)  # m += (1-β₁)(g - m), PyTorch's lerp
            tmp *= 1.0 - b1
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp *= inv_sqrt_bc2
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            data -= tmp


class RMSprop(Optimizer):
    """RMSprop (PyTorch semantics, not centred):

    ``g = ∇ + λ·p``; ``s = αs + (1-α)g²``; ``d = g / (√s + ε)``; with momentum ``b = μb + d``,
    ``p -= lr·b``, else ``p -= lr·d``.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        alpha = _number(alpha, "alpha")
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha!r}")
        self.alpha = alpha
        self.eps = self._non_negative(eps, "eps")
        self.momentum = self._non_negative(momentum, "momentum")
        self.weight_decay = self._non_negative(weight_decay, "weight_decay")
        self._state_names = ("square_avg", "momentum_buffer") if self.momentum else ("square_avg",)
        super().__init__(params, lr, l1)
        self._scratch2 = [np.empty_like(data) for data, _ in self._groups]

    def hyperparameters(self) -> dict:
        """``lr, alpha, eps, momentum, weight_decay, l1``."""
        return {
            "lr": self.lr,
            "alpha": self.alpha,
            "eps": self.eps,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "l1": self.l1,
        }

    def step(self) -> None:
        """One RMSprop step."""
        lr = self._begin_step()
        alpha = self.alpha
        for k, ((data, grad), state, scratch, tmp) in enumerate(
            zip(self._groups, self._state, self._scratch, self._scratch2, strict=True)
        ):
            g = self._regularised(k, grad, scratch)
            s = state["square_avg"]
            s *= alpha
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - alpha
            s += tmp
            np.sqrt(s, out=tmp)
            tmp += self.eps
            np.divide(g, tmp, out=tmp)
            if self.momentum:
                b = state.get("momentum_buffer")
                if b is None:  # momentum switched on after creation: start from rest
                    b = state["momentum_buffer"] = np.zeros_like(data)
                b *= self.momentum
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
    if not isinstance(name, str) or name.lower() not in _BY_NAME:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    cls = _BY_NAME[name.lower()]
    if lr is not None:
        kwargs["lr"] = lr
    return cls(params, **kwargs)
