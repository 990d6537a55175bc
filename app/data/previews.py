"""What ``POST /api/preview`` and ``POST /api/datasets`` answer: a task's target or points, before
any training, in the same shapes the run stream uses (rounded, non-finite as ``null``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.config.expressions import ExpressionError
from app.data.encoding import grid_values_json, points_json, round_array
from app.data.tasks import (
    DATA_POINTS_SHOWN,
    Task,
    classification_domain,
    dataset_task,
    evaluation_grid,
    shown_rows,
)
from app.data.uploads import ParsedDataset

# The fields of a run config a preview reads (POST /api/preview); the others are ignored.
PREVIEW_FIELDS = ("task", "expression", "domain", "samples", "noise", "seed")


def task_preview(task: Task, config: dict[str, Any]) -> dict[str, Any]:
    """The preview of a validated config's task.

    Regression (built-in or custom): ``{task, target: {x, y} | {x, y, z}, warning}`` on the run's
    grid over ``config["domain"]``; a custom target that is not finite (or too large) somewhere
    is sent with nulls there and `warning` names the first such point. Classification: ``{task,
    data: {x, y, label}, domain, warning: null}`` with points drawn as a run would draw them
    (samples, noise, seed; at most 1000 shown) and the box its grid would cover. Uploaded data:
    ``{task, data: <dataset preview>, domain, warning: null}``.
    """
    answer: dict[str, Any] = {"task": task.to_json()}
    if task.dataset is not None:
        pair = task.slice_features if task.input_count else None
        answer["data"] = dataset_preview(task.dataset, pair)
        answer["domain"] = [list(pair) for pair in task.domain]
        answer["warning"] = None
        notes = {"notes": list(task.dataset.notes)} if task.dataset.notes else {}
        answer.update(notes)  # what reading the file changed, e.g. a pandas index dropped
        if task.dataset.table is not None:
            answer["table"] = {**task.dataset.table.to_json(), **notes}
        return answer
    if task.kind == "classification":
        X, labels = task.sample(config["samples"], config["noise"], config["seed"])
        rows = shown_rows(len(X))
        answer["data"] = points_json(X[rows], labels[rows], classification=True)
        answer["domain"] = classification_domain(task, config["domain"], X)
        answer["warning"] = None
        return answer

    axes, grid = evaluation_grid(config["domain"])
    warning = None
    if task.expression is not None:
        values = task.expression(*grid.T)
        try:
            task.fn(*grid.T)  # the same check a run makes, for its message
        except ExpressionError as error:
            warning = error.message
    else:
        values = np.asarray(task.fn(*grid.T), dtype=np.float64)
    values = values.reshape(tuple(len(axis) for axis in reversed(axes)))
    answer["target"] = grid_values_json([round_array(axis) for axis in axes], values)
    answer["warning"] = warning
    return answer


def dataset_preview(
    dataset: ParsedDataset, pair: tuple[int, int] | None = None
) -> dict[str, list]:
    """At most 1000 rows of an upload: ``{x, y?, target}`` (regression) or ``{x, y, label}``;
    with more than two inputs `x` and `y` are the inputs `pair` (the slice view's)."""
    if pair is not None:
        rows = shown_rows(dataset.n_rows)
        X = dataset.features(pair)
        preview: dict[str, list] = {"x": round_array(X[rows, 0]), "y": round_array(X[rows, 1])}
        if dataset.kind == "regression":
            preview["target"] = round_array(dataset.Y[rows, 0])
        else:
            preview["label"] = dataset.labels[rows].tolist()
        return preview
    preview = dataset.preview(DATA_POINTS_SHOWN)
    return {
        name: values if name == "label" else round_array(values) for name, values in preview.items()
    }


def dataset_json(dataset_id: str, dataset: ParsedDataset) -> dict[str, Any]:
    """``POST /api/datasets`` / ``GET /api/datasets/<id>``: ``{id, kind, inputs, n_rows, classes,
    domain, preview, task}`` (`task` is the task dict a ``dataset:<id>`` run will have); tables
    add ``columns``, ``target_column`` and ``head`` (see `ParsedDataset.summary`). `inputs` is
    the number of network inputs (a category feature has one per value)."""
    task = dataset_task(dataset_id, dataset)
    pair = task.slice_features if task.input_count else None
    return {
        "id": dataset_id,
        **dataset.summary(),
        "preview": dataset_preview(dataset, pair),
        "task": task.to_json(),
    }
