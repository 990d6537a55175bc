"""REST calls of stored runs (issue 13): the runs list with filters, delete, history and model
export, rename and notes, and continuing a run from its saved weights.

| call | answer |
|---|---|
| ``GET /api/runs?task=&status=&sort=&limit=&offset=`` | a JSON array (`stored_runs.list_runs`) |
| ``DELETE /api/runs/<id>`` | 200 ``{id, deleted: true}`` (a run still training is stopped first) |
| ``GET /api/runs/<id>/history?format=csv|json`` | epoch, every history column, seconds |
| ``GET /api/runs/<id>/model?format=npz|json|torch`` | the model (see `app.storage.export`) |
| ``PATCH /api/runs/<id>/meta`` ``{name?, notes?}`` | 200 the run's list entry |
| ``POST /api/runs/<id>/continue`` ``{epochs?}`` | 201 a new run starting from its weights |
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.runs.control import TERMINAL
from app.runs.manager import RunManager, TooManyRuns
from app.runs.run import Run
from app.runs.validation import ConfigError, check_work, settled_spec
from app.storage.export import (
    HISTORY_FORMATS,
    MODEL_FORMATS,
    ExportError,
    history_csv,
    history_export_json,
    history_table,
    model_json,
    model_npz,
    torch_script,
)
from app.storage.store import interpolate_seconds
from app.storage.stored_runs import DEFAULT_LIMIT, MAX_LIMIT, SORT_KEYS, list_runs
from app.web.owners import creator, ownership_of

runs_api = Blueprint("runs_api", __name__, url_prefix="/api")

MAX_NAME = 200
MAX_NOTES = 10_000


def _manager() -> RunManager:
    return current_app.extensions["runs"]


def _run_or_404(run_id: str) -> tuple[Run | None, Any]:
    run = _manager().get(run_id)
    if run is None:
        return None, (jsonify(error=_manager().unknown(run_id)), 404)
    return run, None


def _format(allowed: tuple[str, ...], default: str) -> tuple[str | None, Any]:
    chosen = request.args.get("format", default)
    if chosen not in allowed:
        message = f"format must be one of {', '.join(allowed)}, got {chosen!r}"
        return None, (jsonify(errors={"format": message}), 400)
    return chosen, None


def _int_arg(name: str, default: int, low: int, high: int, errors: dict[str, str]) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        errors[name] = f"must be a whole number from {low} to {high}, got {text!r}"
        return default
    return value


def runs_list() -> Any:
    """``GET /api/runs``: every run, stored and live; ``task``, ``status`` (comma-separated, or
    ``ended``), ``sort`` (a column, ``-column`` descending; default ``created``), ``limit``
    (default 500), ``offset``; with an access token each entry has ``{owner, yours, mine}``
    (app/web/owners.py). 400 for bad parameters."""
    errors: dict[str, str] = {}
    limit = _int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
    offset = _int_arg("offset", 0, 0, 10**9, errors)
    sort = request.args.get("sort", "created")
    if sort.lstrip("-") not in SORT_KEYS:
        errors["sort"] = f"must be one of {', '.join(SORT_KEYS)} (- in front: descending)"
    status = request.args.get("status") or None
    known = set(TERMINAL) | {"queued", "running", "paused", "ended"}
    if status is not None and not set(status.split(",")) <= known:
        errors["status"] = f"must be one or more (comma-separated) of {', '.join(sorted(known))}"
    if errors:
        return jsonify(errors=errors), 400
    manager = _manager()
    return jsonify(
        list_runs(
            manager.runs(),
            current_app.extensions.get("store"),
            manager.recorder,
            task=request.args.get("task") or None,
            status=status,
            sort=sort,
            limit=limit,
            offset=offset,
            owners=ownership_of,
            sweeps=current_app.extensions["sweeps"].store.sweep_of_runs(),
        )
    )


@runs_api.delete("/runs/<run_id>")
def delete_run(run_id: str) -> Any:
    """Remove a run and its stored data (a run still training is stopped first)."""
    run, missing = _run_or_404(run_id)
    if run is None:
        return missing
    _manager().delete(run)
    return jsonify(id=run.id, deleted=True)


def _history_of(run: Run) -> tuple[list[str], list]:
    if run.timing is not None:  # read back from storage, or trained by a scaled worker
        with run.lock:
            length, names = run.history.length, list(run.history.names)
            columns = run.history.copy(0, length)
        return history_table(names, columns, run.timing(length), length)
    with run.lock:
        length = run.history.length
        names = list(run.history.names)
        columns = run.history.copy(0, length)
    recorder = _manager().recorder
    stored = recorder.store.summary(run.id) if recorder is not None and run.control.ended else None
    if stored is not None and stored["status"] in TERMINAL:
        # an ended run's training seconds as stored (its final state is written), so that every
        # server exports the same numbers
        seconds = recorder.store.history(run.id, names).seconds
    elif recorder is not None:
        seconds = recorder.seconds(run, length)
    else:
        seconds = interpolate_seconds([(length, run.control.elapsed())], length)
    return history_table(names, columns, seconds, length)


@runs_api.get("/runs/<run_id>/history")
def run_history(run_id: str) -> Any:
    """Every history column per epoch (``format=json``, default, or ``csv``)."""
    run, missing = _run_or_404(run_id)
    if run is None:
        return missing
    chosen, bad = _format(HISTORY_FORMATS, "json")
    if chosen is None:
        return bad
    header, values = _history_of(run)
    if chosen == "json":
        return jsonify(history_export_json(header, values))
    disposition = f'attachment; filename="run-{run.id}-history.csv"'
    return Response(
        history_csv(header, values),
        mimetype="text/csv",
        headers={"Content-Disposition": disposition},
    )


@runs_api.get("/runs/<run_id>/model")
def run_model(run_id: str) -> Any:
    """The run's latest saved model, or with ``epoch=best`` its best epoch's (lowest test loss):
    ``format=npz`` (default; ``nn.load``), ``json`` or ``torch`` (a script defining `model`).
    409 before its first checkpoint (or best epoch), 400 when it cannot be expressed in the
    format or `epoch` is not ``best``."""
    run, missing = _run_or_404(run_id)
    if run is None:
        return missing
    chosen, bad = _format(MODEL_FORMATS, "npz")
    if chosen is None:
        return bad
    which = request.args.get("epoch")
    if which not in (None, "best"):
        message = f"must be best (or absent: the latest weights), got {which!r}"
        return jsonify(errors={"epoch": message}), 400
    checkpoint = run.checkpoint
    if checkpoint is None:
        return jsonify(error="the run has no saved weights yet (it has not trained)"), 409
    if which == "best":
        checkpoint = checkpoint.at_best()
        if checkpoint is None:
            return jsonify(error="the run has no best epoch yet (no test loss)"), 409
    if chosen == "json":
        return jsonify(model_json(checkpoint, run.id, run.task, run.config))
    try:
        if chosen == "npz":
            body, mimetype, name = model_npz(checkpoint), "application/octet-stream", "npz"
        else:
            body, mimetype, name = torch_script(checkpoint, run.id, run.task), "text/x-python", "py"
    except ExportError as error:
        return jsonify(errors={"format": str(error)}), 400
    tag = f"-epoch{checkpoint.epoch}" if which == "best" else ""
    disposition = f'attachment; filename="run-{run.id}-model{tag}.{name}"'
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})


@runs_api.patch("/runs/<run_id>/meta")
def run_meta(run_id: str) -> Any:
    """Rename a run or change its notes: ``{name?, notes?}`` (strings; an empty name clears
    it). 200 ``{id, name, notes}``; 400 for bad fields; 404 unknown or not stored."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        return jsonify(errors={"body": 'a JSON object such as {"name": "wide net"}'}), 400
    errors = {}
    for field, limit in (("name", MAX_NAME), ("notes", MAX_NOTES)):
        if field in body and (not isinstance(body[field], str) or len(body[field]) > limit):
            errors[field] = f"must be text of at most {limit} characters"
    errors.update({field: "unknown field" for field in body if field not in ("name", "notes")})
    if errors:
        return jsonify(errors=errors), 400
    store = current_app.extensions.get("store")
    run_id = _manager().full_id(run_id)
    fields = dict(body)
    if "name" in fields:
        fields["name"] = fields["name"].strip() or None
    if store is None or not store.update_run(run_id, **fields):
        return jsonify(error=_manager().unknown(run_id)), 404
    summary = store.summary(run_id)
    return jsonify(id=run_id, name=summary["name"], notes=summary["notes"])


@runs_api.post("/runs/<run_id>/continue")
def continue_run(run_id: str) -> Any:
    """A new run of the same config starting from this run's saved weights (for the epochs it
    had left, as many again when none was, or ``{epochs: n}``); a run that never trained (queued
    when its server died) starts from its seed's weights. 201 ``{id, config, status,
    continued_from}``; 409 while the run has not ended, or trained but has no saved weights;
    503 when the new run cannot be stored (`api.storage_unavailable`)."""
    run, missing = _run_or_404(run_id)
    if run is None:
        return missing
    if run.status not in TERMINAL:
        return jsonify(error=f"the run is {run.status}: stop it before continuing it"), 409
    checkpoint = run.checkpoint
    if checkpoint is None and run.epoch:
        return jsonify(error="the run has no saved weights to continue from"), 409
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict) or set(body) - {"epochs"}:
        return jsonify(errors={"body": 'at most {"epochs": n}'}), 400
    left = int(run.config["epochs"]) - (checkpoint.epoch if checkpoint else 0)  # none: it never ran
    epochs = body.get("epochs", left if left > 0 else int(run.config["epochs"]))
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= 100_000:
        return jsonify(errors={"epochs": "must be a whole number from 1 to 100000"}), 400
    config = {**run.config, "epochs": epochs}
    try:  # the budget of every way to start work (as at creation)
        check_work(config, run.task, current_app.config["WORK_BUDGET"])
    except ConfigError as error:
        return jsonify(errors=error.errors), 400
    try:
        spec = settled_spec(config, run.task)
        state = checkpoint.state if checkpoint else None  # a run that never trained starts anew
        new = _manager().create(spec, initial_state=state, continued_from=run.id,
                                creator=creator())  # the continuer's own copy
    except TooManyRuns as error:
        return jsonify(error=str(error), limit=error.limit), 429, {"Retry-After": "5"}
    except ValueError as error:  # e.g. its uploaded data no longer fits the stored config
        return jsonify(errors={"config": f"the run cannot be continued: {error}"}), 400
    answer = jsonify(id=new.id, config=new.config, status=new.status, continued_from=run.id)
    return answer, 201
