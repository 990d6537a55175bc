"""The task registry: the functions a network can be trained to fit.

Each `Task` knows its formula, default domain and run defaults, and builds the data of a run:
noisy samples split into train and test sets (seeded) and a fixed evaluation grid with the target
on it (200 points in 1-D, 50×50 in 2-D). Classification tasks (``kind = "classification"``) draw
labelled points from a `network.datasets` generator instead; their grid has no target (the page
colours it by the predicted class) and always covers every data point with a margin.

Besides the fixed registry `TASKS`, two kinds of tasks are built per request: `custom_task` (a
user's expression, checked by `app.config.expressions`, id ``custom``) and `dataset_task` (rows
uploaded as CSV, `app.data.uploads`, id ``dataset:<id>``). Those are never added to the registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from flask import current_app, has_app_context  # only requests have an app's tasks

from app.config.expressions import (
    GRID_POINTS,
    Expression,
    check_finite,
)
from app.config.schema import field_defaults
from app.config.singularities import find_singularity
from app.data.features import InputFeatures
from app.data.tables import CHOICE_FIELDS, ChoiceError
from app.data.uploads import MAX_TARGET, ParsedDataset, table_dataset
from network import datasets

PI = float(np.pi)


DOMAIN_MARGIN = 0.1  # a classification grid reaches this fraction of the data's span beyond it


def fitting_domain(X: np.ndarray, centred: bool = False) -> list[list[float]]:
    """The box around every row of `X` plus `DOMAIN_MARGIN` of its span, rounded outward.

    The bounds are rounded to a tenth of the span's order of magnitude (moons: steps of 0.1,
    blobs: steps of 1) so the axes start and end on short numbers. `centred` makes each axis
    symmetric about 0 (for data sets that are, before noise).
    """
    box = []
    for column in np.asarray(X, dtype=np.float64).T:
        lo, hi = float(column.min()), float(column.max())
        if centred:
            lo, hi = -max(-lo, hi), max(-lo, hi)
        span = max(hi - lo, 1e-3)
        step = 10.0 ** (math.floor(math.log10(span)) - 1)
        lo = math.floor((lo - DOMAIN_MARGIN * span) / step) * step
        hi = math.ceil((hi + DOMAIN_MARGIN * span) / step) * step
        box.append([round(lo, 10), round(hi, 10)])
    return box


@dataclass(frozen=True)
class Task:
    """One problem on a box `domain`: fit ``target = fn(x)`` / ``fn(x, y)`` (regression), or
    separate the classes of labelled points drawn by ``sample(n_samples, noise, seed)``
    (classification; `classes` names them, class k is label k)."""

    id: str
    title: str
    formula: str
    domain: tuple[tuple[float, float], ...]
    fn: Callable[..., np.ndarray] | None = None
    kind: str = "regression"
    overrides: dict[str, Any] = field(default_factory=dict)
    sample: Callable[[int, float, int], tuple[np.ndarray, np.ndarray]] | None = None
    classes: tuple[str, ...] = ()
    centred: bool = False  # classification data symmetric about 0: so is its grid
    expression: Expression | None = None  # custom tasks: the checked expression behind `fn`
    dataset: ParsedDataset | None = None  # dataset tasks: the uploaded rows
    # Tasks of more than two inputs: their count, the two drawn in the slice view (whose box is
    # `domain`; the others are held at their training median), and the image shape, if any.
    input_count: int = 0
    slice_features: tuple[int, int] = (0, 1)
    image_shape: tuple[int, ...] | None = None
    input_names: tuple[str, ...] = ()  # one per raw input (default x, or x and y)

    @property
    def inputs(self) -> int:
        """Number of raw inputs (network inputs unless the run picks input features)."""
        return self.input_count or len(self.domain)

    @property
    def outputs(self) -> int:
        """Width of the network's output layer: one per class, or the single target value."""
        return len(self.classes) if self.kind == "classification" else 1

    def defaults(self) -> dict[str, Any]:
        """The run config defaults for this task (everything but ``task``): the declared ones
        (`app.config.schema.TrainingConfig`), the task's samples and domain, then its
        `overrides`."""
        return {
            **field_defaults(),
            "samples": 500 if self.inputs == 1 else 2000,
            "domain": [list(pair) for pair in self.domain],
            **self.overrides,
        }

    def losses(self) -> tuple[str, ...]:
        """Loss names a run of this task may choose (the first is the default)."""
        return ("mse",) if self.kind == "regression" else ("cross_entropy", "mse")

    def to_json(self) -> dict[str, Any]:
        """The public description served by ``GET /api/tasks`` (and in snapshots).

        Classification tasks add ``classes`` (names, class k = label k) and ``outputs``; dataset
        tasks add ``n_rows``.
        """
        answer = {
            "id": self.id,
            "kind": self.kind,
            "inputs": self.inputs,
            "title": self.title,
            "formula": self.formula,
            "domain": [list(pair) for pair in self.domain],
            "defaults": self.defaults(),
        }
        if self.kind == "classification":
            answer["classes"] = list(self.classes)
            answer["outputs"] = self.outputs
        if self.dataset is not None:
            answer["n_rows"] = self.dataset.n_rows
        answer["input_names"] = list(self.input_names or ("x", "y")[: self.inputs])
        if self.input_count:
            answer["slice_features"] = list(self.slice_features)
        if self.image_shape is not None:
            answer["image_shape"] = list(self.image_shape)
        return answer


# Training defaults shared by the classification tasks: seed 001's moons net (2-25-50-25-C, tanh,
# Adam). Each task sets its own lr/epochs/noise so that its default run converges in seconds.
CLASSIFICATION_DEFAULTS: dict[str, Any] = {
    "hidden": [25, 50, 25],
    "activation": "tanh",
    "optimizer": "adam",
    "loss": "cross_entropy",
    "samples": 2000,
}


def _classifier(
    task_id: str,
    title: str,
    formula: str,
    sample: Callable[[int, float, int], tuple[np.ndarray, np.ndarray]],
    classes: int,
    centred: bool = False,
    **overrides: Any,
) -> Task:
    """A classification task whose default domain holds its default data (seed 0) with a margin."""
    defaults = {**CLASSIFICATION_DEFAULTS, **overrides}
    X, _ = sample(defaults["samples"], defaults["noise"], 0)
    domain = tuple(tuple(pair) for pair in fitting_domain(X, centred))
    return Task(
        task_id,
        title,
        formula,
        domain,
        kind="classification",
        overrides=defaults,
        sample=sample,
        classes=tuple(str(k) for k in range(classes)),
        centred=centred,
    )


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
        _classifier(
            "moons",
            "Two moons",
            "two interleaving half circles (radius 1) + Gaussian noise",
            lambda n, noise, seed: datasets.make_moons(n, noise=noise, seed=seed),
            2,
            noise=0.2,
            lr=0.001,
            epochs=200,
        ),
        _classifier(
            "circles",
            "Circles",
            "a circle of radius 0.5 inside one of radius 1 + Gaussian noise",
            lambda n, noise, seed: datasets.make_circles(n, noise=noise, factor=0.5, seed=seed),
            2,
            centred=True,
            noise=0.05,
            lr=0.003,
            epochs=100,
        ),
        _classifier(
            "xor",
            "XOR",
            "class = (x > 0) xor (y > 0) on [−1, 1]² + Gaussian noise",
            lambda n, noise, seed: datasets.make_xor(n, noise=noise, seed=seed),
            2,
            centred=True,
            noise=0.1,
            lr=0.003,
            epochs=200,
        ),
        _classifier(
            "spiral",
            "Spiral (2 arms)",
            "two interleaved spiral arms, 1.5 turns each + Gaussian noise",
            lambda n, noise, seed: datasets.make_spiral(n, noise=noise, arms=2, seed=seed),
            2,
            centred=True,
            noise=0.05,
            lr=0.01,
            epochs=300,
        ),
        _classifier(
            "spiral3",
            "Spiral (3 arms)",
            "three interleaved spiral arms, 1.5 turns each + Gaussian noise",
            lambda n, noise, seed: datasets.make_spiral(n, noise=noise, arms=3, seed=seed),
            3,
            centred=True,
            noise=0.03,
            lr=0.003,
            epochs=300,
        ),
        _classifier(
            "blobs",
            "Blobs (3 classes)",
            "three Gaussian blobs, centres 6 apart, std = noise",
            lambda n, noise, seed: datasets.make_blobs(n, centers=3, noise=noise, seed=seed),
            3,
            noise=1.0,
            lr=0.003,
            epochs=100,
        ),
    )
}


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digits: 1,797 images (pixels 0–16) and their labels."""
    from sklearn.datasets import load_digits  # loaded on first use, not at import

    digits = load_digits()
    return digits.data.astype(np.float32), digits.target.astype(np.int64)


def subset_with_noise(
    X: np.ndarray, y: np.ndarray, n: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """`n` rows of an image set (all of them when n is that many or more; else a seeded subset
    in their order), pixels plus Gaussian noise of std `noise` (in pixel units)."""
    rng = np.random.default_rng(seed)
    if n < len(X):
        rows = np.sort(rng.choice(len(X), size=n, replace=False))
        X, y = X[rows], y[rows]
    if noise:
        X = X + rng.normal(0.0, noise, X.shape).astype(np.float32)
    return X, y


def sample_digits(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` of the 1,797 digits (see `subset_with_noise`; pixels 0–16)."""
    return subset_with_noise(*_digits(), n, noise, seed)


DIGITS = Task(
    "digits",
    "Handwritten digits (8×8)",
    "scikit-learn's 1,797 images of 8×8 pixels (0–16) → digit 0–9",
    ((0.0, 16.0), (0.0, 16.0)),  # the slice view: pixels 42 and 43, the two that vary most
    kind="classification",
    overrides={
        **CLASSIFICATION_DEFAULTS,
        "hidden": [32],
        "samples": 1797,
        "noise": 0.0,
        "lr": 0.003,
        "epochs": 60,
    },
    sample=sample_digits,
    classes=tuple(str(k) for k in range(10)),
    input_count=64,
    slice_features=(42, 43),
    image_shape=(8, 8),
    input_names=tuple(f"pixel ({row}, {col})" for row in range(8) for col in range(8)),
)
TASKS[DIGITS.id] = DIGITS


def app_tasks() -> dict[str, Task]:
    """The registry plus the current Flask app's own tasks (``app.extensions["tasks"]``, e.g.
    ``mnist`` when started with ``--mnist-dir``); the registry alone outside an app context.
    Per-app tasks live in the app, so no app changes this module's `TASKS`."""
    if not has_app_context():
        return TASKS
    extra = current_app.extensions.get("tasks")
    return {**TASKS, **extra} if extra else TASKS


DATA_POINTS_SHOWN = 1000  # at most this many train (and test) points go out in a snapshot


def shown_rows(count: int, limit: int = DATA_POINTS_SHOWN) -> np.ndarray:
    """At most `limit` row indices of `count` rows, evenly spread (the same pick everywhere)."""
    return np.unique(np.linspace(0, count - 1, min(count, limit)).astype(int))


def task_list() -> list[dict[str, Any]]:
    """All tasks (of the current app, see `app_tasks`) as served by ``GET /api/tasks``."""
    return [task.to_json() for task in app_tasks().values()]


# ------------------------------------------------------------------ MNIST (--mnist-dir)

MNIST_FILES = ("images-idx3-ubyte", "labels-idx1-ubyte")
MNIST_SIDE = 28


def mnist_files_present(folder: str | Path) -> bool:
    """True when `folder` holds the four MNIST IDX files (train and t10k images and labels,
    raw or gzipped, as `network.datasets.load_mnist` reads them)."""
    folder = Path(folder)
    for kind in ("train", "t10k"):
        for what in MNIST_FILES:
            names = (f"{kind}-{what}", f"{kind}-{what}".replace("-idx", ".idx"))
            if not any((folder / (name + end)).is_file() for name in names for end in ("", ".gz")):
                return False
    return True


@cache
def _mnist(folder: str) -> tuple[np.ndarray, np.ndarray]:
    """Every MNIST image of `folder` (train then t10k; pixels 0-1) and its label, read once."""
    train_x, train_y = datasets.load_mnist(folder, "train")
    test_x, test_y = datasets.load_mnist(folder, "t10k")
    return np.concatenate([train_x, test_x]), np.concatenate([train_y, test_y])


def own_tasks(mnist_dir: str | Path | None, data_dir: str | Path | None) -> dict[str, Task]:
    """A process's tasks besides the registry, the same in web processes and workers: ``mnist``
    from `mnist_dir` (``--mnist-dir``) if given, else from the MNIST files uploaded to
    `data_dir` (``data_dir/mnist``, `app.data.mnist_upload`); {} when the four files are not there
    (or neither folder is given)."""
    folder = mnist_dir or (Path(data_dir) / "mnist" if data_dir is not None else None)
    if folder is None or not mnist_files_present(folder):
        return {}
    return {"mnist": mnist_task(folder)}


def mnist_task(folder: str | Path) -> Task:
    """The task ``mnist``: the 28×28 digits of the IDX files in `folder` (read on first use,
    never downloaded), 784 inputs, 10 classes; the seed network 784-50-50-10 by default.
    A run takes `samples` images (a seeded subset; all of them at most 70,000)."""
    folder = str(Path(folder).resolve())

    def sample(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        return subset_with_noise(*_mnist(folder), n, noise, seed)

    centre = MNIST_SIDE // 2
    return Task(
        "mnist",
        "MNIST digits (28×28)",
        f"the 28×28 handwritten digits in {folder} → digit 0–9",
        ((0.0, 1.0), (0.0, 1.0)),  # the slice view: two pixels at the centre
        kind="classification",
        overrides={
            **CLASSIFICATION_DEFAULTS,
            "hidden": [50, 50],
            "activation": "relu",
            "samples": 10_000,
            "batch_size": 100,
            "noise": 0.0,
            "lr": 0.001,
            "epochs": 10,
        },
        sample=sample,
        classes=tuple(str(k) for k in range(10)),
        input_count=MNIST_SIDE * MNIST_SIDE,
        slice_features=(centre * MNIST_SIDE + centre - 1, centre * MNIST_SIDE + centre),
        image_shape=(MNIST_SIDE, MNIST_SIDE),
        input_names=tuple(
            f"pixel ({row}, {col})" for row in range(MNIST_SIDE) for col in range(MNIST_SIDE)
        ),
    )


@dataclass
class TaskData:
    """The numbers of one run: train/test data and the evaluation grid, in task units.

    Regression: ``y_*`` are targets (n, 1) and `grid_target` the target on the grid (m, 1).
    Classification: ``y_*`` are int64 labels (n,) and `grid_target` is None.
    `domain` is the grid's box (for classification it may be wider than the config asked, to hold
    every point). Uploaded rows, sampled functions and the grid are float64 (the session
    standardises them in float64 and the model casts after: a narrow range far from 0, such as
    999000.0000 … 999000.1995, keeps its distinct values); sampled classes and images keep the
    float32 of their generators.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    grid_axes: list[np.ndarray]
    grid_x: np.ndarray
    grid_target: np.ndarray | None  # (m, outputs)
    domain: list[list[float]]
    # more than two inputs: the slice view's two input columns and every input's fill value
    slice_features: tuple[int, int] = (0, 1)
    fill: np.ndarray | None = None

    def grid_shape(self) -> tuple[int, ...]:
        """Shape of one output on the grid: (200,) in 1-D, (len(ys), len(xs)) in 2-D."""
        return tuple(len(axis) for axis in reversed(self.grid_axes))

    def embed(self, points: np.ndarray) -> np.ndarray:
        """Points of the plotted box (m, 1 or 2) as raw inputs: with more than two inputs, the
        slice features take the points and every other input its training median."""
        if self.fill is None:
            return points
        full = np.tile(self.fill.astype(points.dtype), (len(points), 1))
        full[:, list(self.slice_features)] = points
        return full

    def reslice(self, features: tuple[int, int]) -> None:
        """Draw the slice view over inputs `features` instead: its box (the training data's
        range of those two inputs, with a margin), grid axes and grid; no target function (only
        tasks without one have more than two inputs)."""
        self.slice_features = (int(features[0]), int(features[1]))
        self.domain = fitting_domain(self.x_train[:, list(self.slice_features)])
        axes, grid = evaluation_grid(self.domain)
        self.grid_axes, self.grid_x = axes, self.embed(grid)

    def plotted(self, X: np.ndarray) -> np.ndarray:
        """The plotted columns of raw inputs `X` (the slice features when there are more)."""
        return X if self.fill is None else X[:, list(self.slice_features)]


def classification_domain(
    task: Task, domain: list[list[float]], X: np.ndarray
) -> list[list[float]]:
    """The union of `domain` and the box holding every point of `X` with a margin (see
    `fitting_domain`): a classification grid never leaves points off the plot. With more than
    two inputs, the box of the slice view's two inputs."""
    if task.input_count:
        return [list(pair) for pair in task.domain]  # the data's own box, margins included
    fitted = fitting_domain(X, task.centred)
    return [
        [min(lo, fit_lo), max(hi, fit_hi)]
        for (lo, hi), (fit_lo, fit_hi) in zip(domain, fitted, strict=True)
    ]


def evaluation_grid(domain: list[list[float]]) -> tuple[list[np.ndarray], np.ndarray]:
    """The grid a run is drawn on: (axes, points (m, inputs) float64); `GRID_POINTS` per axis."""
    return datasets.grid(
        [tuple(pair) for pair in domain], GRID_POINTS[len(domain)], dtype=np.float64
    )


def settle_config(task: Task, config: dict[str, Any]) -> dict[str, Any]:
    """`settle`'s config alone (the data it drew, if any, is dropped)."""
    return settle(task, config)[0]


def settle(task: Task, config: dict[str, Any]) -> tuple[dict[str, Any], TaskData | None]:
    """Fill in what a validated config's run will use, before it is queued: a classification
    run's domain widened to hold its points. Those points are drawn here, once: the
    `TaskData` built from them is returned beside the config (else None), for the run to train
    and show rather than draw them again (`build_data` of the settled config is the same data:
    same seed, same domain). A custom target is evaluated on the grid here, so a value that is
    not finite or too large there is an `ExpressionError` now, not a failed run; so are input
    features with a pole or gap on the domain (`features.FeatureError`).
    """
    data = None
    if task.kind == "classification":
        if task.input_count:  # the data's own box: nothing to draw for it
            config["domain"] = classification_domain(task, config["domain"], np.empty((0, 0)))
        else:
            data = build_data(task, config)
            config["domain"] = [list(pair) for pair in data.domain]
    elif task.fn is not None:
        _axes, grid = evaluation_grid(config["domain"])
        task.fn(*grid.T)
    InputFeatures.of(task, config).check(config["domain"])
    return config, data


def _drawn_points(task: Task, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of a task without a target function: uploaded or sampled (X, labels | Y)."""
    if task.dataset is not None:  # float64 as read: a narrow range far from 0 stays distinct
        X = task.dataset.features()  # a table's inputs are built here, where a run needs them
        if not X.flags.writeable:  # X itself, shared by every run of the upload
            X = X.copy()
        if task.kind == "classification":
            return X, task.dataset.labels.copy()
        return X, task.dataset.Y.astype(np.float64)
    return task.sample(config["samples"], config["noise"], config["seed"])


def build_data(task: Task, config: dict[str, Any]) -> TaskData:
    """Sample the task as `config` asks (domain, samples, noise, test_fraction, seed).

    For classification the grid covers the union of the config's domain and the box that holds
    every sampled point with a margin (`fitting_domain`), so raising the noise never pushes points
    off the plot. Dataset tasks split their uploaded rows instead of sampling (`samples` and
    `noise` do not apply). A custom task's target is checked on the grid first, then on the
    samples: a non-finite or huge value raises `ExpressionError` naming the point. With more
    than two inputs the grid is the slice view's (`TaskData.embed`).
    """
    domain = [list(pair) for pair in config["domain"]]
    seed = config["seed"]
    target = None
    if task.fn is None:
        X, Y = _drawn_points(task, config)
        if task.kind == "classification":
            domain = classification_domain(task, domain, X)
    axes, grid64 = evaluation_grid(domain)
    if task.fn is not None:
        target = np.asarray(task.fn(*grid64.T), dtype=np.float64).reshape(-1, 1)
        X, Y = datasets.sample_function(
            task.fn, [tuple(pair) for pair in domain], config["samples"], noise=config["noise"],
            seed=seed, dtype=np.float64,
        )  # fmt: skip
    x_train, y_train, x_test, y_test = datasets.train_test_split(
        X, Y, test_fraction=config["test_fraction"], seed=seed
    )
    data = TaskData(x_train, y_train, x_test, y_test, axes, grid64, target, domain,
                    task.slice_features)  # fmt: skip
    if task.input_count:
        data.fill = np.median(x_train, axis=0)
        data.grid_x = data.embed(data.grid_x)
        chosen = config.get("slice_features")
        if chosen is not None and tuple(chosen) != task.slice_features:
            data.reslice(tuple(chosen))
    return data


# ------------------------------------------------------------------ per-request tasks

CUSTOM_ID = "custom"
CUSTOM_TITLE = "Your function"
CUSTOM_DOMAIN_1D = [[-3.0, 3.0]]
CUSTOM_DOMAIN_2D = [[-3.0, 3.0], [-3.0, 3.0]]
DATASET_PREFIX = "dataset:"

# Training defaults of an uploaded classification dataset (unknown data: a middle ground).
DATASET_CLASSIFICATION_DEFAULTS: dict[str, Any] = {
    **CLASSIFICATION_DEFAULTS,
    "noise": 0.0,
    "lr": 0.003,
    "epochs": 200,
}


def checked_target(expression: Expression) -> Callable[..., np.ndarray]:
    """``fn(x)`` / ``fn(x, y)`` evaluating `expression` that raises `ExpressionError` at the first
    point where the value is not finite or larger than `MAX_TARGET` in size (naming the point)."""

    def target(*columns: np.ndarray) -> np.ndarray:
        shape = np.broadcast_shapes(*(np.shape(column) for column in columns))
        points = np.column_stack(
            [np.broadcast_to(np.asarray(column, np.float64), shape).ravel() for column in columns]
        )
        values = check_finite(expression, points, MAX_TARGET)
        return values.reshape(shape)

    return target


def custom_task(expression: Expression, domain: list[list[float]]) -> Task:
    """The task ``custom``: fit the user's checked `expression` over `domain` (one pair per input
    of the expression, 1-D in x or 2-D in x and y).

    Raises `ExpressionError` naming the place when the expression is not finite somewhere on the
    domain, between sample points too (`find_singularity`: ``1/x is not finite at x = 0``); a
    target that is finite but larger than `MAX_TARGET` is refused later, where it is sampled.
    """
    if len(domain) != len(expression.inputs):
        raise ValueError(f"domain needs one [lo, hi] pair per input {expression.inputs}")
    find_singularity(expression, domain)
    return Task(
        CUSTOM_ID,
        CUSTOM_TITLE,
        expression.text,
        tuple((float(lo), float(hi)) for lo, hi in domain),
        checked_target(expression),
        overrides={"expression": expression.text},
        expression=expression,
    )


def dataset_task(
    dataset_id: str, dataset: ParsedDataset, choice: dict[str, Any] | None = None
) -> Task:
    """The task ``dataset:<id>`` training on an uploaded dataset's rows.

    Regression datasets keep the data's own domain; classification datasets get the box around
    their points with a margin (as the built-in classification tasks) and the classification
    training defaults. ``samples`` defaults to the number of rows. A table with named columns
    trains on the `choice` of a run config (``target_column``, ``feature_columns``, ``kind``;
    see `table_task`).
    """
    if dataset.table is not None:
        return table_task(dataset_id, dataset, choice or {})
    inputs = "x" if dataset.inputs == 1 else "x, y"
    rows = f"{dataset.n_rows:,} rows"
    if dataset.kind == "classification":
        count = len(dataset.classes)
        return Task(
            f"{DATASET_PREFIX}{dataset_id}",
            f"{dataset.name or 'Your data'} ({rows})",
            f"{inputs} → label ({count} classes: {', '.join(dataset.classes)})",
            tuple(tuple(pair) for pair in fitting_domain(dataset.X)),
            kind="classification",
            overrides={**DATASET_CLASSIFICATION_DEFAULTS, "samples": dataset.n_rows},
            classes=tuple(dataset.classes),
            dataset=dataset,
        )
    return Task(
        f"{DATASET_PREFIX}{dataset_id}",
        f"{dataset.name or 'Your data'} ({rows})",
        f"{inputs} → target",
        tuple(tuple(pair) for pair in dataset.domain),
        overrides={"samples": dataset.n_rows},
        dataset=dataset,
    )


def table_task(dataset_id: str, dataset: ParsedDataset, fields: dict[str, Any]) -> Task:
    """The task of an uploaded table (`app.data.tables`) for a run's choice of ``target_column``,
    ``feature_columns`` and ``kind`` in `fields` (each None or absent: the table's default).

    One network input per number feature and per category of a category feature (named
    ``column=value``). With more than two inputs the plots are a slice view over two of them
    (by default the first two number features), the others held at their training median.
    Raises `tables.ChoiceError` naming the field when the choice does not fit the table.
    """
    table = dataset.table
    given = [fields.get(name) for name in CHOICE_FIELDS]
    choice = table.choose(*given)
    data = dataset
    if any(value is not None for value in given):
        data = replace(table_dataset(table, choice), name=dataset.name, notes=dataset.notes)
    classification = choice.kind == "classification"
    width = data.inputs
    if classification and width < 2:
        raise ChoiceError(
            "feature_columns",
            "classification needs at least two network inputs (its regions are drawn over two):"
            " choose another feature too",
        )
    features = choice.features
    shown = ", ".join(features) if len(features) <= 4 else f"{len(features)} columns"
    outcome = f"{len(choice.classes)} classes" if classification else "regression"
    extra: dict[str, Any] = {}
    if width > 2:
        numeric = choice.numeric_inputs
        pair = (numeric[0], numeric[1]) if len(numeric) >= 2 else (0, 1)
        domain = fitting_domain(data.features(pair))
        extra = {"input_count": width, "slice_features": pair}
    else:
        domain = fitting_domain(data.features()) if classification else data.domain
    defaults = DATASET_CLASSIFICATION_DEFAULTS if classification else {}
    return Task(
        f"{DATASET_PREFIX}{dataset_id}",
        f"{dataset.name or 'Your table'} ({data.n_rows:,} rows)",
        f"{shown} → {choice.target} ({outcome})",
        tuple(tuple(pair) for pair in domain),
        kind=choice.kind,
        overrides={**defaults, "samples": data.n_rows, **choice.config()},
        classes=tuple(choice.classes),
        dataset=data,
        input_names=choice.input_names,
        **extra,
    )
