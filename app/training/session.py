"""A training session: one run's config and task data turned into a model, an optimizer, the
scalers and a `network.Trainer`, trained a slice at a time, with `view()` giving the prediction
and the network on the grid. Plain Python and numpy: no Flask, sockets or threads (the run loop
in `app.runs.runner` decides when to train, pause or stop).

Inputs are z-scored for training (a `Standardizer` fitted on the training rows). Regression
targets are z-scored too, so the reported losses are on standardised targets, and predictions go
back to task units. Classification trains on integer labels (cross-entropy) or one-hot targets
(MSE) and its view is the predicted class and its confidence on the grid (`ClassView`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

import network as nn
from app.config.schema import uses_field
from app.data.features import InputFeatures
from app.data.tasks import Task, TaskData, build_data, shown_rows
from app.training.diagnosis import UnitHealth
from app.training.film import Film, FilmFrames, plan
from app.training.inside import NEURONS_SHOWN, HealthProbe, Inside, InsideProbe
from network.datasets import Standardizer

STEERED = ("batch_size", "l1", "weight_decay")  # history columns of the live-changeable numbers
FIRST_LAYER_SHOWN = 64  # image tasks: hidden units whose weights are drawn as images
DEAD_UNIT_ROWS = 1000  # training rows a dead-unit count looks at


def class_probabilities(outputs: np.ndarray, loss: str) -> np.ndarray:
    """Per-class probabilities (rows sum to 1) from the network's outputs (n, classes).

    Cross-entropy nets output logits: softmax. MSE nets are trained towards one-hot targets, so
    their outputs already estimate the class indicators: clipped to [0, 1] and normalised to sum
    1 (uniform where every output is ≤ 0). Softmax of such outputs would squash a confident
    [1, 0] to 0.73, so the heatmap would never show a sure region.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if loss == "cross_entropy":
        shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    clipped = np.clip(outputs, 0.0, 1.0)
    total = clipped.sum(axis=1, keepdims=True)
    uniform = np.full_like(clipped, 1.0 / outputs.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, clipped / np.where(total > 0, total, 1.0), uniform)


def history_columns(config: dict[str, Any], classification: bool) -> list[str]:
    """The history columns beside the losses and accuracies: ``test_r2`` (regression) and
    ``update_ratio`` (‖Δw‖ / ‖w‖ over the epoch), then the `settings_columns`."""
    measured = ["update_ratio"] if classification else ["test_r2", "update_ratio"]
    return measured + settings_columns(config)


def settings_columns(config: dict[str, Any]) -> list[str]:
    """The steerable numbers in force at each epoch's end: ``lr``, ``batch_size``, ``l1``,
    ``weight_decay`` and, for the optimizers that use one (SGD, RMSprop), ``momentum``."""
    momentum = uses_field(config["optimizer"], "momentum")
    return ["lr", *STEERED] + (["momentum"] if momentum else [])


@dataclass(frozen=True)
class ClassView:
    """A classification model's prediction (built whole, never mutated afterwards).

    `classes` / `confidence` are on the grid (flat, grid order): the argmax class (the class the
    net predicts, as in its accuracy) and that class's probability per `class_probabilities`.
    `test_predicted` holds the predicted label of every test row; `misclassified` counts the
    wrong ones; `confusion` (classes, classes) counts test rows by true class (rows) and
    predicted class (columns).
    """

    classes: np.ndarray
    confidence: np.ndarray
    test_predicted: np.ndarray
    misclassified: int
    confusion: np.ndarray


def class_view(
    outputs: np.ndarray, test_outputs: np.ndarray, truth: np.ndarray, loss: str
) -> ClassView:
    """The `ClassView` of a classifier's `outputs` (grid points, classes) and `test_outputs`
    (test rows, classes), the test rows' true labels being `truth`."""
    classes = outputs.argmax(axis=1)  # the class the accuracy counts, as in nn.train
    if loss == "cross_entropy":  # softmax's largest: 1 / sum(exp(o - max)), no other needed
        shifted = np.asarray(outputs, dtype=np.float64)
        shifted = shifted - shifted.max(axis=1, keepdims=True)
        confidence = 1.0 / np.exp(shifted, out=shifted).sum(axis=1)
    else:
        confidence = class_probabilities(outputs, loss)[np.arange(len(classes)), classes]
    test_predicted = test_outputs.argmax(axis=1).astype(np.int32)
    count = outputs.shape[1]
    return ClassView(
        classes=classes,
        confidence=confidence,
        test_predicted=test_predicted,
        misclassified=int(np.count_nonzero(test_predicted != truth)),
        confusion=np.bincount(truth * count + test_predicted, minlength=count * count)
        .reshape(count, count),
    )


@dataclass(frozen=True)
class Checkpoint:
    """What it takes to rebuild a run's model outside the session (storage, export, continue).

    `state` is ``model.state_dict()`` (copies), `architecture` ``model.config()``; `x_scaler`
    and `y_scaler` the ``(mean, std)`` of the input-feature and target standardisation (y None
    for classification); `features` the input feature expressions (None: the raw inputs);
    `epoch` the completed epochs when it was taken; `best` ``(epoch, state)`` of the epoch with
    the lowest test loss so far (None before any); `film` ``{epoch: state}`` the weights kept
    so far for replay (`app.training.film.FilmFrames`; None where not kept).
    """

    state: dict[str, np.ndarray]
    architecture: list[dict]
    x_scaler: tuple[np.ndarray, np.ndarray]
    y_scaler: tuple[np.ndarray, np.ndarray] | None
    features: list[str] | None
    epoch: int
    best: tuple[int, dict[str, np.ndarray]] | None = None
    optimizer: dict | None = None  # ``optimizer.state_dict()`` (None when not kept, e.g. stored)
    film: FilmFrames | None = None

    def at_best(self) -> Checkpoint | None:
        """The same model with the best epoch's weights (None when there is no best yet)."""
        if self.best is None:
            return None
        epoch, state = self.best
        return dataclasses.replace(self, state=state, epoch=epoch)


class BestWeights:
    """The weights of the epoch with the lowest test loss so far (Keras's
    ``restore_best_weights``): copied into arrays allocated once, when a better epoch comes."""

    def __init__(self, model: nn.Sequential) -> None:
        self.model = model
        self.epoch: int | None = None  # as in the history's epoch column
        self.loss = math.inf
        self.state: dict[str, np.ndarray] | None = None

    def update(self, epoch: int, test_loss: float | None) -> None:
        """Keep the model's weights if `test_loss` (of epoch `epoch`) is the lowest yet."""
        if test_loss is None or not test_loss < self.loss:  # NaN is never better
            return
        if self.state is None:
            self.state = self.model.state_dict()
        else:
            for name, parameter in self.model.named_parameters():
                np.copyto(self.state[name], parameter.data)
        self.epoch, self.loss = epoch, float(test_loss)

    def early_stop(self, epoch: int, rule: dict[str, Any] | None) -> str | None:
        """Keras's EarlyStopping after `epoch` under the config's ``early_stopping`` `rule`
        (``{patience, restore_best}`` or None): None to train on, else the reason to stop —
        the best weights restored into the model first if the rule says so."""
        if not rule or self.epoch is None or epoch - self.epoch < rule["patience"]:
            return None
        reason = (
            f"early stopping: the test loss has not improved for {rule['patience']} epochs "
            f"since epoch {self.epoch}"
        )
        if rule["restore_best"]:
            self.model.load_state_dict(self.state)
            reason += f" (the weights of epoch {self.epoch} restored)"
        return reason

    def copy(self) -> tuple[int, dict[str, np.ndarray]] | None:
        """``(epoch, state copies)`` or None before any epoch."""
        if self.state is None:
            return None
        return self.epoch, {name: value.copy() for name, value in self.state.items()}


def build_optimizer(config: dict[str, Any], parameters: list[nn.Parameter]) -> nn.Optimizer:
    """The config's optimizer over `parameters`, with the hyperparameters it uses."""
    options = {"lr": config["lr"], "weight_decay": config["weight_decay"],
               "l1": config.get("l1", 0.0)}  # fmt: skip
    if uses_field(config["optimizer"], "momentum"):
        options["momentum"] = config["momentum"]
    return nn.get_optimizer(config["optimizer"], parameters, **options)


def build_scheduler(config: dict[str, Any], optimizer: nn.Optimizer) -> nn.Scheduler:
    """The config's ``schedule``: a name or ``{name, ...parameters}`` (default constant);
    cosine descends over the run, a step schedule steps every quarter of it by default."""
    schedule = config.get("schedule") or "constant"
    if isinstance(schedule, str):
        schedule = {"name": schedule}
    options = {key: value for key, value in schedule.items() if key != "name"}
    if schedule["name"] == "cosine":
        options.setdefault("t_max", config["epochs"])
    if schedule["name"] == "step":
        options.setdefault("step_size", max(1, config["epochs"] // 4))
    return nn.get_scheduler(schedule["name"], optimizer, **options)


@dataclass(frozen=True)
class View:
    """What the model looks like now: the prediction on the grid (task units, shape (m,), or a
    `ClassView`), the shown corner of each weight matrix (at most NEURONS_SHOWN square) and,
    when asked for, a look `inside` (neuron maps and layer statistics, `app.training.inside`)."""

    prediction: np.ndarray | ClassView
    weights: list[np.ndarray]
    inside: Inside | None = None
    first_layer: np.ndarray | None = None  # image tasks: (units ≤ 64, pixels) incoming weights
    test_predicted: np.ndarray | None = None  # regression: the shown test rows' predictions
    cost: float = 0.0  # seconds it took to make (where it was made: a training process's own)


class TrainedSlice(NamedTuple):
    """What `TrainingSession.train_slice` did: the completed epochs' `records` (see
    `TrainingSession.record`), the `network.DivergenceError` that ended the slice (None if none
    did) and the `view` made after it (None when none was due, or after an error)."""

    records: list[dict[str, Any]]
    error: nn.DivergenceError | None = None
    view: View | None = None


def due_view(
    session: TrainingSession, view_due: float | None, inside_due: float | None
) -> View | None:
    """``session.view()`` if `view_due` (``time.perf_counter()`` s) has come (None: never),
    looking inside if `inside_due` has come too; else None."""
    now = time.perf_counter()
    if view_due is None or now < view_due:
        return None
    return session.view(inside=inside_due is not None and now >= inside_due)


class TrainingSession:
    """Builds and trains one run's model; see the module docstring.

    `data` may be given (already built `TaskData`); by default it is sampled from the task as the
    config asks. Raises `ExpressionError` (custom targets) or `ValueError` for unusable data.
    """

    def __init__(
        self,
        task: Task,
        config: dict[str, Any],
        data: TaskData | None = None,
        initial_state: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.task = task
        self.config = config
        self.data = data if data is not None else build_data(task, config)
        self.classification = task.kind == "classification"
        self.features = InputFeatures.of(task, config)
        self.sizes = [self.features.width, *config["hidden"], task.outputs]
        self.model = nn.mlp(
            self.sizes,
            activation=config["activation"],
            seed=config["seed"],
            dropout=config.get("dropout", 0.0),
        )
        if initial_state is not None:  # e.g. continuing an interrupted run from its weights
            self.model.load_state_dict(initial_state)
        self.optimizer = build_optimizer(config, self.model.parameters())
        self.scheduler = build_scheduler(config, self.optimizer)
        train_inputs = self.features(self.data.x_train)
        self.x_scaler = Standardizer().fit(train_inputs)
        self.grid_inputs = self.x_scaler.transform(self.features(self.data.grid_x))
        self.test_inputs = self.x_scaler.transform(self.features(self.data.x_test))
        self.shown_test = shown_rows(len(self.data.x_test))  # the test points the plots show
        self.y_scaler: Standardizer | None = None
        self.sample_inputs = self.x_scaler.transform(train_inputs[:DEAD_UNIT_ROWS])
        self.health = HealthProbe(self.model, self.sample_inputs, config["activation"])
        self.best = BestWeights(self.model)
        self.film = Film(plan(self.sizes, config["epochs"]).epochs)  # weights kept for replay
        self.stopped_early: str | None = None  # why early stopping ended the run (see record)
        self.probe = self._probe()
        train_targets, test_targets = self._targets()
        self.trainer = nn.Trainer(
            self.model,
            nn.get_loss(config["loss"]),
            self.optimizer,
            self.x_scaler.transform(train_inputs),
            train_targets,
            batch_size=config["batch_size"],
            validation=(self.test_inputs, test_targets),
            seed=config["seed"],
            scheduler=self.scheduler,
            accuracy=True if self.classification else None,
        )

    def _probe(self) -> InsideProbe:
        return InsideProbe(
            self.data.domain,
            lambda points: self.x_scaler.transform(self.features(self.data.embed(points))),
        )

    def set_slice(self, features: list[int]) -> None:
        """Tasks of more than two inputs: draw the views over these two inputs from now on."""
        self.data.reslice(tuple(features))
        self.config["domain"] = self.data.domain
        self.grid_inputs = self.x_scaler.transform(self.features(self.data.grid_x))
        self.probe = self._probe()

    def history_columns(self) -> list[str]:
        """Names of the per-epoch numbers `record` adds beside the losses (and accuracies)."""
        return history_columns(self.config, self.classification)

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """An epoch's record with the steerable numbers in force at its end (and, for
        regression, ``test_r2``: 1 − SS_res/SS_tot on the test set, from the test loss)."""
        if not self.classification and record.get("test_loss") is not None:
            record["test_r2"] = 1.0 - record["test_loss"] / self.test_target_variance
        record["update_ratio"] = self.health.update_ratio()
        self.film.offer(record["epoch"], self.model)  # before early stopping restores any
        self.best.update(record["epoch"], record.get("test_loss"))
        if self.stopped_early is None:
            rule = self.config.get("early_stopping")
            self.stopped_early = self.best.early_stop(self.trainer.epoch, rule)
            if self.stopped_early:
                record["early_stop"] = self.stopped_early
        record["batch_size"] = self.trainer.batch_size
        record["l1"] = self.optimizer.l1
        record["weight_decay"] = self.optimizer.weight_decay
        if uses_field(self.config["optimizer"], "momentum"):
            record["momentum"] = self.optimizer.momentum
        return record

    def apply(self, changes: dict[str, Any]) -> None:
        """Live changes (validated): they apply from the next mini-batch.

        ``lr`` becomes the schedule's base rate (the rate in force follows the schedule);
        ``epochs_per_second`` is the run loop's business, not the session's; a new
        ``slice_features`` changes the grid the views are drawn on (see `set_slice`).
        """
        for name, value in changes.items():
            if name == "lr":
                self.scheduler.base_lr = float(value)
                self.optimizer.lr = float(self.scheduler.lr_at(self.scheduler.epoch))
            elif name in ("l1", "weight_decay"):
                setattr(self.optimizer, name, float(value))
            elif name == "momentum" and uses_field(self.config["optimizer"], "momentum"):
                self.optimizer.momentum = float(value)
            elif name == "batch_size":
                self.trainer.batch_size = int(value)
            elif name == "slice_features" and value is not None:
                self.set_slice(value)

    def _targets(self) -> tuple[np.ndarray, np.ndarray]:
        """Training and test targets in the form the loss takes."""
        data = self.data
        if not self.classification:
            self.y_scaler = Standardizer().fit(data.y_train)
            test_targets = self.y_scaler.transform(data.y_test)
            # R² = 1 − MSE / Var(y): both on standardised targets (the scale cancels out)
            self.test_target_variance = max(float(np.var(test_targets, dtype=np.float64)), 1e-12)
            return self.y_scaler.transform(data.y_train), test_targets
        if self.config["loss"] == "cross_entropy":
            return data.y_train, data.y_test  # integer labels
        one_hot = np.eye(self.task.outputs, dtype=np.float32)
        return one_hot[data.y_train], one_hot[data.y_test]

    @property
    def epoch(self) -> int:
        """Completed epochs."""
        return self.trainer.epoch

    def progress(self) -> dict[str, int]:
        """``{epoch, batch, batches}``: the epoch in progress (1-based) and its mini-batches."""
        trainer = self.trainer
        return {"epoch": trainer.epoch + 1, "batch": trainer.batch, "batches": trainer.batches}

    def finishing(self, epochs: int) -> bool:
        """True when only the evaluation of the run's last epoch is left (nothing to interrupt)."""
        return self.trainer.evaluating and self.trainer.epoch + 1 >= epochs

    @property
    def steps(self) -> int:
        """Mini-batches (optimizer steps) trained in all."""
        return self.trainer.steps

    def advance(self, max_batches: int | None = None, deadline: float | None = None) -> dict | None:
        """Train on (see `network.Trainer.run`); the epoch's record when one completed."""
        return self.trainer.run(max_batches=max_batches, deadline=deadline)

    def train_slice(
        self, max_batches: int | None, deadline: float, epochs: int, several: bool,
        interrupted: Callable[[], bool] | None = None, view_due: float | None = None,
        inside_due: float | None = None,
    ) -> TrainedSlice:  # fmt: skip
        """Train until `deadline` (``time.perf_counter()`` s), at most `max_batches` mini-batches
        and, unless `several`, at most to the end of one epoch; with `several`, epoch after epoch
        until the deadline, the run's last epoch (`epochs`) or `interrupted()` (checked after each
        epoch) or the config's early stopping (a record with ``early_stop``, see `record`), and
        at most until `view_due` (so that views keep their cadence whatever the slice's length).
        Then a view if `view_due` (perf_counter s) has come, looking inside if `inside_due` has
        too (see `due_view`). A `network.DivergenceError` ends the slice and is returned, with
        the records before it."""
        records: list[dict[str, Any]] = []
        if self.stopped_early:
            return TrainedSlice(records)
        if several and view_due is not None and time.perf_counter() < view_due < deadline:
            deadline = view_due  # the slice ends mid-epoch if need be: batches are short
        try:
            while True:
                record = self.trainer.run(max_batches=max_batches, deadline=deadline)
                if record is None:
                    break
                records.append(self.record(record))
                if not several or self.trainer.epoch >= epochs or self.stopped_early:
                    break
                if (interrupted is not None and interrupted()) or time.perf_counter() >= deadline:
                    break
        except nn.DivergenceError as error:
            if error.record is not None:  # the diverged epoch's row, with the settings in force
                error.record = self.record(error.record)
            return TrainedSlice(records, error)
        return TrainedSlice(records, None, due_view(self, view_due, inside_due))

    def checkpoint(self) -> Checkpoint:
        """The model's weights and scalers now (copies; see `Checkpoint`)."""
        y = self.y_scaler
        return Checkpoint(
            state=self.model.state_dict(),
            architecture=self.model.config(),
            x_scaler=(self.x_scaler.mean.copy(), self.x_scaler.std.copy()),
            y_scaler=None if y is None else (y.mean.copy(), y.std.copy()),
            features=self.features.texts,
            epoch=self.trainer.epoch,
            best=self.best.copy(),
            optimizer=self.optimizer.state_dict(),
            film=self.film.copy(),
        )

    def dead_units(self) -> list[UnitHealth]:
        """Dead or saturated units per hidden layer (`app.training.inside.HealthProbe.units`)."""
        return self.health.units()

    def view(self, inside: bool = False) -> View:
        """The prediction on the grid and the shown weights (and, with `inside`, the neuron
        maps and layer statistics), as new arrays."""
        began = time.perf_counter()
        weights = [
            layer.weight.data[:NEURONS_SHOWN, :NEURONS_SHOWN].copy()
            for layer in self.model.linear_layers()
        ]
        first = None
        if self.task.image_shape is not None and self.features.texts is None:
            first = self.model.linear_layers()[0].weight.data.T[:FIRST_LAYER_SHOWN].copy()
        probe = self.probe.probe(self.model) if inside else None
        prediction, test_predicted = self._prediction(), self._test_predicted()
        cost = time.perf_counter() - began
        return View(prediction, weights, probe, first, test_predicted, cost)

    def _test_predicted(self) -> np.ndarray | None:
        """Regression: the prediction of each shown test row in task units (predicted vs actual);
        None for classification (its `ClassView` has the predicted labels)."""
        if self.classification:
            return None
        shown = self.test_inputs[self.shown_test]  # at most 1000 rows, whatever the test set
        return self.y_scaler.inverse_transform(self.model.predict(shown)).ravel()

    def _prediction(self) -> np.ndarray | ClassView:
        outputs = self.model.predict(self.grid_inputs)
        if not self.classification:
            return self.y_scaler.inverse_transform(outputs).ravel()
        test_outputs = self.model.predict(self.test_inputs)
        return class_view(outputs, test_outputs, self.data.y_test, self.config["loss"])
