"""Input features: what the network sees of a task's raw inputs.

By default the raw inputs themselves; with the run config's ``input_features`` (a list of
expressions in x, or x and y, checked by the same safe evaluator as custom targets, e.g.
``["x", "y", "x**2", "y**2", "x*y", "sin(x)", "sin(y)"]`` as in TensorFlow Playground) one
network input per expression, each computed from the raw inputs in task units.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from app.config.expressions import (
    Expression,
    ExpressionError,
    check_finite,
    compile_expression,
)
from app.config.singularities import find_singularity


class Task(Protocol):
    """What the features need of a task (an `app.data.tasks.Task`, which imports this module):
    its number of raw inputs and of network outputs."""

    @property
    def inputs(self) -> int: ...

    @property
    def outputs(self) -> int: ...


VARIABLES = ("x", "y")
# |feature value| bound: as a target's (MAX_TARGET), its square stays finite in float32
MAX_FEATURE = 1e12


class FeatureError(ExpressionError):
    """A feature that cannot be computed somewhere on the domain (``errors.input_features``)."""

    field = "input_features"


class InputFeatures:
    """The map from raw inputs (n, task inputs) to network inputs (n, `width`).

    `texts` None means the raw inputs. Raises `ExpressionError` for a feature the evaluator
    refuses (validation normally caught it before).
    """

    def __init__(self, texts: list[str] | None, inputs: int) -> None:
        self.inputs = inputs
        self.texts = list(texts) if texts else None
        variables = VARIABLES[:inputs]
        self.expressions: list[Expression] = [
            compile_expression(text, variables) for text in self.texts or []
        ]

    @classmethod
    def of(cls, task: Task, config: dict[str, Any]) -> InputFeatures:
        """The features a run of `task` with `config` trains on."""
        return cls(config.get("input_features"), task.inputs)

    @property
    def width(self) -> int:
        """Number of network inputs."""
        return len(self.expressions) if self.texts else self.inputs

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Network inputs for raw inputs `X` (n, inputs), in `X`'s dtype.

        Raises `FeatureError` naming the feature and the point where it is not finite or larger
        than `MAX_FEATURE` in size.
        """
        if not self.texts:
            return X
        points = np.asarray(X, dtype=np.float64)
        columns = []
        for number, expression in enumerate(self.expressions, start=1):
            try:
                columns.append(check_finite(expression, points, MAX_FEATURE))
            except ExpressionError as error:
                raise self._error(number, expression, error) from None
        return np.column_stack(columns).astype(X.dtype, copy=False)

    def check(self, domain: list[list[float]]) -> None:
        """Refuse (`FeatureError`) a feature with a pole or a gap anywhere on `domain`."""
        for number, expression in enumerate(self.expressions, start=1):
            try:
                find_singularity(expression, domain)
            except ExpressionError as error:
                raise self._error(number, expression, error) from None

    @staticmethod
    def _error(number: int, expression: Expression, error: ExpressionError) -> FeatureError:
        return FeatureError(f"feature {number} ({expression.text}): {error.message}")


def network_sizes(task: Task, config: dict[str, Any]) -> list[int]:
    """Layer widths of a run's network: its input features, the hidden layers, the outputs."""
    return [InputFeatures.of(task, config).width, *config["hidden"], task.outputs]


def ignored_inputs(texts: list[str] | None, inputs: int) -> str | None:
    """Why input features `texts` (expressions in the task's raw inputs x, or x and y) leave an
    input of the task out, so the network cannot see what its target depends on; None when
    every input is used (or the features are the raw inputs, or a text does not compile: that
    is reported where it is checked). The message is ``errors.input_features`` of a 400."""
    if not isinstance(texts, list) or not texts or inputs not in (1, 2):
        return None
    names = VARIABLES[:inputs]
    try:
        used = set().union(*(compile_expression(text, names).variables for text in texts))
    except ExpressionError:
        return None
    missing = [name for name in names if name not in used]
    if not missing:
        return None
    shown = ", ".join(texts) if len(texts) <= 4 else f"{len(texts)} features"
    return (
        f"no feature uses {' or '.join(missing)} ({shown}): the network would not see an input "
        f"the target depends on; add {missing[0]} (or a feature of it)"
    )


PROJECTION_ROWS = 2000  # training rows the principal components are fitted on (evenly spread)


def _top_components(covariance: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The `count` largest eigenvalues of a covariance matrix and their eigenvectors (rows):
    exactly for a few inputs, by subspace iteration for many (784 pixels: a full
    eigendecomposition takes seconds on a loaded machine, this a few milliseconds)."""
    size = len(covariance)
    if size <= 128:
        values, vectors = np.linalg.eigh(covariance)
        order = np.argsort(values)[::-1][:count]
        return values[order], vectors[:, order].T.copy()
    rng = np.random.default_rng(0)  # a fixed start: the same picture every time
    basis = np.linalg.qr(rng.standard_normal((size, count + 6)))[0]
    for _ in range(40):
        basis = np.linalg.qr(covariance @ basis)[0]
    values, vectors = np.linalg.eigh(basis.T @ covariance @ basis)
    order = np.argsort(values)[::-1][:count]
    return values[order], (basis @ vectors[:, order]).T.copy()


def projection(x_train: np.ndarray, points: np.ndarray) -> dict[str, Any]:
    """`points` (m, inputs) on the first two principal components of the standardised training
    inputs (PCA in float64, fitted on at most `PROJECTION_ROWS` rows): ``{x, y, axes,
    explained}``, `explained` the share of the variance each component holds; how a task of
    more than two inputs shows its whole test set in one picture."""
    train = np.asarray(x_train, dtype=np.float64)
    if len(train) > PROJECTION_ROWS:
        train = train[np.linspace(0, len(train) - 1, PROJECTION_ROWS).astype(int)]
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[~(std > 1e-12)] = 1.0  # a constant input (an image's border) adds nothing
    centred = (train - mean) / std
    covariance = centred.T @ centred
    variance, pair = _top_components(covariance, 2)
    explained = np.clip(variance, 0.0, None) / max(float(np.trace(covariance)), 1e-300)
    if len(pair) < 2:  # one input column: the second component is flat
        pair = np.vstack([pair, np.zeros_like(pair)])
        explained = np.append(explained, 0.0)
    for k in range(2):  # a sign convention: the largest loading is positive (stable pictures)
        if pair[k][np.argmax(np.abs(pair[k]))] < 0:
            pair[k] = -pair[k]
    coordinates = ((np.asarray(points, dtype=np.float64) - mean) / std) @ pair.T
    shares = [float(share) for share in explained[:2]]
    return {
        "x": coordinates[:, 0],
        "y": coordinates[:, 1],
        "axes": [f"PC{k + 1} ({100 * share:.0f} % of the variance)"
                 for k, share in enumerate(shares)],  # fmt: skip
        "explained": shares,
    }

