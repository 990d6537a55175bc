"""Learning-rate schedules. Each wraps an optimizer, remembers its initial ``lr`` (``base_lr``) and
sets ``optimizer.lr`` for epoch ``e`` (0-based) on every :meth:`Scheduler.step` (``train`` calls it
once per epoch, after the epoch). The lr is always a Python float.
"""

from __future__ import annotations

import math

from . import checks
from .optimizers import Optimizer

__all__ = [
    "Scheduler",
    "ConstantLR",
    "StepLR",
    "ExponentialLR",
    "InverseLR",
    "CosineLR",
    "SCHEDULES",
    "get_scheduler",
]


class Scheduler:
    """Base class: ``lr(e)`` for epoch ``e`` from ``base_lr``; ``step()`` advances one epoch."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.epoch = 0

    def lr_at(self, epoch: int) -> float:
        """The learning rate for (0-based) ``epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's lr."""
        self.epoch += 1
        self.optimizer.lr = float(self.lr_at(self.epoch))

    @property
    def lr(self) -> float:
        """The optimizer's current learning rate."""
        return float(self.optimizer.lr)


class ConstantLR(Scheduler):
    """Fixed: ``lr(e) = base_lr``."""

    def lr_at(self, epoch: int) -> float:
        """``base_lr``."""
        return self.base_lr


class StepLR(Scheduler):
    """Step decay: ``lr(e) = base_lr · γ^⌊e / step_size⌋``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = checks.integer(step_size, "step_size", 1)
        self.gamma = checks.real(gamma, "gamma", 0.0, low_open=True)

    def lr_at(self, epoch: int) -> float:
        """``base_lr · γ^⌊e / step_size⌋``."""
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(Scheduler):
    """Exponential decay: ``lr(e) = base_lr · γ^e``."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = checks.real(gamma, "gamma", 0.0, low_open=True)

    def lr_at(self, epoch: int) -> float:
        """``base_lr · γ^e``."""
        return self.base_lr * self.gamma**epoch


class InverseLR(Scheduler):
    """Inverse decay (Caffe's "inv"): ``lr(e) = base_lr · (1 + γ·e)^-power``."""

    def __init__(self, optimizer: Optimizer, gamma: float, power: float) -> None:
        super().__init__(optimizer)
        self.gamma = checks.real(gamma, "gamma", 0.0)
        self.power = checks.real(power, "power", 0.0)

    def lr_at(self, epoch: int) -> float:
        """``base_lr · (1 + γ·e)^-power``."""
        return self.base_lr * (1.0 + self.gamma * epoch) ** -self.power


class CosineLR(Scheduler):
    """Cosine annealing to ``eta_min`` over ``t_max`` epochs, then constant:
    ``lr(e) = eta_min + (base_lr - eta_min) · (1 + cos(π·min(e, t_max)/t_max)) / 2``.
    """

    def __init__(self, optimizer: Optimizer, t_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.t_max = checks.integer(t_max, "t_max", 1)
        self.eta_min = checks.real(eta_min, "eta_min", 0.0)

    def lr_at(self, epoch: int) -> float:
        """See the class docstring."""
        e = min(epoch, self.t_max)
        return (
            self.eta_min
            + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * e / self.t_max)) / 2
        )


_BY_NAME: dict[str, type[Scheduler]] = {
    "constant": ConstantLR,
    "step": StepLR,
    "exponential": ExponentialLR,
    "inverse": InverseLR,
    "cosine": CosineLR,
}

#: Names accepted by :func:`get_scheduler` (``"fixed"`` is an alias of ``"constant"``).
SCHEDULES: tuple[str, ...] = tuple(_BY_NAME)


def get_scheduler(name: str, optimizer: Optimizer, **kwargs) -> Scheduler:
    """A new schedule from its name (one of :data:`SCHEDULES`, or ``"fixed"``) and arguments."""
    if isinstance(name, str) and name.lower() == "fixed":
        name = "constant"
    return checks.one_of(name, "scheduler", _BY_NAME)(optimizer, **kwargs)
