"""Runs read back from the database: `stored_run` (a `Run` rebuilt from its row, history and
checkpoint, so watch, snapshot, status and export work for runs of earlier processes) and the
runs list (`list_runs`: stored rows merged with the live runs of this process, filtered, sorted
and paged).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from app.data.uploads import DatasetStore
from app.runs.control import TERMINAL
from app.runs.payloads import status_json
from app.runs.run import Run
from app.runs.validation import resolve_task
from app.storage.recorder import Recorder
from app.storage.store import RunStore, StoredHistory

DEFAULT_LIMIT = 500
MAX_LIMIT = 10_000
SORT_KEYS = (
    "created",
    "best_test_loss",
    "test_loss",
    "train_loss",
    "best_test_acc",
    "test_acc",
    "elapsed",
    "epoch",
    "task",
    "status",
    "name",
)


def stored_run(summary: dict[str, Any], task: Any, history: StoredHistory,
               checkpoint: Any) -> Run:  # fmt: skip
    """A `Run` rebuilt from storage: its status (as stored), history and checkpoint; its data
    and view (the prediction on the grid from the checkpoint's weights) are built on first
    demand (`Run.payloads_now`)."""
    run = Run(summary["id"], task, summary["config"])
    run.restore(summary, history, checkpoint)
    return run


def load_run(
    store: RunStore, datasets: DatasetStore | None, run_id: str, recorder: Recorder | None = None
) -> Run | None:
    """The stored run with this id, rebuilt (its row first recovered by the `recorder` if its
    process died); None if unknown or its task cannot be resolved."""
    if recorder is not None:
        recorder.recover_soon()
    summary = store.summary(run_id)
    if summary is None:
        return None
    errors: dict[str, str] = {}
    task = resolve_task(summary["config"], datasets, errors)
    if task is None:
        return None
    history = store.history(run_id, summary["columns"])
    return stored_run(summary, task, history, store.checkpoint(run_id))


def _best(run: Run, name: str, lowest: bool) -> float | None:
    with run.lock:
        if name not in run.history.names or run.history.length == 0:
            return None
        column = run.history.columns[name][: run.history.length]
    finite = column[np.isfinite(column)]
    if not finite.size:
        return None
    return float(finite.min() if lowest else finite.max())


def live_summary(run: Run, row: dict[str, Any] | None) -> dict[str, Any]:
    """A live run's list entry: its status (`payloads.status_json`) plus the stored fields."""
    answer = status_json(run)
    answer.pop("task_info", None)
    row = row or {}
    answer.update(
        name=row.get("name"),
        notes=row.get("notes", ""),
        created=run.created,
        ended=row.get("ended"),
        continued_from=row.get("continued_from"),
        best_test_loss=_best(run, "test_loss", lowest=True),
    )
    answer["best_epoch"] = run.best_epoch()
    if run.classification:
        answer["best_test_acc"] = _best(run, "test_acc", lowest=False)
    return answer


def stored_summary(row: dict[str, Any]) -> dict[str, Any]:
    """A stored run's list entry (the same keys as `live_summary`)."""
    answer = {
        key: row[key]
        for key in (
            "id", "task", "status", "epoch", "epochs", "train_loss", "test_loss", "elapsed",
            "reason", "warnings", "observations", "config", "name", "notes", "created", "ended",
            "continued_from", "best_test_loss", "best_epoch",
        )
    }  # fmt: skip
    answer["lr_changes"] = row["lr_changes"] or [{"epoch": 0, "lr": row["config"].get("lr")}]
    answer.update(progress=None, queue_position=None)
    if "train_acc" in row["columns"]:  # a classification run
        answer.update(
            train_acc=row["train_acc"], test_acc=row["test_acc"], best_test_acc=row["best_test_acc"]
        )
    return answer


def _sort_key(name: str) -> Any:
    def key(item: dict[str, Any]) -> tuple:
        value = item.get(name)
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return (missing, value if not missing else 0, item.get("created") or 0, item["id"])

    return key


def list_runs(
    live: list[Run],
    store: RunStore | None,
    recorder: Recorder | None,
    task: str | None = None,
    status: str | None = None,
    sort: str = "created",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    owners: Callable[[str | None], dict[str, Any]] | None = None,
    sweeps: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every run (stored ones and this process's live ones), filtered by task and status,
    sorted by `sort` (a `SORT_KEYS` name, ``-name`` for descending; missing values last), paged.
    `owners`: what each entry adds from its run's creator (``{owner, yours, mine}``,
    app/web/owners.py); the creator itself is never listed. Each entry's ``sweep`` is the id of
    the sweep that started it (`sweeps`, by run id), else None."""
    rows: dict[str, dict[str, Any]] = {}
    if store is not None:
        if recorder is not None:
            recorder.recover_soon()
        rows = {row["id"]: row for row in store.summaries(task)}
    live_ids = {run.id for run in live}
    entries = [
        live_summary(run, rows.get(run.id)) | (owners(run.creator) if owners else {})
        for run in live
        if task is None or run.task.id == task
    ]
    entries += [
        stored_summary(row) | (owners(row.get("creator")) if owners else {})
        for run_id, row in rows.items()
        if run_id not in live_ids
    ]
    for entry in entries:
        entry["sweep"] = (sweeps or {}).get(entry["id"])
    if status is not None:
        wanted = set(status.split(","))
        if "ended" in wanted:
            wanted |= TERMINAL
        entries = [entry for entry in entries if entry["status"] in wanted]
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    entries.sort(key=_sort_key(name))
    if descending:  # missing values stay last
        present = [entry for entry in entries if entry.get(name) is not None]
        entries = present[::-1] + [entry for entry in entries if entry.get(name) is None]
    return entries[offset : offset + limit]
