"""Training: the :func:`train` generator (one dict per epoch), :func:`fit` with Keras-style
callbacks, :func:`evaluate` and :class:`DivergenceError`."""

from __future__ import annotations

import copy
import inspect
import math
import time
from collections.abc import Iterator, Sequence

import numpy as np

from . import checks
from .losses import BCEWithLogitsLoss, Loss
from .model import Sequential
from .optimizers import Optimizer
from .schedules import Scheduler

__all__ = ["DivergenceError", "Callback", "Trainer", "train", "fit", "evaluate"]

_EVAL_CHUNK = 4096


class DivergenceError(FloatingPointError):
    """The loss became non-finite (NaN or infinite): the run diverged.

    Attributes:
        epoch: the (1-based) epoch at whose end the loss was non-finite.
        loss: that loss value.
        record: that epoch's record, as :func:`train` would have yielded it (None if unknown).
    """

    def __init__(self, epoch: int, loss: float, record: dict | None = None) -> None:
        self.epoch = epoch
        self.loss = loss
        self.record = record
        super().__init__(
            f"training diverged at epoch {epoch}: loss = {loss} (try a smaller learning rate)"
        )

    def __reduce__(self) -> tuple:
        """Pickles with its epoch, loss and record (e.g. from a training process to its parent)."""
        return type(self), (self.epoch, self.loss, self.record)


class Callback:
    """Base class for :func:`fit` callbacks; override the hooks you need.

    ``on_epoch_end`` may return True to stop training after that epoch.
    """

    def on_train_begin(self, logs: dict) -> None:
        """Called once before the first epoch (``logs`` is empty)."""

    def on_epoch_end(self, epoch: int, logs: dict) -> bool | None:
        """Called after every epoch with the epoch number (1-based) and its record."""

    def on_train_end(self, logs: dict) -> None:
        """Called once after the last epoch with the last record (empty if none)."""


def _output_width(model: Sequential, x_width: int) -> int:
    sizes = model.layer_sizes()
    return sizes[-1] if sizes else x_width


def _prepare(model: Sequential, loss_fn: Loss, X, Y, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs cast to the model dtype and targets in the loss's internal form, validated."""
    X = np.asarray(X)
    Y = np.asarray(Y)
    if X.ndim != 2:
        raise ValueError(f"{what} X must be a 2-D array (samples, features), got shape {X.shape}")
    if len(X) != len(Y):
        raise ValueError(
            f"{what} X and Y must have the same number of rows, got {len(X)} and {len(Y)}"
        )
    if len(X) == 0:
        raise ValueError(f"{what} X must not be empty")
    X = model.as_input(X)
    T = loss_fn.targets(Y, _output_width(model, X.shape[1]), model.dtype, n=len(X))
    return np.ascontiguousarray(X), np.ascontiguousarray(T)


def _correct(loss_fn: Loss, y: np.ndarray, t: np.ndarray) -> float:
    """Number of correctly classified rows in the batch ``y`` against targets ``t``."""
    if y.shape[1] > 1 and not isinstance(loss_fn, BCEWithLogitsLoss):
        return float(np.count_nonzero(y.argmax(axis=1) == t.argmax(axis=1)))
    # one output (or independent BCE outputs): a threshold, 0 on logits, 0.5 on MSE values
    threshold = 0.0 if isinstance(loss_fn, BCEWithLogitsLoss) else 0.5
    return float(np.count_nonzero((y > threshold) == (t > 0.5))) / y.shape[1]


def _evaluation_steps(model: Sequential, loss_fn: Loss, X, T, with_accuracy: bool):
    """Mean loss and accuracy of ``model`` on ``(X, T)``, one chunk of rows per ``yield``.

    A generator whose return value (``StopIteration.value``) is ``(loss, accuracy | None)``, so
    that a caller may stop between chunks (see :class:`Trainer`). The caller sets the mode.
    """
    total, correct, n = 0.0, 0.0, len(X)
    for i in range(0, n, _EVAL_CHUNK):
        x, t = X[i : i + _EVAL_CHUNK], T[i : i + _EVAL_CHUNK]
        y = model.predict(x)
        total += loss_fn.value(y, t) * len(x)
        if with_accuracy:
            correct += _correct(loss_fn, y, t)
        yield
    return total / n, (correct / n if with_accuracy else None)


def _evaluate(model: Sequential, loss_fn: Loss, X, T, with_accuracy: bool):
    steps = _evaluation_steps(model, loss_fn, X, T, with_accuracy)
    while True:
        try:
            next(steps)
        except StopIteration as result:
            return result.value


def evaluate(
    model: Sequential, loss_fn: Loss, X: np.ndarray, Y: np.ndarray, accuracy: bool | None = None
) -> dict:
    """``{"loss": float, "accuracy": float | None}`` of ``model`` on ``(X, Y)`` in eval mode."""
    X, T = _prepare(model, loss_fn, X, Y, "evaluate:")
    want = loss_fn.classification if accuracy is None else bool(accuracy)
    was_training = model.training
    model.eval()
    try:
        with np.errstate(all="ignore"):
            loss, acc = _evaluate(model, loss_fn, X, T, want)
    finally:
        model.train(was_training)
    return {"loss": loss, "accuracy": acc}


def _check_args(model, loss_fn, optimizer, batch_size, scheduler) -> None:
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential, got {type(model).__name__}")
    if not isinstance(loss_fn, Loss):
        raise TypeError(f"loss_fn must be a Loss (e.g. nn.MSELoss()), got {type(loss_fn).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer, got {type(optimizer).__name__}")
    checks.integer(batch_size, "batch_size", 1)
    if scheduler is not None and not isinstance(scheduler, Scheduler):
        raise TypeError(f"scheduler must be None or a Scheduler, got {type(scheduler).__name__}")
    if not {id(p) for p in optimizer.params} & {id(p) for p in model.parameters()}:
        raise ValueError(
            "optimizer must hold this model's parameters (optimizer(model.parameters()))"
        )


class Trainer:
    """Mini-batch training that can stop after any mini-batch: the engine behind :func:`train`.

    ``run()`` trains until the end of the current epoch and returns its record (the dict
    :func:`train` yields); ``run(max_batches=k)`` stops after at most ``k`` mini-batches and
    ``run(deadline=t)`` once ``time.perf_counter()`` passes ``t`` (checked after every mini-batch
    and every 4096-row chunk of the end-of-epoch evaluation). A call that stops before the epoch is
    complete returns None; the next call carries on where it stopped, so::

        trainer = nn.Trainer(model, nn.MSELoss(), nn.Adam(model.parameters()), X, Y, 32)
        while trainer.epoch < 100:
            record = trainer.run(deadline=time.perf_counter() + 0.05)  # None or a record
            ...                               # between mini-batches: pause, stop, change lr

    follows exactly the trajectory of ``train(..., epochs=100)`` (same shuffles and steps).

    Attributes:
        epoch: completed epochs.
        batch: mini-batches done in the current epoch.
        steps: mini-batches (optimizer steps) done in all.
        batch_size: rows per mini-batch; may be changed at any time and applies from the next
            mini-batch (the rest of the epoch is cut at the new size).
        evaluating: True once the epoch's mini-batches are done and only its evaluation is left.

    Arguments are those of :func:`train` (without ``epochs``). Raises :class:`DivergenceError`
    from ``run`` when an epoch's loss is not finite.
    """

    def __init__(
        self,
        model: Sequential,
        loss_fn: Loss,
        optimizer: Optimizer,
        X: np.ndarray,
        Y: np.ndarray,
        batch_size: int = 32,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        shuffle: bool = True,
        seed: int = 0,
        scheduler: Scheduler | None = None,
        accuracy: bool | None = None,
    ) -> None:
        _check_args(model, loss_fn, optimizer, batch_size, scheduler)
        self.model, self.loss_fn, self.optimizer, self.scheduler = (
            model, loss_fn, optimizer, scheduler
        )  # fmt: skip
        self._X, self._T = _prepare(model, loss_fn, X, Y, "training")
        self._sets = [(self._X, self._T)]
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise TypeError("validation must be None or a pair (X_test, Y_test)")
            self._sets.append(_prepare(model, loss_fn, validation[0], validation[1], "validation"))
        self._accuracy = loss_fn.classification if accuracy is None else bool(accuracy)
        self._shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(len(self._X))  # the current epoch's row order
        self._X_epoch, self._T_epoch = (
            (np.empty_like(self._X), np.empty_like(self._T)) if shuffle else (self._X, self._T)
        )
        self.batch_size = batch_size
        self.epoch = 0
        self.batch = 0
        self.steps = 0  # mini-batches trained in all
        self._position = 0  # rows of the current epoch already trained on
        self._evaluation: Iterator | None = None
        self._results: list[tuple[float, float | None]] = []
        self._lr = float(optimizer.lr)
        self._seconds = 0.0

    @property
    def rows(self) -> int:
        """Training rows (samples per epoch)."""
        return len(self._X)

    @property
    def batches(self) -> int:
        """Mini-batches the current epoch has at the current batch size (done + left)."""
        left = self.rows - self._position
        return self.batch + -(-left // checks.integer(self.batch_size, "batch_size", 1))

    @property
    def evaluating(self) -> bool:
        """True when the current epoch's mini-batches are done and its evaluation is not."""
        return self._evaluation is not None

    def next_batch(self) -> np.ndarray:
        """Row indices (into the training ``X``, ``Y``) of the mini-batch the next :meth:`run`
        trains on, consuming nothing: the rest of this epoch's order or, at an epoch's end, the
        first rows of the next epoch's shuffle (drawn from a copy of the generator)."""
        size = checks.integer(self.batch_size, "batch_size", 1)
        if self._evaluation is not None or (self._position == 0 and self.batch == 0):
            if not self._shuffle:
                return self._order[:size].copy()
            return copy.deepcopy(self._rng).permutation(self.rows)[:size]
        return self._order[self._position : self._position + size].copy()

    def samples(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training inputs (k, in) and targets at row `indices`, as this trainer holds them
        (the model's dtype; targets in the form the loss takes): copies."""
        return self._X[indices], self._T[indices]

    def run(self, max_batches: int | None = None, deadline: float | None = None) -> dict | None:
        """Train on, at most `max_batches` mini-batches and until `deadline` (perf_counter s).

        Returns the epoch's record when this call completed an epoch, else None. It never goes
        past the end of an epoch.
        """
        if max_batches is not None:
            checks.integer(max_batches, "max_batches", 1)
        began = time.perf_counter()
        try:
            with np.errstate(all="ignore"):  # a diverging run is reported by DivergenceError
                if self._evaluation is None and not self._train_batches(max_batches, deadline):
                    return None
                if not self._evaluate_until(deadline):
                    return None
        finally:
            self._seconds += time.perf_counter() - began
        return self._end_epoch()

    def _train_batches(self, max_batches: int | None, deadline: float | None) -> bool:
        """Mini-batches until the limits or the epoch's end; True when the epoch's are done."""
        if self._position == 0 and self.batch == 0 and self._shuffle:
            order = self._order = self._rng.permutation(self.rows)
            np.take(self._X, order, axis=0, out=self._X_epoch, mode="clip")
            np.take(self._T, order, axis=0, out=self._T_epoch, mode="clip")
        self.model.train()
        X, T, n = self._X_epoch, self._T_epoch, self.rows
        size = checks.integer(self.batch_size, "batch_size", 1)
        record, backprop = self.model.record, self.model.backprop
        gradient, step = self.loss_fn.gradient, self.optimizer.step
        position, done, clock = self._position, 0, time.perf_counter
        while position < n:
            stop = position + size
            tape = record(X[position:stop])
            # gradients are written, not added (accumulate=False): no zero_grad needed
            backprop(tape, gradient(tape.output, T[position:stop]), False, False)
            step()
            position, done = stop, done + 1
            if done == max_batches or (deadline is not None and clock() >= deadline):
                break
        self._position = min(position, n)
        self.batch, self.steps = self.batch + done, self.steps + done
        if position < n:
            return False
        self._lr = float(self.optimizer.lr)
        if self.scheduler is not None:
            self.scheduler.step()
        self.model.eval()
        self._evaluation = self._evaluate_sets()
        return True

    def _evaluate_sets(self) -> Iterator[None]:
        self._results = []
        for X, T in self._sets:
            result = yield from _evaluation_steps(self.model, self.loss_fn, X, T, self._accuracy)
            self._results.append(result)

    def _evaluate_until(self, deadline: float | None) -> bool:
        """Evaluation chunks until `deadline`; True when the evaluation is complete."""
        self.model.eval()
        for _ in self._evaluation:
            if deadline is not None and time.perf_counter() >= deadline:
                return False
        return True

    def _end_epoch(self) -> dict:
        self._evaluation = None
        self._position = self.batch = 0
        self.epoch += 1
        (train_loss, train_acc), (test_loss, test_acc) = (self._results + [(None, None)])[:2]
        record = {
            "epoch": self.epoch,
            "train_loss": train_loss,
            "test_loss": test_loss,
            "lr": self._lr,
            "seconds": self._seconds,
        }
        if self._accuracy:
            record["train_acc"] = train_acc
            record["test_acc"] = test_acc
        for value in (train_loss, test_loss):
            if value is not None and not math.isfinite(value):
                raise DivergenceError(self.epoch, value, record)
        return record


def train(
    model: Sequential,
    loss_fn: Loss,
    optimizer: Optimizer,
    X: np.ndarray,
    Y: np.ndarray,
    epochs: int,
    *args,
    **kwargs,
) -> Iterator[dict]:
    """Train ``model`` with mini-batches, yielding one record per epoch; the arguments after
    ``epochs`` are :class:`Trainer`'s (``batch_size=32, validation=None, shuffle=True, seed=0,
    scheduler=None, accuracy=None``).

    Each record: ``epoch`` (1-based), ``train_loss`` (whole training set, evaluated at the end of
    the epoch in eval mode), ``test_loss`` (on ``validation``, else None), ``lr`` (used during the
    epoch), ``seconds`` (cumulative training wall time, excluding the time the consumer held the
    generator) and, when accuracy is on, ``train_acc`` and ``test_acc`` (fractions). Accuracy is on
    by default for classification losses; ``accuracy=True`` forces it (e.g. MSE on one-hot targets).

    The consumer decides when to stop: the generator does no work until the next record is asked
    for. ``scheduler.step()`` runs after every epoch. The model is left in eval mode between
    epochs. Raises :class:`DivergenceError` when a loss becomes non-finite.
    """
    checks.integer(epochs, "epochs", 0)
    return _records(Trainer(model, loss_fn, optimizer, X, Y, *args, **kwargs), epochs)


def _records(trainer: Trainer, epochs: int) -> Iterator[dict]:
    for _ in range(epochs):
        yield trainer.run()


def fit(*args, callbacks: Sequence[Callback] | None = None, **kwargs) -> list[dict]:
    """Run :func:`train` (same arguments) to the end and return the list of per-epoch records.

    Each callback's ``on_epoch_end(epoch, logs)`` is called after every epoch (``logs`` is the
    record); returning True from it stops training. Callbacks may also define
    ``on_train_begin(logs)`` and ``on_train_end(logs)``.
    """
    callbacks = list(callbacks or [])
    for callback in callbacks:
        if not callable(getattr(callback, "on_epoch_end", None)):
            raise TypeError(f"callbacks must have an on_epoch_end method, got {callback!r}")
    history: list[dict] = []
    records = train(*args, **kwargs)
    for callback in callbacks:
        if hasattr(callback, "on_train_begin"):
            callback.on_train_begin({})
    for record in records:
        history.append(record)
        stop = [callback.on_epoch_end(record["epoch"], record) for callback in callbacks]
        if any(stop):
            break
    for callback in callbacks:
        if hasattr(callback, "on_train_end"):
            callback.on_train_end(history[-1] if history else {})
    return history


def _inserted(signature: inspect.Signature, index: int, parameter: inspect.Parameter):
    parameters = list(signature.parameters.values())
    parameters.insert(index, parameter)
    return signature.replace(parameters=parameters)


# train passes its arguments after `epochs` to Trainer, and fit all of its own to train: their
# signatures, for help() and editors, are built from Trainer's rather than written out again.
_KEYWORD = inspect.Parameter.KEYWORD_ONLY
train.__signature__ = _inserted(  # type: ignore[attr-defined]
    inspect.signature(Trainer), 5, inspect.Parameter("epochs", _KEYWORD.POSITIONAL_OR_KEYWORD)
)
fit.__signature__ = _inserted(  # type: ignore[attr-defined]
    train.__signature__,
    len(train.__signature__.parameters),  # type: ignore[attr-defined]
    inspect.Parameter("callbacks", _KEYWORD, default=None),
)
