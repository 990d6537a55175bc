"""What a sweep answers: its runs with their metrics (`run_rows`), as JSON (`sweep_json`) and
as the results table (`results_table`: one row per run, the axes, then seed, params, best and
final test loss, accuracies for classification, epochs, seconds)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from app.storage.stored_runs import live_summary, stored_summary
from app.sweeps.spec import Planned
from app.sweeps.store import Sweep

METRICS = ("best_test_loss", "final_test_loss")
ACCURACIES = ("best_test_acc", "final_test_acc")
UNSTARTED = {"waiting": "waiting", "cancelled": "cancelled", "started": "queued"}


def _summary(scheduler: Any, planned: Planned) -> dict[str, Any] | None:
    """The run's list entry (`stored_runs`): live if this process holds it, else as stored."""
    run = scheduler.live_run(planned)
    if run is not None:
        return live_summary(run, None)
    run_store = scheduler.store.run_store
    row = run_store.summary(planned.run_id) if run_store and planned.run_id else None
    if row is not None:
        return stored_summary(row)
    run = scheduler.run_of(planned)  # e.g. a scaled worker's run
    return live_summary(run, None) if run is not None else None


def run_row(scheduler: Any, planned: Planned) -> dict[str, Any]:
    """One run of a sweep: ``{id, position, values, seed, params, status, reason, epoch,
    epochs, seconds, best_test_loss, final_test_loss, config}`` (the config as sent) and, for
    classification, ``best_test_acc`` and ``final_test_acc`` (losses and accuracies None before
    its first epoch)."""
    row: dict[str, Any] = {
        "id": planned.run_id, "position": planned.position, "values": planned.values,
        "seed": planned.seed, "params": planned.params, "status": UNSTARTED[planned.state],
        "reason": None, "epoch": 0, "epochs": planned.config.get("epochs"), "seconds": None,
        "best_test_loss": None, "final_test_loss": None, "config": planned.config,
    }  # fmt: skip
    summary = _summary(scheduler, planned) if planned.run_id else None
    if summary is None:
        return row
    row.update(status=summary["status"], reason=summary.get("reason"), epoch=summary["epoch"],
               epochs=summary["epochs"], seconds=summary.get("elapsed"),
               best_test_loss=summary.get("best_test_loss"),
               final_test_loss=summary.get("test_loss"))  # fmt: skip
    if "test_acc" in summary:
        row.update(best_test_acc=summary.get("best_test_acc"),
                   final_test_acc=summary.get("test_acc"))  # fmt: skip
    return row


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many runs are waiting (not started, or queued), running (or paused), ended, or
    cancelled (never started: the sweep was stopped first, or the run could not start)."""
    answer = {"waiting": 0, "running": 0, "ended": 0, "cancelled": 0}
    for row in rows:
        status = row["status"]
        key = ("waiting" if status in ("waiting", "queued")
               else "running" if status in ("running", "paused")
               else "cancelled" if status == "cancelled" else "ended")  # fmt: skip
        answer[key] += 1
    return answer


def sweep_json(scheduler: Any, sweep: Sweep, with_runs: bool = True) -> dict[str, Any]:
    """``GET /api/sweeps/<id>``: ``{id, config, status, created, ended, total, counts, runs}``."""
    rows = [run_row(scheduler, planned) for planned in sweep.runs]
    answer = {"id": sweep.id, "config": sweep.config, "status": sweep.status,
              "created": sweep.created, "ended": sweep.ended, "total": len(sweep.runs),
              "counts": counts(rows)}  # fmt: skip
    if with_runs:
        answer["runs"] = rows
    return answer


def results_table(sweep: Sweep, rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The results header and rows (see the module docstring); a list value (``hidden``) is
    its JSON text in CSV."""
    axes = list(sweep.config["vary"])
    classification = any("final_test_acc" in row for row in rows)
    header = [*axes, "run_id", "seed", "params", *METRICS,
              *(ACCURACIES if classification else ()), "epochs", "seconds", "status"]  # fmt: skip
    table = []
    for row in rows:
        table.append([*(row["values"][axis] for axis in axes), row["id"], row["seed"],
                      row["params"], *(row[name] for name in METRICS),
                      *(row.get(name) for name in (ACCURACIES if classification else ())),
                      row["epoch"], row["seconds"], row["status"]])  # fmt: skip
    return header, table


def results_csv(header: list[str], table: list[list[Any]]) -> str:
    """The results table as CSV text (lists as JSON, missing values empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in table:
        writer.writerow(["" if value is None else json.dumps(value) if isinstance(value, list)
                         else value for value in row])  # fmt: skip
    return out.getvalue()
