"""The task registry: the functions a network can be trained to fit.

Each `Task` knows its formula, default domain and run defaults, and builds the data of a run:
noisy samples split into train and test sets (seeded) and a fixed evaluation grid with the target
on it (200 points in 1-D, 50×50 in 2-D). Classification tasks will join with ``kind =
"classification"``; everything here keys off `kind` and `inputs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from network import datasets

GRID_POINTS = {1: 200, 2: 50}  # points per axis of the evaluation grid
DATA_POINTS_SHOWN = 1000  # at most this many train (and test) points go out in a snapshot

PI = float(np.pi)


@dataclass(frozen=True)
class Task:
    """One fitting problem: ``target = fn(x)`` or ``fn(x, y)`` on a box `domain`."""

    id: str
    title: str
    formula: str
    domain: tuple[tuple[float, float], ...]
    fn: Callable[..., np.ndarray]
    kind: str = "regression"
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def inputs(self) -> int:
        return len(self.domain)

    def defaults(self) -> dict[str, Any]:
        """The run config defaults for this task (everything but ``task``)."""
        return {
            "hidden": [32, 32],
            "activation": "tanh",
            "optimizer": "adam",
            "loss": "mse",
            "lr": 0.01,
            "momentum": 0.9,
            "weight_decay": 0.0,
            "batch_size": 32,
            "epochs": 500,
            "samples": 500 if self.inputs == 1 else 2000,
            "domain": [list(pair) for pair in self.domain],
            "test_fraction": 0.3,
            "noise": 0.0,
            "seed": 0,
            **self.overrides,
        }

    def losses(self) -> tuple[str, ...]:
        """Loss names a run of this task may choose (the first is the default)."""
        return ("mse",) if self.kind == "regression" else ("cross_entropy", "mse")

    def to_json(self) -> dict[str, Any]:
        """The public description served by ``GET /api/tasks``."""
        return {
            "id": self.id,
            "kind": self.kind,
            "inputs": self.inputs,
            "title": self.title,
            "formula": self.formula,
            "domain": [list(pair) for pair in self.domain],
            "defaults": self.defaults(),
        }


def _ripple(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = np.hypot(x, y)
    return np.sinc(r / np.pi)  # sin(r) / r, and 1 at r = 0


def _peaks(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (
        3 * (1 - x) ** 2 * np.exp(-(x**2) - (y + 1) ** 2)
        - 10 * (x / 5 - x**3 - y**5) * np.exp(-(x**2) - y**2)
        - np.exp(-((x + 1) ** 2) - y**2) / 3
    )


TASKS: dict[str, Task] = {
    task.id: task
    for task in (
        Task("sin", "Sine", "sin(x)", ((-PI, PI),), np.sin),
        Task("square", "Parabola", "x²", ((-1.0, 1.0),), np.square),
        Task("abs", "Absolute value", "|x|", ((-1.0, 1.0),), np.abs),
        Task("saddle", "Saddle", "x² − y²", ((-1.0, 1.0), (-1.0, 1.0)), lambda x, y: x**2 - y**2),
        Task("bowl", "Bowl", "x² + y²", ((-1.0, 1.0), (-1.0, 1.0)), lambda x, y: x**2 + y**2),
        Task(
            "sincos",
            "Egg crate",
            "sin(x)·cos(y)",
            ((-PI, PI), (-PI, PI)),
            lambda x, y: np.sin(x) * np.cos(y),
        ),
        Task(
            "gaussian",
            "Gaussian bump",
            "exp(−(x² + y²))",
            ((-2.0, 2.0), (-2.0, 2.0)),
            lambda x, y: np.exp(-(x**2 + y**2)),
        ),
        Task(
            "peaks",
            "Peaks",
            "3(1−x)²·e^(−x²−(y+1)²) − 10(x/5 − x³ − y⁵)·e^(−x²−y²) − e^(−(x+1)²−y²)/3",
            ((-3.0, 3.0), (-3.0, 3.0)),
            _peaks,
        ),
        Task(
            "ripple",
            "Ripple",
            "sin(r)/r, r = √(x² + y²)",
            ((-8.0, 8.0), (-8.0, 8.0)),
            _ripple,
        ),
    )
}


def task_list() -> list[dict[str, Any]]:
    """All tasks as served by ``GET /api/tasks``."""
    return [task.to_json() for task in TASKS.values()]


@dataclass
class TaskData:
    """The numbers of one run: train/test data and the evaluation grid, in task units."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    grid_axes: list[np.ndarray]
    grid_x: np.ndarray
    grid_target: np.ndarray  # (m, outputs)

    def grid_shape(self) -> tuple[int, ...]:
        """Shape of one output on the grid: (200,) in 1-D, (len(ys), len(xs)) in 2-D."""
        return tuple(len(axis) for axis in reversed(self.grid_axes))


def build_data(task: Task, config: dict[str, Any]) -> TaskData:
    """Sample the task as `config` asks (domain, samples, noise, test_fraction, seed)."""
    domain = [tuple(pair) for pair in config["domain"]]
    seed = config["seed"]
    X, Y = datasets.sample_function(
        task.fn, domain, config["samples"], noise=config["noise"], seed=seed
    )
    x_train, y_train, x_test, y_test = datasets.train_test_split(
        X, Y, test_fraction=config["test_fraction"], seed=seed
    )
    axes, grid_x = datasets.grid(domain, GRID_POINTS[task.inputs])
    target = np.asarray(task.fn(*grid_x.astype(np.float64).T), dtype=np.float64).reshape(-1, 1)
    return TaskData(x_train, y_train, x_test, y_test, axes, grid_x, target)
