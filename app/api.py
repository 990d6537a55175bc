"""REST API: tasks, run creation (validated field by field) and run control."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from .runs import TERMINAL, Run, RunManager
from .tasks import task_list
from .validation import ConfigError, validate_config

api = Blueprint("api", __name__, url_prefix="/api")


def _manager() -> RunManager:
    return current_app.extensions["runs"]


def _unknown(run_id: str) -> tuple[Any, int]:
    return jsonify(error=f"unknown run {run_id!r}"), 404


@api.get("/tasks")
def tasks() -> Any:
    """Every task with its kind, inputs, formula, default domain and run defaults."""
    return jsonify(task_list())


@api.post("/runs")
def create_run() -> Any:
    """Validate a run config and start it: 201 {id, config} or 400 {errors: {field: message}}."""
    body = request.get_json(force=True, silent=True)
    if body is None:
        return jsonify(errors={"body": "must be a JSON object with the run config"}), 400
    try:
        config = validate_config(body)
    except ConfigError as error:
        return jsonify(errors=error.errors), 400
    run = _manager().create(config)
    return jsonify(id=run.id, config=run.config, status=run.status), 201


@api.get("/runs")
def list_runs() -> Any:
    """The status of every known run, oldest first."""
    return jsonify([run.status_json() for run in _manager().runs()])


@api.get("/runs/<run_id>")
def get_run(run_id: str) -> Any:
    """One run's status: {id, status, epoch, epochs, train_loss, test_loss, elapsed, ...}."""
    run = _manager().get(run_id)
    if run is None:
        return _unknown(run_id)
    return jsonify(run.status_json())


def _control(run_id: str, action: str) -> Any:
    manager = _manager()
    run: Run | None = manager.get(run_id)
    if run is None:
        return _unknown(run_id)
    if run.status in TERMINAL:
        return jsonify(id=run.id, status=run.status, error=f"run already {run.status}"), 409
    status = getattr(manager, action)(run)
    return jsonify(id=run.id, status=status, epoch=run.epoch)


@api.post("/runs/<run_id>/pause")
def pause_run(run_id: str) -> Any:
    """Pause after the current epoch (answers once the run has paused)."""
    return _control(run_id, "pause")


@api.post("/runs/<run_id>/resume")
def resume_run(run_id: str) -> Any:
    """Resume a paused run."""
    return _control(run_id, "resume")


@api.post("/runs/<run_id>/stop")
def stop_run(run_id: str) -> Any:
    """Stop the run within one epoch; it ends as `stopped`."""
    return _control(run_id, "stop")


@api.errorhandler(404)
def not_found(_error: Exception) -> Any:
    return jsonify(error="not found"), 404


@api.errorhandler(405)
def method_not_allowed(_error: Exception) -> Any:
    return jsonify(error="method not allowed"), 405
