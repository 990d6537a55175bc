"""One forward and backward pass of a run's network, every number of it, in float64.

`backprop(session, ask)` runs where the run trains (in its training process when it has one, see
`app.transports.pipe`), so the weights, the optimizer's state and the order of the mini-batches
are those of the training at that moment. It builds on `network.Sequential.trace` (per Linear:
input, z, a, dL/da, δ, dW, db) and adds what the next optimizer step would do with that gradient:
the run's optimizer is copied in float64 (state and hyperparameters included: momentum, Adam's
moments and step count, RMSprop's averages, weight decay, L1) and stepped once on a float64 copy
of the weights; ``update`` is the change it made.

Units are those the network trains in: standardised inputs (after the run's input features) and,
for regression, standardised targets; classification outputs are logits (with their softmax or
sigmoid in ``probabilities``), targets class labels (cross-entropy) or one-hot rows (BCE, MSE).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import network as nn

LAYER_FIELDS = ("input", "z", "a", "dL_da", "delta")  # per-row arrays (n, width)


class BackpropError(ValueError):
    """A request the pass cannot answer: `field` names the request's field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field, self.message = field, message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Ask:
    """What to trace: a training sample (``index``, or the one nearest to ``near``: a point in the
    plotted inputs, as a click on the fit or decision plot gives), a point (``x`` raw inputs,
    ``y`` target in task units or a class label) or the next mini-batch (``batch``)."""

    index: int | None = None
    near: list[float] | None = None
    x: list[float] | None = None
    y: Any = None
    batch: bool = False


def backprop(session: Any, ask: Ask) -> dict[str, Any]:
    """The pass on `session`'s model now (a `app.training.session.TrainingSession`): ``{input,
    target, loss, output, layers, ...}`` as plain lists and floats (see the module docstring and
    docs/backprop.md). Raises `BackpropError` for an index out of range, a point of the wrong
    length or a non-finite value."""
    trainer = session.trainer
    rows: list[int] | None = None
    if ask.near is not None:
        ask = Ask(index=nearest_sample(session, ask.near))
    if ask.batch:
        rows = [int(i) for i in trainer.next_batch()]
        x, target = trainer.samples(np.asarray(rows))
        raw_x, raw_y = session.data.x_train[rows], session.data.y_train[rows]
    elif ask.index is not None:
        if not 0 <= ask.index < trainer.rows:
            raise BackpropError("index", f"must be a training sample from 0 to {trainer.rows - 1}")
        rows = [ask.index]
        x, target = trainer.samples(np.asarray(rows))
        raw_x, raw_y = session.data.x_train[rows], session.data.y_train[rows]
    else:
        raw_x, raw_y = _point(session, ask)
        x, target = _network_point(session, raw_x, raw_y)
    loss_fn = trainer.loss_fn
    with np.errstate(all="ignore"):  # a diverged run's numbers go out as None (see `_plain`)
        trace = session.model.trace(x, target, loss_fn, np.float64)
        updates = next_update(session, trace)
    single = not ask.batch
    layers = []
    for layer, update in zip(trace.layers, updates, strict=True):
        plain = {name: _rows(getattr(layer, name), single) for name in LAYER_FIELDS}
        plain.update(
            activation=layer.activation,
            W=_plain(layer.weight),
            b=_plain(layer.bias),
            dW=_plain(layer.dW),
            db=_plain(layer.db),
            update=update,
        )
        layers.append(plain)
    output = trace.layers[-1].a
    trace_target = np.asarray(loss_fn.targets(target, output.shape[1], np.float64, len(x)))
    return {
        "mode": "batch" if ask.batch else "index" if ask.index is not None else "point",
        "rows": rows,
        "raw": {"x": _rows(np.asarray(raw_x, np.float64), single), "y": _rows(raw_y, single)},
        "input": _rows(trace.layers[0].input, single),
        "target": _rows(trace_target, single),
        "loss": float(trace.loss) if math.isfinite(trace.loss) else None,
        "loss_name": session.config["loss"],
        "output": _output(session, output, single),
        "loss_terms": _rows(loss_terms(session.config["loss"], output, trace_target), single),
        "layers": layers,
        **_context(session),
    }


def next_update(session: Any, trace: nn.Trace) -> list[dict[str, Any]]:
    """Per Linear of `trace`: ``{W, b}``, the change the run's optimizer would make at its next
    step given `trace`'s gradient, computed in float64 on copies (the run is untouched)."""
    model = nn.from_config(session.model.config(), dtype=np.float64)
    model.load_state_dict(session.model.state_dict())
    optimizer = session.optimizer
    twin = type(optimizer)(model.parameters(), **optimizer.hyperparameters())
    twin.load_state_dict(optimizer.state_dict())
    named = dict(model.named_parameters())
    for layer in trace.layers:
        named[f"{layer.index}.weight"].grad[...] = layer.dW
        if layer.db is not None:
            named[f"{layer.index}.bias"].grad[...] = layer.db
    before = model.state_dict()
    twin.step()
    after = model.state_dict()
    updates = []
    for layer in trace.layers:
        weight, bias = f"{layer.index}.weight", f"{layer.index}.bias"
        updates.append({
            "W": _plain(after[weight] - before[weight]),
            "b": _plain(after[bias] - before[bias]) if bias in after else None,
        })  # fmt: skip
    return updates


def nearest_sample(session: Any, near: Any) -> int:
    """The training row whose plotted inputs (one or two columns, see `TaskData.plotted`) are
    nearest to `near`, each column measured in units of its spread."""
    plotted = np.asarray(session.data.plotted(session.data.x_train), np.float64)
    width = plotted.shape[1]
    if not isinstance(near, (list, tuple)) or len(near) != width or not all(map(_number, near)):
        raise BackpropError("near", f"must be a list of {width} finite numbers (a plotted point)")
    spread = np.ptp(plotted, axis=0)
    spread[spread == 0] = 1.0
    distances = (((plotted - np.asarray(near, np.float64)) / spread) ** 2).sum(axis=1)
    return int(np.argmin(distances))


def _point(session: Any, ask: Ask) -> tuple[np.ndarray, np.ndarray]:
    """The raw point (1, task inputs) and its target (1, ...) in task units, checked."""
    width = session.data.x_train.shape[1]
    x = ask.x
    if not isinstance(x, (list, tuple)) or len(x) != width or not all(_number(v) for v in x):
        raise BackpropError("x", f"must be a list of {width} finite numbers (the task's inputs)")
    if session.classification:
        classes = session.task.outputs
        y = ask.y
        if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < classes:
            raise BackpropError("y", f"must be a class label from 0 to {classes - 1}")
        return np.array([x], np.float64), np.array([y])
    y = ask.y
    values = y if isinstance(y, (list, tuple)) else [y]
    if len(values) != 1 or not all(_number(v) for v in values):
        raise BackpropError("y", "must be a finite number (the target, in the task's units)")
    return np.array([x], np.float64), np.array([values], np.float64)


def _network_point(session: Any, raw_x: np.ndarray, raw_y: np.ndarray):
    """The network's input and target for a raw point, as the session makes its training rows."""
    dtype = session.model.dtype
    x = session.x_scaler.transform(session.features(raw_x)).astype(dtype)
    if not np.isfinite(x).all():
        raise BackpropError("x", "gives a non-finite network input")
    if not session.classification:
        return x, session.y_scaler.transform(raw_y).astype(dtype)
    if session.config["loss"] == "cross_entropy":
        return x, raw_y
    return x, np.eye(session.task.outputs, dtype=dtype)[raw_y]


def loss_terms(loss: str, output: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The loss's terms, whose mean is the loss: (y − t)² per output (MSE), −log softmax(y)_t
    per row (cross-entropy, `target` one-hot), log(1 + eʸ) − t·y per output (BCE)."""
    with np.errstate(all="ignore"):
        if loss == "cross_entropy":
            shifted = output - output.max(axis=1, keepdims=True)
            log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            return -(log_softmax * target).sum(axis=1)
        if loss == "bce":
            return np.logaddexp(0.0, output) - target * output
        return (output - target) ** 2


def _output(session: Any, output: np.ndarray, single: bool) -> dict[str, Any]:
    """The prediction (training units) and, for classification, the class probabilities."""
    answer: dict[str, Any] = {"prediction": _rows(output, single)}
    if session.classification:
        loss = session.config["loss"]
        if loss == "cross_entropy":
            shifted = np.exp(output - output.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        elif loss == "bce":
            probabilities = 1.0 / (1.0 + np.exp(-output))
        else:
            probabilities = output
        answer["probabilities"] = _rows(probabilities, single)
    else:
        mean, std = session.y_scaler.mean, session.y_scaler.std
        answer["task_units"] = _rows(output * np.asarray(std, np.float64) + mean, single)
    return answer


def _context(session: Any) -> dict[str, Any]:
    """What a reader needs beside the numbers: names, optimizer, where the training is."""
    task, optimizer = session.task, session.optimizer
    raw_names = list(task.input_names or ("x", "y", "z")[: task.inputs])
    if len(raw_names) < task.inputs:
        raw_names = [f"x{i + 1}" for i in range(task.inputs)]
    return {
        "kind": task.kind,
        "classes": list(task.classes),
        "input_names": session.features.texts or raw_names,
        "raw_input_names": raw_names,
        "activation": session.config["activation"],
        "dtype": np.dtype(session.model.dtype).name,
        "optimizer": {"name": session.config["optimizer"], **optimizer.hyperparameters(),
                      "steps": optimizer.steps},  # fmt: skip
        "epoch": session.trainer.epoch,
        "steps": session.trainer.steps,
        "batch_size": int(session.trainer.batch_size),
        "samples": session.trainer.rows,
    }


def _rows(value: Any, single: bool) -> Any:
    """Plain lists; a single row's arrays as its row (width,), a batch's as (n, width)."""
    array = np.asarray(value)
    if array.dtype.kind in "fc":
        array = array.astype(np.float64)
    if single and array.ndim >= 1 and len(array) == 1:
        array = array[0]
    return _plain(array)


def _plain(value: np.ndarray | None) -> Any:
    """Nested lists; non-finite numbers (a diverged run's) as None, which JSON can carry."""
    if value is None:
        return None
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        return np.where(np.isfinite(value), value, None).tolist()
    return value.tolist()


def _number(value: Any) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    )
