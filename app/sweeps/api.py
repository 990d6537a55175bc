"""Sweep routes (issue 30) and the sweep page.

| call | answer |
|---|---|
| ``POST /api/sweeps`` (body: `app.sweeps.spec`) | 201 ``{id, runs}``; 400 ``{errors}`` |
| ``GET /api/sweeps`` | ``[{id, config, status, created, ended, total, counts}]``, newest first |
| ``GET /api/sweeps/<id>`` | ``{id, config, status, ..., runs: [{id, status, ...metrics}]}`` |
| ``POST /api/sweeps/<id>/stop`` | 200 the sweep (its waiting runs cancelled, the others stopped) |
| ``DELETE /api/sweeps/<id>`` | 200 ``{id, deleted: true}`` (its runs stopped and deleted) |
| ``GET /api/sweeps/<id>/results?format=csv|json`` | one row per run (`results.results_table`) |
| ``GET /sweeps/<id>`` | the sweep page |
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from app.runs.manager import TooManyRuns
from app.runs.validation import ConfigError
from app.sweeps.results import results_csv, results_table, run_row, sweep_json
from app.sweeps.scheduler import SweepScheduler
from app.sweeps.store import Sweep

sweeps_api = Blueprint("sweeps_api", __name__)
# the WSGI environ key of who sends the request (set by app/web/owners.py with an access token)
CREATOR_KEY = "backprop.creator"


def _scheduler() -> SweepScheduler:
    return current_app.extensions["sweeps"]


def _sweep_or_404(sweep_id: str) -> tuple[Sweep | None, Any]:
    sweep = _scheduler().store.fresh(sweep_id)
    if sweep is None:
        return None, (jsonify(error=f"unknown sweep {sweep_id!r}"), 404)
    return sweep, None


@sweeps_api.post("/api/sweeps")
def create_sweep() -> Any:
    """Check and plan a sweep, then start its runs as compute frees up: 201 ``{id, runs}``
    (the count of runs), 400 ``{errors: {field: message}}`` (``runs`` over 200 runs, with the
    count; ``vary.<axis>`` naming the value a single run refuses), 503 when it cannot be
    stored, 429 when its owner holds its most unfinished runs (a sweep counts as one)."""
    body = request.get_json(force=True, silent=True)
    try:
        sweep = _scheduler().create(body, request.environ.get(CREATOR_KEY))
    except ConfigError as error:
        return jsonify(errors=error.errors), 400
    except TooManyRuns as error:
        return jsonify(error=str(error), limit=error.limit), 429, {"Retry-After": "5"}
    return jsonify(id=sweep.id, runs=len(sweep.runs)), 201


@sweeps_api.get("/api/sweeps")
def list_sweeps() -> Any:
    """Every sweep, newest first, without its runs."""
    scheduler = _scheduler()
    scheduler.store.refresh()
    sweeps = reversed(scheduler.store.all())
    return jsonify([sweep_json(scheduler, sweep, with_runs=False) for sweep in sweeps])


@sweeps_api.get("/api/sweeps/<sweep_id>")
def get_sweep(sweep_id: str) -> Any:
    """The sweep and every run of it (`results.run_row`), in order."""
    sweep, missing = _sweep_or_404(sweep_id)
    if sweep is None:
        return missing
    return jsonify(sweep_json(_scheduler(), sweep))


@sweeps_api.post("/api/sweeps/<sweep_id>/stop")
def stop_sweep(sweep_id: str) -> Any:
    """Stop the sweep: its waiting runs never start, its unfinished runs stop."""
    sweep, missing = _sweep_or_404(sweep_id)
    if sweep is None:
        return missing
    _scheduler().stop(sweep)
    return jsonify(sweep_json(_scheduler(), sweep))


@sweeps_api.delete("/api/sweeps/<sweep_id>")
def delete_sweep(sweep_id: str) -> Any:
    """Stop the sweep, delete its runs (their stored data too) and forget it."""
    sweep, missing = _sweep_or_404(sweep_id)
    if sweep is None:
        return missing
    _scheduler().delete(sweep)
    return jsonify(id=sweep.id, deleted=True)


@sweeps_api.get("/api/sweeps/<sweep_id>/results")
def sweep_results(sweep_id: str) -> Any:
    """One row per run: ``format=json`` (default: ``{columns, rows}``) or ``csv``."""
    sweep, missing = _sweep_or_404(sweep_id)
    if sweep is None:
        return missing
    chosen = request.args.get("format", "json")
    if chosen not in ("json", "csv"):
        return jsonify(errors={"format": f"must be one of json, csv, got {chosen!r}"}), 400
    rows = [run_row(_scheduler(), planned) for planned in sweep.runs]
    header, table = results_table(sweep, rows)
    if chosen == "json":
        return jsonify(columns=header, rows=table)
    disposition = f'attachment; filename="sweep-{sweep.id}-results.csv"'
    return Response(results_csv(header, table), mimetype="text/csv",
                    headers={"Content-Disposition": disposition})  # fmt: skip


@sweeps_api.get("/sweeps/<sweep_id>")
def sweep_page(sweep_id: str) -> Any:
    """The sweep page: its configs compared live (static/js/sweep_page.js)."""
    if _scheduler().store.fresh(sweep_id) is None:
        message = f"Unknown sweep '{sweep_id}'"
        return render_template("404.html", message=message, tasks=[]), 404
    return render_template("sweep.html", sweep_id=sweep_id)
