"""Every JSON encoder of the wire: history chunks, values on the grid, class views, the network
drawing and the shown data points. Runs (snapshots, frames) and previews both use these, so a
number looks the same wherever it is sent: rounded to ~6 significant digits, non-finite as
``null`` (see `app.data.encoding`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.data.encoding import grid_values_json, points_json, round_array, round_arrays, round_float
from app.data.features import projection
from app.data.tasks import Task, TaskData, shown_rows
from app.training.film import plan
from app.training.inside import NEURONS_SHOWN, Histogram, Inside
from app.training.session import ClassView, View

IMAGES_SHOWN = 36  # test images drawn with their predicted label
CONFIDENCE_DIGITS = 4  # significant digits of the confidence grid (colour intensity only)
MAP_DIGITS = 3  # significant digits of neuron maps (colours of thumbnails)


class EncodedView:
    """A view encoded elsewhere (scaled mode: a worker's `RunPayloads.view_json` parts, relayed,
    `app.transports.relay`): `RunPayloads.view_json` sends its `parts` as they came (never
    mutated)."""

    prediction = None  # not a `ClassView`: `Run.confusion` reads `parts`
    inside = None

    def __init__(self, parts: dict[str, Any]) -> None:
        self.parts = parts


class RunPayloads:
    """The wire form of one run's fixed parts (grid, target, shown points, layer sizes) and its
    encoders of what changes (prediction, network). Built when the run starts; it keeps only
    small arrays, so an ended run costs little memory."""

    def __init__(self, task: Task, data: TaskData, sizes: list[int]) -> None:
        self.classification = task.kind == "classification"
        self.sizes = sizes
        self.shape = data.grid_shape()
        self.axes = [round_array(axis) for axis in data.grid_axes]  # sent every frame
        self.shown_test = shown_rows(len(data.x_test))
        self._data = {
            part: points_json(data.plotted(X[rows]), Y[rows], self.classification)
            for part, X, Y, rows in (
                ("train", data.x_train, data.y_train, shown_rows(len(data.x_train))),
                ("test", data.x_test, data.y_test, self.shown_test),
            )
        }
        if task.inputs > 2:  # the whole test set in one picture (see `features.projection`)
            self._data["projection"] = self._projection_json(data)
        self._target = None if self.classification or data.grid_target is None else data.grid_target
        self._images = self._images_json(task, data) if task.image_shape else None

    def _projection_json(self, data: TaskData) -> dict[str, Any]:
        """The shown test points (the rows of ``data.test``) on the training inputs' first two
        principal components: ``{x, y, axes, explained}``."""
        found = projection(data.x_train, data.x_test[self.shown_test])
        found["x"], found["y"] = round_array(found["x"]), round_array(found["y"])
        found["explained"] = [round_float(share) for share in found["explained"]]
        return found

    def _images_json(self, task: Task, data: TaskData) -> dict[str, Any]:
        """The first `IMAGES_SHOWN` shown test points as images: ``{shape, pixels, labels}``,
        pixels scaled to 0–1 (frames' `test_predicted` starts with their predicted labels)."""
        rows = self.shown_test[:IMAGES_SHOWN]
        X = data.x_test[rows].astype(np.float64)
        lo, hi = float(np.min(data.x_train)), float(np.max(data.x_train))
        return {
            "shape": list(task.image_shape),
            "pixels": round_array((X - lo) / max(hi - lo, 1e-12), 3),
            "labels": np.asarray(data.y_test[rows]).astype(np.int64).tolist(),
        }

    def images_json(self) -> dict[str, Any] | None:
        """Image tasks: the test images shown with their predictions (None otherwise)."""
        return self._images

    @staticmethod
    def first_layer_json(view: View | None) -> list | None:
        """Image tasks: each hidden unit's incoming weights as an image (flat, ≤ 64 units)."""
        if view is None or view.first_layer is None:
            return None
        return round_array(view.first_layer, 3)

    def data_json(self) -> dict[str, dict[str, list]]:
        """The shown points: ``{train: {...}, test: {...}}`` (see `points_json`); tasks of more
        than two inputs add ``projection``: the shown test points on two principal components
        (``{x, y, axes, explained}``, the rows of ``test``)."""
        return self._data

    def target_json(self) -> dict[str, Any]:
        """The grid with the target: ``{x, y}`` (1-D), ``{x, y, z}`` (2-D), or only the grid axes
        where there is no target function: ``{x, y}`` for classification and 2-D uploaded data,
        ``{x}`` for 1-D uploaded data."""
        if self._target is None:
            return dict(zip(("x", "y"), self.axes, strict=False))
        return self.grid_json(self._target)

    def grid_json(self, values: np.ndarray | ClassView | None) -> dict[str, Any] | None:
        """A prediction on the grid (see `grid_values_json`), or None.

        A `ClassView` becomes ``{x, y, z: [[class index]], confidence: [[0..1]]}``.
        """
        if values is None:
            return None
        if isinstance(values, ClassView):
            return {
                "x": self.axes[0],
                "y": self.axes[1],
                "z": values.classes.reshape(self.shape).tolist(),
                "confidence": round_array(values.confidence.reshape(self.shape), CONFIDENCE_DIGITS),
            }
        return grid_values_json(self.axes, np.asarray(values).reshape(self.shape))

    def test_points_json(self, view: np.ndarray | ClassView | None) -> dict[str, Any]:
        """Classification: ``{misclassified, test_predicted, confusion}`` of a view (None before
        one); `test_predicted` holds the predicted labels of the shown test points, `confusion`
        the test set's confusion matrix (rows: true class, columns: predicted class)."""
        if not isinstance(view, ClassView):
            return {"misclassified": None, "test_predicted": None, "confusion": None}
        return {
            "misclassified": view.misclassified,
            "test_predicted": view.test_predicted[self.shown_test].tolist(),
            "confusion": view.confusion.tolist(),
        }

    def regression_test_json(self, view: View | None) -> list | None:
        """Regression: the prediction (task units) of each shown test point, in the order of
        ``data.test`` (whose last coordinate is the actual value); None before a view."""
        if view is None or view.test_predicted is None:
            return None
        return round_array(view.test_predicted)  # already of the shown rows

    def view_json(self, view: View | None) -> dict[str, Any]:
        """Everything a frame says of a view: ``prediction``, ``network``; for classification
        ``misclassified``, ``test_predicted``, ``confusion``; ``first_layer`` for image tasks.
        (The look inside goes separately: see `app.runs.broadcast`.) An `EncodedView` is sent as it
        came."""
        if isinstance(view, EncodedView):
            return view.parts
        prediction = view.prediction if view is not None else None
        parts = {
            "prediction": self.grid_json(prediction),
            "network": self.network_json(view.weights if view is not None else None),
        }
        if self.classification:
            parts.update(self.test_points_json(prediction))
        else:
            parts["test_predicted"] = self.regression_test_json(view)
        if self._images is not None:
            parts["first_layer"] = self.first_layer_json(view)
        return parts

    def network_json(self, weights: list[np.ndarray] | None) -> dict[str, Any]:
        """``{sizes, shown, weights}``: the first neurons of each layer and their weights."""
        return {
            "sizes": self.sizes,
            "shown": [min(size, NEURONS_SHOWN) for size in self.sizes],
            "weights": round_arrays(weights) if weights is not None else None,
        }


def _histogram_json(histogram: tuple[np.ndarray, np.ndarray], edges: list) -> dict[str, Any]:
    """``{edges, counts, nonfinite, zeros}`` of a histogram whose edges are already rounded for
    the wire (`app.training.inside.Histogram`; a plain pair has no non-finite values or zeros
    known)."""
    if isinstance(histogram, Histogram):
        return histogram.to_json(edges)
    return {"edges": edges, "counts": np.asarray(histogram[1]).tolist(), "nonfinite": 0,
            "zeros": 0}  # fmt: skip


def inside_json(inside: Inside | None) -> dict[str, Any] | None:
    """``{axes, neurons, indices, bias, mean, output, weights, layers}`` of an `Inside`.

    `neurons[l][k]` is a bare array per shown neuron of hidden layer l: its activation on the
    map grid (a list in 1-D, a list of rows in 2-D); `layers[i]` holds ``weights`` and ``grads``
    histograms ``{edges, counts, nonfinite, zeros}`` (the finite values binned; the NaN and ±inf
    ones and the exact zeros counted), ``grad_norm`` and ``dead`` / ``saturated`` (share or
    null).
    """
    if inside is None:
        return None
    stats = inside.layers
    edges = [layer.weights[0] for layer in stats] + [layer.grads[0] for layer in stats]
    groups = [inside.axes, inside.bias, inside.mean, inside.weights, edges]
    flat = round_arrays([array for group in groups for array in group], 4)
    axes, bias, mean, weights, edges = _split(flat, groups)
    layers = len(stats)
    maps = round_arrays([*inside.neurons, inside.output], MAP_DIGITS)
    return {
        "axes": axes,
        "neurons": maps[:-1],
        "indices": [indices.tolist() for indices in inside.indices],
        "bias": bias,
        "mean": mean,
        "output": maps[-1],
        "weights": weights,
        "layers": [
            {
                "weights": _histogram_json(layer.weights, edges[i]),
                "grads": _histogram_json(layer.grads, edges[layers + i]),
                "grad_norm": round_float(layer.grad_norm),
                "dead": round_float(layer.dead),
                "saturated": round_float(layer.saturated),
            }
            for i, layer in enumerate(inside.layers)
        ],
    }


def _split(flat: list, groups: list[list]) -> list[list]:
    """`flat` cut into consecutive pieces as long as each of `groups`."""
    out, start = [], 0
    for group in groups:
        out.append(flat[start : start + len(group)])
        start += len(group)
    return out


def status_json(run: Any) -> dict[str, Any]:
    """The REST status of a `app.runs.run.Run` (``GET /api/runs/<id>``)."""
    control = run.control
    answer = {
        "id": run.id,
        "task": run.task.id,
        "status": control.status,
        "epoch": run.epoch,
        "epochs": run.epochs,
        "train_loss": run.last("train_loss"),
        "test_loss": run.last("test_loss"),
        "elapsed": round_float(control.elapsed()),
        "progress": run.progress,
        "queue_position": run.queue_position(),
        "reason": control.reason,
        **run.verdict(),
        "config": run.config,
        "lr_changes": run.lr_changes,  # {epoch, lr}: the start, then each live change
        "task_info": run.task.to_json(),
        "film": plan(run.sizes, run.epochs).json(),  # what replay keeps (app.training.film)
    }
    if answer["film"]["note"]:  # a large net: fewer epochs kept
        answer["observations"] = [*answer["observations"], answer["film"]["note"]]
    if run.classification:
        answer.update(train_acc=run.last("train_acc"), test_acc=run.last("test_acc"),
                      confusion=run.confusion())  # fmt: skip
    else:
        answer["test_r2"] = run.last("test_r2")
    return answer


def done_json(run: Any) -> dict[str, Any]:
    """The ``done`` event of a `app.runs.run.Run`: ``{run_id, status, reason, epoch}``, its verdict
    (`Run.verdict`) and, for classification, the final accuracies (None if no epoch ran)."""
    payload = {"run_id": run.id, "status": run.control.status, "reason": run.control.reason,
               "epoch": run.epoch, **run.verdict()}  # fmt: skip
    if run.classification:
        payload.update(train_acc=run.last("train_acc"), test_acc=run.last("test_acc"),
                       confusion=run.confusion())  # fmt: skip
    return payload
