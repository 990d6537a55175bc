"""REST API: tasks, previews, dataset uploads, run creation (validated field by field) and run
control."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, current_app, jsonify, request

import app.data.tasks as task_registry
from app.config.wording import counted
from app.data.mnist_upload import MAX_MNIST_BYTES, MnistUploadError, mnist_folder, store_mnist
from app.data.previews import PREVIEW_FIELDS, dataset_json, task_preview
from app.data.tasks import CUSTOM_ID, task_list
from app.data.uploads import MAX_BYTES, DatasetError, DatasetStore, parse_csv, too_big, upload_name
from app.outages import StorageUnavailable
from app.runs.control import TERMINAL, ControlError
from app.runs.manager import RunManager, ShuttingDown, TooManyRuns
from app.runs.payloads import status_json
from app.runs.run import Run
from app.runs.validation import ConfigError, run_spec, validate_run
from app.web.openapi import openapi_document, run_config_json_schema
from app.web.owners import (
    RETRY_AFTER,
    creator,
    listed_upload,
    ownership,
    upload_limits,
    upload_refusal,
)
from app.web.runs_api import runs_list

api = Blueprint("api", __name__, url_prefix="/api")


LIMITS = ("MAX_STORED_UPLOADS", "MAX_STORED_UPLOAD_BYTES")
UNFINISHED = ("queued", "running", "paused")  # a stored run's statuses before it ends


def _manager() -> RunManager:
    return current_app.extensions["runs"]


def _datasets() -> DatasetStore:
    return current_app.extensions["datasets"]


def _unknown(run_id: str) -> tuple[Any, int]:
    return jsonify(error=_manager().unknown(run_id)), 404


@api.get("/tasks")
def tasks() -> Any:
    """Every task with its kind, inputs, formula, default domain and run defaults."""
    return jsonify(task_list())


@api.get("/schema")
def schema() -> Any:
    """The run config as JSON Schema (draft 2020-12): every field's limits, choices, default and
    description (the page builds its form from it)."""
    return jsonify(run_config_json_schema())


@api.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description of this API (built from the same schemas as validation)."""
    return jsonify(openapi_document(current_app))


@api.post("/runs")
def create_run() -> Any:
    """Validate a run config and start it: 201 {id, config, status, reason} (``failed`` if it
    could not start), 400 {errors: {field: message}}, 429 when MAX_UNFINISHED_RUNS are
    unfinished (with Retry-After), 503 when it cannot be stored (`storage_unavailable`)."""
    body = request.get_json(force=True, silent=True)
    if body is None:
        return jsonify(errors={"body": "must be a JSON object with the run config"}), 400
    try:
        spec = run_spec(body, _datasets(), current_app.config["WORK_BUDGET"])
        run = _manager().create(spec, creator=creator())
    except ConfigError as error:  # every bad field, the target's and the features' too
        return jsonify(errors=error.errors), 400
    except TooManyRuns as error:
        answer = jsonify(error=str(error), limit=error.limit)
        return answer, 429, {"Retry-After": str(RETRY_AFTER)}
    answer = jsonify(id=run.id, config=run.config, status=run.status, reason=run.control.reason)
    return answer, 201


@api.post("/preview")
def preview() -> Any:
    """A task's target (regression) or points (classification, uploads) before training.

    Body ``{task, expression?, domain?}`` (also ``samples``, ``noise``, ``seed`` for the points
    of a classification task; other run config fields are ignored). 200 ``{task, target |
    data, warning}`` or 400 ``{errors}``; see `previews.task_preview`.
    """
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return jsonify(errors={"body": 'must be a JSON object such as {"task": "sin"}'}), 400
    fields = {name: value for name, value in body.items() if name in PREVIEW_FIELDS}
    if body.get("task") != CUSTOM_ID:
        fields.pop("expression", None)
    try:
        config, task = validate_run(fields, _datasets())
    except ConfigError as error:
        return jsonify(errors=error.errors), 400
    return jsonify(task_preview(task, config))


@api.post("/datasets")
def upload_dataset() -> Any:
    """Upload a CSV file (multipart field ``file``): 201 ``{id, kind, inputs, n_rows, classes,
    domain, preview, task}`` or 400 ``{errors: {file: "line 7: ..."}}``; 409 when the server
    keeps all the uploads it may, 429 (with Retry-After) when the requester does
    (`owners.upload_refusal`). With a token the upload is the requester's (`owners.creator`).

    The app's MAX_CONTENT_LENGTH refuses a body much over 5 MB before it is read (see
    `too_large`).
    """
    upload = request.files.get("file")
    if upload is None:
        return jsonify(errors={"file": "no file: send the CSV as the multipart field 'file'"}), 400
    data = upload.stream.read(MAX_BYTES + 1)  # never more in memory than needed to refuse it
    if len(data) > MAX_BYTES:
        try:
            size = upload.stream.seek(0, 2)  # spooled to memory or a temporary file: seekable
        except (OSError, ValueError):
            size = len(data)
        return jsonify(errors={"file": f"the file is too big: {too_big(size)}"}), 400
    kept = _datasets().listing()
    if (refused := upload_refusal(kept, len(data))) is not None:
        return refused
    if (full := _uploads_full(kept, len(data))) is not None:
        return jsonify(errors={"file": full}), 409
    try:
        dataset = parse_csv(data)
    except DatasetError as error:
        return jsonify(errors={"file": str(error)}), 400
    # stored: a restarted server reparses it; the pages list it by its file name
    dataset = dataclasses.replace(dataset, source=data, name=upload_name(upload.filename),
                                  creator=creator())  # fmt: skip
    dataset_id = _datasets().add(dataset)
    return jsonify(dataset_json(dataset_id, dataset)), 201


@api.post("/mnist")
def upload_mnist() -> Any:
    """MNIST's four IDX files (multipart field ``files``, raw or gzipped, up to 64 MB in all):
    201 ``{task}`` (the task ``mnist``, offered from now on) or 400 ``{errors: {files: ...}}``.
    See `app.data.mnist_upload`."""
    request.max_content_length = MAX_MNIST_BYTES + 64 * 1024
    files = [
        (upload.filename or "?", upload.stream.read()) for upload in request.files.getlist("files")
    ]
    folder = _mnist_upload_folder()
    try:
        store_mnist(files, folder)
    except MnistUploadError as error:
        return jsonify(errors={"files": str(error)}), 400
    task_registry._mnist.cache_clear()  # an earlier upload to the same folder is gone
    task = task_registry.mnist_task(folder)
    current_app.extensions["tasks"] = {**current_app.extensions.get("tasks", {}), "mnist": task}
    return jsonify(task=task.to_json()), 201


def _mnist_upload_folder() -> Any:
    """This app's folder for uploaded IDX files (chosen once, see `mnist_folder`)."""
    config = current_app.config
    if config.get("MNIST_UPLOAD_DIR") is None:
        config["MNIST_UPLOAD_DIR"] = mnist_folder(config)
    return config["MNIST_UPLOAD_DIR"]


def _uploads_full(kept: list[dict[str, Any]], n_bytes: int) -> str | None:
    """Why one more upload of `n_bytes` beside `kept` (the stored uploads) would pass
    MAX_STORED_UPLOADS or MAX_STORED_UPLOAD_BYTES (compressed, plus this file), or None."""
    most, most_bytes = (int(current_app.config[name]) for name in LIMITS)
    stored = sum(entry["bytes"] for entry in kept)
    advice = "delete some first (DELETE /api/datasets/<id>, listed by GET /api/datasets)"
    if len(kept) >= most:
        stored_uploads = counted(len(kept), "upload is", "uploads are")
        return f"{stored_uploads} stored, the most this server keeps: {advice}"
    if stored + n_bytes > most_bytes:
        return (f"the stored uploads take {too_big(stored + n_bytes, most_bytes)} with this "
                f"file: {advice}")  # fmt: skip
    return None


@api.get("/datasets")
def list_datasets() -> Any:
    """The uploads kept: ``{datasets: [{id, name, bytes, created?}], count, bytes, max_count,
    max_bytes}`` (`name` the uploaded file's, null when unknown; bytes as stored, compressed;
    `created` in seconds since the epoch). With a token each upload adds ``{owner, yours,
    mine}`` and the answer the per-owner limits (`owners.listed_upload`, `owners.upload_limits`)."""
    kept = _datasets().listing()
    most, most_bytes = (int(current_app.config[name]) for name in LIMITS)
    total = sum(entry["bytes"] for entry in kept)
    return jsonify(datasets=[listed_upload(entry) for entry in kept], count=len(kept),
                   bytes=total, max_count=most, max_bytes=most_bytes,
                   **upload_limits())  # fmt: skip


@api.delete("/datasets/<dataset_id>")
def delete_dataset(dataset_id: str) -> Any:
    """Forget an upload (memory and storage): 200 ``{id, deleted: true}``, 404 unknown, 403
    someone else's (with a token: `app.web.owners`), 409 ``{error}`` while runs of it are
    queued, running or paused (stop them first) or while any run of it is kept (its history,
    view and model need the data: delete those runs first)."""
    task = f"dataset:{dataset_id}"
    live = {run.id: run.status for run in _manager().runs() if run.config.get("task") == task}
    store = current_app.extensions.get("store")  # runs this process does not hold (scaled mode)
    stored = store.summaries(task=task) if store is not None else []
    statuses = {**{entry["id"]: entry["status"] for entry in stored}, **live}
    busy = [run_id for run_id, status in statuses.items() if status in UNFINISHED]
    if busy:
        listed = ", ".join(sorted(busy)[:5])
        return jsonify(error=f"runs of this upload are unfinished ({listed}): stop them first"), 409
    if statuses:  # a kept run of a deleted upload could no longer be shown, exported or continued
        listed = ", ".join(sorted(statuses)[:5])
        kept_runs = counted(len(statuses), "run of this upload is", "runs of this upload are")
        return jsonify(error=f"{kept_runs} kept ({listed}): delete "
                             "them first, their views, exports and continue need its data"), 409
    if not _datasets().remove(dataset_id):
        return jsonify(error=f"unknown dataset {dataset_id!r}"), 404
    return jsonify(id=dataset_id, deleted=True)


@api.get("/datasets/<dataset_id>")
def get_dataset(dataset_id: str) -> Any:
    """An uploaded dataset's summary (as answered to the upload); 404 unknown or forgotten."""
    dataset = _datasets().get(dataset_id)
    if dataset is None:
        return jsonify(error=f"unknown dataset {dataset_id!r}"), 404
    return jsonify(dataset_json(dataset_id, dataset))


@api.get("/runs")
def list_runs() -> Any:
    """Every run (stored and live), oldest first; filters, sort and paging in
    `runs_api.runs_list`."""
    return runs_list()


@api.get("/runs/<run_id>")
def get_run(run_id: str) -> Any:
    """One run's status: {id, status, epoch, epochs, train_loss, test_loss, elapsed, ...}; with
    an access token also {owner, yours} (app/web/owners.py)."""
    run = _manager().get(run_id)
    if run is None:
        return _unknown(run_id)
    return jsonify({**status_json(run), **ownership(run)})


def _control(run_id: str, action: str, *args: Any) -> Any:
    manager = _manager()
    run: Run | None = manager.get(run_id)
    if run is None:
        return _unknown(run_id)
    if run.status in TERMINAL:
        return jsonify(id=run.id, status=run.status, error=f"run already {run.status}"), 409
    if action == "pause" and run.status == "queued":  # in both modes: no pause held in wait
        message = ("the run is queued (waiting for a compute slot): it can be paused once it "
                   "trains; stop it to cancel it")  # fmt: skip
        return jsonify(id=run.id, status=run.status, error=message), 409
    try:
        status = getattr(manager, action)(run, *args)
    except ControlError as error:
        return jsonify(id=run.id, status=run.status, error=str(error)), 409
    return jsonify(id=run.id, status=status, epoch=run.epoch)


@api.patch("/runs/<run_id>")
def change_run(run_id: str) -> Any:
    """Live changes of ``lr``, ``epochs_per_second``, ``l1``, ``weight_decay``, ``momentum``,
    ``batch_size``: 200 ``{id, config}`` (they apply from the next mini-batch), 400 ``{errors}``
    (same rules as creation), 409 once the run has ended."""
    run = _manager().get(run_id)
    if run is None:
        return _unknown(run_id)
    if run.status in TERMINAL:
        return jsonify(id=run.id, status=run.status, error=f"run already {run.status}"), 409
    try:
        config = _manager().change(run, request.get_json(silent=True))
    except ConfigError as error:
        return jsonify(errors=error.errors), 400
    except ControlError as error:
        return jsonify(id=run.id, status=run.status, error=str(error)), 409
    return jsonify(id=run.id, config=config)


@api.post("/runs/<run_id>/pause")
def pause_run(run_id: str) -> Any:
    """Pause within one slice of training (answers once the run has paused); 409 for a queued
    run (nothing is kept for later: it starts training when it gets its slot)."""
    return _control(run_id, "pause")


@api.post("/runs/<run_id>/resume")
def resume_run(run_id: str) -> Any:
    """Resume a paused run."""
    return _control(run_id, "resume")


@api.post("/runs/<run_id>/stop")
def stop_run(run_id: str) -> Any:
    """Stop the run within one slice of training; it ends as `stopped`."""
    return _control(run_id, "stop")


@api.post("/runs/<run_id>/step")
def step_run(run_id: str) -> Any:
    """While paused, train ``{epochs: n}`` (default 1) or ``{batches: n}`` more; stays paused.

    200 ``{id, status, epoch}`` once done (or after a short wait), 400 ``{errors}`` for a bad
    body, 409 unless the run is paused.
    """
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict):
        return jsonify(errors={"body": 'a JSON object: {"epochs": n} or {"batches": n}'}), 400
    unknown = sorted(set(body) - {"epochs", "batches"})
    if unknown:
        return jsonify(errors={unknown[0]: f"unknown field {unknown[0]!r}"}), 400
    if len(body) > 1:
        return jsonify(errors={"body": "give one of epochs or batches, not both"}), 400
    unit, count = next(iter(body.items()), ("epochs", 1))
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100_000:
        return jsonify(errors={unit: "must be a whole number from 1 to 100000"}), 400
    return _control(run_id, "step", unit, count)


@api.errorhandler(404)
def not_found(_error: Exception) -> Any:
    return jsonify(error="not found"), 404


@api.app_errorhandler(StorageUnavailable)
def storage_unavailable(error: StorageUnavailable) -> Any:
    """A write the database refused (locked past its busy timeout, read-only, away): 503
    ``{error, reason}`` with Retry-After; what needed it did not happen (e.g. no run created)."""
    answer = jsonify(error=str(error), reason=error.reason)
    return answer, 503, {"Retry-After": str(error.retry_after)}


@api.app_errorhandler(ShuttingDown)
def shutting_down(error: ShuttingDown) -> Any:
    """A new run while the server shuts down (SIGTERM): 503 ``{error}`` with Retry-After."""
    return jsonify(error=str(error)), 503, {"Retry-After": "5"}


@api.errorhandler(405)
def method_not_allowed(_error: Exception) -> Any:
    return jsonify(error="method not allowed"), 405
