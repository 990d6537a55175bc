"""Training: the :func:`train` generator (one dict per epoch), :func:`fit` with Keras-style
callbacks, :func:`evaluate` and :class:`DivergenceError`."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence

import numpy as np

from .losses import BCEWithLogitsLoss, Loss
from .model import Sequential
from .optimizers import Optimizer
from .schedules import Scheduler

__all__ = ["DivergenceError", "Callback", "train", "fit", "evaluate"]

_EVAL_CHUNK = 4096


class DivergenceError(FloatingPointError):
    """The loss became non-finite (NaN or infinite): the run diverged.

    Attributes:
        epoch: the (1-based) epoch at whose end the loss was non-finite.
        loss: that loss value.
    """

    def __init__(self, epoch: int, loss: float) -> None:
        self.epoch = epoch
        self.loss = loss
        super().__init__(
            f"training diverged at epoch {epoch}: loss = {loss} (try a smaller learning rate)"
        )


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
    X = model._check_input(X)
    T = loss_fn._targets(Y, _output_width(model, X.shape[1]), model.dtype, n=len(X))
    return np.ascontiguousarray(X), np.ascontiguousarray(T)


def _correct(loss_fn: Loss, y: np.ndarray, t: np.ndarray) -> float:
    """Number of correctly classified rows in the batch ``y`` against targets ``t``."""
    if y.shape[1] > 1 and not isinstance(loss_fn, BCEWithLogitsLoss):
        return float(np.count_nonzero(y.argmax(axis=1) == t.argmax(axis=1)))
    # one output (or independent BCE outputs): a threshold, 0 on logits, 0.5 on MSE values
    threshold = 0.0 if isinstance(loss_fn, BCEWithLogitsLoss) else 0.5
    return float(np.count_nonzero((y > threshold) == (t > 0.5))) / y.shape[1]


def _evaluate(model: Sequential, loss_fn: Loss, X, T, with_accuracy: bool):
    total, correct, n = 0.0, 0.0, len(X)
    for i in range(0, n, _EVAL_CHUNK):
        x, t = X[i : i + _EVAL_CHUNK], T[i : i + _EVAL_CHUNK]
        y = model._forward(x)
        total += loss_fn._value(y, t) * len(x)
        if with_accuracy:
            correct += _correct(loss_fn, y, t)
    return total / n, (correct / n if with_accuracy else None)


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


def _check_args(model, loss_fn, optimizer, epochs, batch_size, scheduler) -> None:
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential, got {type(model).__name__}")
    if not isinstance(loss_fn, Loss):
        raise TypeError(f"loss_fn must be a Loss (e.g. nn.MSELoss()), got {type(loss_fn).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer, got {type(optimizer).__name__}")
    for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value!r}")
    if scheduler is not None and not isinstance(scheduler, Scheduler):
        raise TypeError(f"scheduler must be None or a Scheduler, got {type(scheduler).__name__}")
    if not {id(p) for p in optimizer.params} & {id(p) for p in model.parameters()}:
        raise ValueError(
            "optimizer must hold this model's parameters (optimizer(model.parameters()))"
        )


def train(
    model: Sequential,
    loss_fn: Loss,
    optimizer: Optimizer,
    X: np.ndarray,
    Y: np.ndarray,
    epochs: int,
    batch_size: int = 32,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    shuffle: bool = True,
    seed: int = 0,
    scheduler: Scheduler | None = None,
    accuracy: bool | None = None,
) -> Iterator[dict]:
    """Train ``model`` with mini-batches, yielding one record per epoch.

    Each record: ``epoch`` (1-based), ``train_loss`` (whole training set, evaluated at the end of
    the epoch in eval mode), ``test_loss`` (on ``validation``, else None), ``lr`` (used during the
    epoch), ``seconds`` (cumulative training wall time, excluding the time the consumer held the
    generator) and, when accuracy is on, ``train_acc`` and ``test_acc`` (fractions). Accuracy is on
    by default for classification losses; ``accuracy=True`` forces it (e.g. MSE on one-hot targets).

    The consumer decides when to stop: the generator does no work until the next record is asked
    for. ``scheduler.step()`` runs after every epoch. The model is left in eval mode between
    epochs. Raises :class:`DivergenceError` when a loss becomes non-finite.
    """
    _check_args(model, loss_fn, optimizer, epochs, batch_size, scheduler)
    X, T = _prepare(model, loss_fn, X, Y, "training")
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation must be None or a pair (X_test, Y_test)")
        X_val, T_val = _prepare(model, loss_fn, validation[0], validation[1], "validation")
    with_accuracy = loss_fn.classification if accuracy is None else bool(accuracy)
    return _epochs(
        model,
        loss_fn,
        optimizer,
        X,
        T,
        epochs,
        batch_size,
        (X_val, T_val) if validation is not None else None,
        shuffle,
        seed,
        scheduler,
        with_accuracy,
    )


def _epochs(
    model,
    loss_fn,
    optimizer,
    X,
    T,
    epochs,
    batch_size,
    validation,
    shuffle,
    seed,
    scheduler,
    with_accuracy,
) -> Iterator[dict]:
    rng = np.random.default_rng(seed)
    n = len(X)
    X_epoch, T_epoch = (np.empty_like(X), np.empty_like(T)) if shuffle else (X, T)
    forward, backward, gradient, step = (
        model._forward,
        model._backward,
        loss_fn._grad,
        optimizer.step,
    )
    starts = range(0, n, batch_size)
    model._grads_zeroed = False  # the loop leaves real gradients behind
    seconds = 0.0
    for epoch in range(1, epochs + 1):
        began = time.perf_counter()
        with np.errstate(all="ignore"):  # a diverging run is reported by DivergenceError
            model.train()
            if shuffle:
                order = rng.permutation(n)
                np.take(X, order, axis=0, out=X_epoch, mode="clip")
                np.take(T, order, axis=0, out=T_epoch, mode="clip")
            for start in starts:
                stop = start + batch_size
                out = forward(X_epoch[start:stop])
                # gradients are written, not added: no zero_grad needed
                backward(gradient(out, T_epoch[start:stop]), False, False)
                step()
            lr = float(optimizer.lr)
            if scheduler is not None:
                scheduler.step()
            model.eval()
            train_loss, train_acc = _evaluate(model, loss_fn, X, T, with_accuracy)
            test_loss = test_acc = None
            if validation is not None:
                test_loss, test_acc = _evaluate(model, loss_fn, *validation, with_accuracy)
        seconds += time.perf_counter() - began
        for value in (train_loss, test_loss):
            if value is not None and not math.isfinite(value):
                raise DivergenceError(epoch, value)
        record = {
            "epoch": epoch,
            "train_loss": train_loss,
            "test_loss": test_loss,
            "lr": lr,
            "seconds": seconds,
        }
        if with_accuracy:
            record["train_acc"] = train_acc
            record["test_acc"] = test_acc
        yield record


def fit(
    model: Sequential,
    loss_fn: Loss,
    optimizer: Optimizer,
    X: np.ndarray,
    Y: np.ndarray,
    epochs: int,
    batch_size: int = 32,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    shuffle: bool = True,
    seed: int = 0,
    scheduler: Scheduler | None = None,
    accuracy: bool | None = None,
    callbacks: Sequence[Callback] | None = None,
) -> list[dict]:
    """Run :func:`train` to the end and return the list of per-epoch records.

    Each callback's ``on_epoch_end(epoch, logs)`` is called after every epoch (``logs`` is the
    record); returning True from it stops training. Callbacks may also define
    ``on_train_begin(logs)`` and ``on_train_end(logs)``.
    """
    callbacks = list(callbacks or [])
    for callback in callbacks:
        if not callable(getattr(callback, "on_epoch_end", None)):
            raise TypeError(f"callbacks must have an on_epoch_end method, got {callback!r}")
    history: list[dict] = []
    records = train(
        model,
        loss_fn,
        optimizer,
        X,
        Y,
        epochs,
        batch_size,
        validation,
        shuffle,
        seed,
        scheduler,
        accuracy,
    )
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
