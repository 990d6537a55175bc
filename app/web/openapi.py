"""The OpenAPI 3.1 description of the REST API, served at ``GET /api/openapi.json``.

Request bodies come from the declarations validation uses: the run config is
`run_config_json_schema` itself (its ``$defs`` moved to ``components/schemas``),
the body of ``PATCH /api/runs/{run_id}`` is the same schema's properties of the steerable fields
(those marked `app.config.schema.LIVE`), that of ``POST /api/preview`` its properties of
`app.data.previews.PREVIEW_FIELDS`. The paths are the app's own URL rules under ``/api/``: a
route without a description here is listed under ``x-undescribed`` and fails the tests, so the
document cannot silently fall behind the API.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask

from app.config.schema import FIELDS, JSON_SCHEMA_DIALECT, LIVE, OPTIMIZERS_USING, RunConfig
from app.data.previews import PREVIEW_FIELDS
from app.data.tasks import CUSTOM_ID, DATASET_PREFIX, app_tasks
from app.runs.control import STATUSES as RUN_STATUSES
from app.sweeps.spec import AXES, MAX_RUNS, MAX_SEEDS, RANGES

OBJECT: dict[str, Any] = {"type": "object"}
ERRORS = {  # 400 (and 415) of a body: one message per field
    "type": "object",
    "required": ["errors"],
    "properties": {"errors": {"type": "object", "additionalProperties": {"type": "string"}}},
}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
STATUSES = list(RUN_STATUSES)
RUN_STATUS = {
    "type": "object",
    "required": ["id", "task", "status", "epoch", "epochs", "config"],
    "properties": {
        "id": {"type": "string"},
        "task": {"type": "string"},
        "status": {"enum": STATUSES},
        "epoch": {"type": "integer", "minimum": 0},
        "epochs": {"type": "integer", "minimum": 1},
        "train_loss": {"type": ["number", "null"]},
        "test_loss": {"type": ["number", "null"]},
        "elapsed": {"type": ["number", "null"]},
        "queue_position": {"type": ["integer", "null"]},
        "reason": {"type": ["string", "null"]},
        "warnings": {"type": "array"},
        "config": OBJECT,
    },
}
CONTROL = {
    "type": "object",
    "required": ["id", "status", "epoch"],
    "properties": {
        "id": {"type": "string"},
        "status": {"enum": STATUSES},
        "epoch": {"type": "integer", "minimum": 0},
    },
}
CONFLICT = {"type": "object", "required": ["status", "error"], "properties": ERROR["properties"]}
STEP = {
    "type": "object",
    "description": "Train this many more epochs or mini-batches while paused (default 1 epoch).",
    "properties": {
        "epochs": {"type": "integer", "minimum": 1, "maximum": 100_000},
        "batches": {"type": "integer", "minimum": 1, "maximum": 100_000},
    },
    "additionalProperties": False,
    "maxProperties": 1,
}
DATASET = {
    "type": "object",
    "required": ["id", "kind", "inputs", "n_rows"],
    "properties": {
        "id": {"type": "string"},
        "kind": {"enum": ["regression", "classification"]},
        "inputs": {"type": "integer"},
        "n_rows": {"type": "integer"},
    },
}
UPLOAD = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}},
}
MNIST_UPLOAD = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "MNIST's four IDX files (train and t10k images and labels)",
        }
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DOCUMENT_OPERATIONS = {
    "api.tasks GET": {"summary": "Every task with its defaults",
                      "responses": {"200": _json({"type": "array"}, "the tasks")}},
    "api.schema GET": {"summary": "The run config as JSON Schema",
                       "responses": {"200": _json(OBJECT, "a JSON Schema")}},
    "api.openapi GET": {"summary": "This document",
                        "responses": {"200": _json(OBJECT, "an OpenAPI document")}},
}  # fmt: skip


def _body(schema: dict[str, Any], required: bool = True, media: str = "application/json") -> dict:
    return {"required": required, "content": {media: {"schema": schema}}}


BAD_BODY = _json(ERRORS, "a bad field or body, one message per field")
NOT_JSON = _json(ERRORS, "the body is not application/json")
TOO_LARGE = _json(ERROR, "the body is over the size limit")
UNKNOWN = _json(ERROR, "unknown id")
ENDED = _json(CONFLICT, "the run cannot do this in its status (e.g. it has ended)")


def _query(name: str, kind: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}}


def _control(summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "responses": {
            "200": _json(CONTROL, "the run's status after the request"),
            "404": UNKNOWN,
            "409": ENDED,
            "415": NOT_JSON,
        },  # fmt: skip
    }


def run_config_json_schema() -> dict[str, Any]:
    """The run config as JSON Schema (draft 2020-12), served by ``GET /api/schema``.

    Every limit the server enforces is there (``minimum``, ``maximum``, ``exclusiveMinimum``,
    ``exclusiveMaximum``, ``maxItems``), the choices as ``enum``s, each field's default and a
    ``description``. Limits that depend on other fields are given in words (batch size at most
    the samples, ``lo < hi``) or by `CLASSIFICATION_MAXIMUM` (noise of classification tasks).
    """
    schema = RunConfig.model_json_schema()
    properties = schema["properties"]
    properties["task"]["anyOf"] = [
        {"enum": [*app_tasks(), CUSTOM_ID]},
        {"pattern": f"^{DATASET_PREFIX}[A-Za-z0-9_-]+$"},
    ]
    # task first, then what it trains on, then the declaration order
    ordered = {name: properties[name] for name in ("task", "expression")}
    ordered.update((name, properties[name]) for name in FIELDS)
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": "/api/schema",
        "title": "Run config",
        "description": (
            "The body of POST /api/runs. Every field but task has a default: the task's own "
            "(see defaults in /api/tasks), else the default given here."
        ),
        "type": "object",
        "properties": ordered,
        "required": ["task"],
        "additionalProperties": False,
        "$defs": schema.get("$defs", {}),  # the object forms of schedule
    }


def _run_config_components() -> tuple[dict[str, Any], dict[str, Any]]:
    """The run config schema and its ``$defs``, with references pointing into components."""
    schema = copy.deepcopy(run_config_json_schema())
    definitions = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        if isinstance(value, str) and value.startswith("#/$defs/"):
            return "#/components/schemas/" + value[len("#/$defs/") :]
        return value

    return rewrite(schema), rewrite(definitions)


def _operations(run_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every operation of the API by Flask endpoint and method."""
    properties = run_config["properties"]
    steerable = {name: field for name, field in properties.items() if field.get(LIVE)}
    preview = {"type": "object", "required": ["task"],
               "properties": {name: properties[name] for name in PREVIEW_FIELDS}}  # fmt: skip
    changes = {"type": "object", "minProperties": 1, "additionalProperties": False,
               "properties": steerable}  # fmt: skip
    created = {"type": "object", "required": ["id", "config", "status"],
               "properties": {"id": {"type": "string"}, "config": OBJECT,
                              "status": {"enum": STATUSES}}}  # fmt: skip
    too_many = _json(ERROR, "too many unfinished runs; retry later")
    too_many["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return {
        **DOCUMENT_OPERATIONS,
        "api.list_runs GET": {"summary": "Every known run (filters, sort and paging)",
                              "parameters": [_query(name, "string") for name in
                                             ("task", "status", "sort")]
                                            + [_query("limit", "integer"),
                                               _query("offset", "integer")],
                              "responses": {"200": _json({"type": "array", "items": RUN_STATUS},
                                                         "their statuses"),
                                            "400": BAD_BODY}},
        "api.create_run POST": {
            "summary": "Start a run",
            "requestBody": _body({"$ref": "#/components/schemas/RunConfig"}),
            "responses": {"201": _json(created, "the run, queued (or failed to start)"),
                          "400": BAD_BODY, "413": TOO_LARGE, "415": NOT_JSON,
                          "429": too_many},
        },
        "api.preview POST": {
            "summary": "A task's target or points before training",
            "requestBody": _body(preview),
            "responses": {"200": _json(OBJECT, "the preview"), "400": BAD_BODY,
                          "413": TOO_LARGE, "415": NOT_JSON},
        },
        **_upload_operations(),
        "api.get_run GET": {"summary": "One run's status",
                            "responses": {"200": _json(RUN_STATUS, "the status"),
                                          "404": UNKNOWN}},
        "api.change_run PATCH": {
            "summary": "Change a running run's steerable fields",
            "description": (f"The run config's fields marked {LIVE}; a field marked "
                            f"{OPTIMIZERS_USING} only on runs of those optimizers."),
            "requestBody": _body(changes),
            "responses": {"200": _json({"type": "object", "required": ["id", "config"]},
                                       "the run's config now"),
                          "400": BAD_BODY, "404": UNKNOWN, "409": ENDED, "415": NOT_JSON},
        },
        "api.pause_run POST": _control("Pause a run"),
        "api.resume_run POST": _control("Resume a paused run"),
        "api.stop_run POST": _control("Stop a run"),
        "api.step_run POST": {
            **_control("Train a paused run a few epochs or mini-batches"),
            "requestBody": _body(STEP, required=False),
            "responses": {**_control("")["responses"], "400": BAD_BODY},
        },
        **_storage_operations(created, too_many),
        **_backprop_operations(),
        **_sweep_operations(),
    }  # fmt: skip


def _backprop_operations() -> dict[str, Any]:
    """``POST /api/runs/{run_id}/backprop`` (app/backprop, docs/backprop.md)."""
    numbers = {"type": "array", "items": {"type": "number"}}
    body = {"type": "object", "maxProperties": 3, "properties": {
        "epoch": {"type": "integer", "minimum": 0, "description": "a past epoch (the stored one "
                  "nearest): its weights, a fresh optimizer; with a sample, not with batch"},
        "index": {"type": "integer", "minimum": 0, "description": "a training sample"},
        "near": {**numbers, "description": "the training sample nearest this plotted point"},
        "x": {**numbers, "description": "a point's raw inputs (with y: its target)"},
        "y": {"description": "the point's target (task units) or class label"},
        "batch": {"const": True, "description": "the next mini-batch"}}}  # fmt: skip
    answer = {"type": "object", "required": ["input", "target", "loss", "layers"],
              "properties": {"layers": {"type": "array", "items": OBJECT}}}  # fmt: skip
    return {
        "backprop_api.run_backprop POST": {
            "summary": "One forward and backward pass with every number, and the next update",
            "requestBody": _body(body),
            "responses": {"200": _json(answer, "the pass, in float64"), "400": BAD_BODY,
                          "404": UNKNOWN, "409": ENDED},
        },
    }  # fmt: skip


def _sweep_operations() -> dict[str, dict[str, Any]]:
    """The sweep routes (app/sweeps/api.py; the body: app/sweeps/spec.py)."""
    values = {"oneOf": [{"type": "array", "minItems": 1}, {
        "type": "object", "minProperties": 1, "maxProperties": 1,
        "properties": {kind: {"type": "array", "minItems": 2, "maxItems": 2} for kind in RANGES},
        "additionalProperties": False}]}  # fmt: skip
    body = {"type": "object", "required": ["base", "vary"], "additionalProperties": False,
            "properties": {
                "base": {"$ref": "#/components/schemas/RunConfig"},
                "vary": {"type": "object", "minProperties": 1, "additionalProperties": False,
                         "properties": dict.fromkeys(AXES, values)},
                "seeds": {"type": "integer", "minimum": 1, "maximum": MAX_SEEDS},
                "mode": {"enum": ["grid", "random"]},
                "count": {"type": "integer", "minimum": 1, "maximum": MAX_RUNS},
                "early_stop": {"enum": ["halving", None]}}}  # fmt: skip
    sweep = _json(OBJECT, "the sweep: {id, config, status, created, ended, total, counts, runs}")
    one = {"responses": {"200": sweep, "404": UNKNOWN}}
    return {
        "sweeps_api.create_sweep POST": {
            "summary": f"Start a sweep (at most {MAX_RUNS} runs)", "requestBody": _body(body),
            "responses": {"201": _json(OBJECT, "{id, runs}: the run count"), "400": BAD_BODY,
                          "413": TOO_LARGE, "415": NOT_JSON}},
        "sweeps_api.list_sweeps GET": {"summary": "Every sweep, newest first",
                                       "responses": {"200": _json({"type": "array"}, "sweeps")}},
        "sweeps_api.get_sweep GET": {"summary": "A sweep and its runs", **one},
        "sweeps_api.stop_sweep POST": {"summary": "Stop a sweep and every run of it", **one},
        "sweeps_api.delete_sweep DELETE": {"summary": "Delete a sweep and its runs", **one},
        "sweeps_api.sweep_results GET": {
            "summary": "One row per run: the axes, seed, params, losses, accuracies, epochs, "
                       "seconds", "parameters": [_query("format", "string")],
            "responses": {"200": _json(OBJECT, "{columns, rows} (format=json) or CSV"),
                          "400": BAD_BODY, "404": UNKNOWN}},
    }  # fmt: skip


def _upload_operations() -> dict[str, Any]:
    """The operations that take files (multipart) and the datasets they make."""
    too_many = _json(ERROR, "the requester keeps as many uploads as one owner may (with a "
                            "token): delete one of theirs")  # fmt: skip
    too_many["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return {
        "api.upload_dataset POST": {
            "summary": "Upload a CSV dataset",
            "requestBody": _body(UPLOAD, media="multipart/form-data"),
            "responses": {"201": _json(DATASET, "the dataset's summary"),
                          "400": BAD_BODY, "409": BAD_BODY, "415": NOT_JSON, "429": too_many},
        },
        "api.list_datasets GET": {"summary": "The stored uploads, their sizes and limits",
                                  "responses": {"200": _json(OBJECT, "the uploads")}},
        "api.delete_dataset DELETE": {
            "summary": "Forget an upload (refused while runs of it are unfinished)",
            "responses": {"200": _json(OBJECT, "deleted"), "404": UNKNOWN,
                          "403": _json(ERROR, "someone else's upload (with a token)"),
                          "409": _json(ERROR, "runs of it are unfinished")},
        },
        "api.upload_mnist POST": {
            "summary": "Upload MNIST's four IDX files: the task mnist",
            "requestBody": _body(MNIST_UPLOAD, media="multipart/form-data"),
            "responses": {"201": _json({"type": "object", "required": ["task"]}, "the task"),
                          "400": BAD_BODY, "413": TOO_LARGE,
                          "403": _json(OBJECT, "mnist is offered: only the admin replaces it")},
        },
        "api.get_dataset GET": {"summary": "An uploaded dataset's summary",
                                "responses": {"200": _json(DATASET, "the summary"),
                                              "404": UNKNOWN}},
    }  # fmt: skip


def _storage_operations(created: dict[str, Any], too_many: dict[str, Any]) -> dict[str, Any]:
    """The operations on stored runs (app/web/runs_api.py)."""
    return {
        "runs_api.delete_run DELETE": {"summary": "Stop and forget a run and its stored data",
                                       "responses": {"200": _json(OBJECT, "deleted"),
                                                     "404": UNKNOWN}},
        "runs_api.run_history GET": {
            "summary": "A run's whole history (format json or csv)",
            "parameters": [_query("format", "string")],
            "responses": {"200": {"description": "the history",
                                  "content": {"application/json": {"schema": OBJECT},
                                              "text/csv": {"schema": {"type": "string"}}}},
                          "400": BAD_BODY, "404": UNKNOWN},
        },
        "runs_api.run_model GET": {
            "summary": "A run's saved model (format npz, json or torch)",
            "parameters": [_query("format", "string")],
            "responses": {"200": {"description": "the model",
                                  "content": {"application/octet-stream": {},
                                              "application/json": {"schema": OBJECT},
                                              "text/x-python": {}}},
                          "400": BAD_BODY, "404": UNKNOWN,
                          "409": _json(ERROR, "no saved weights yet")},
        },
        "runs_api.run_meta PATCH": {
            "summary": "Rename a run or change its notes",
            "requestBody": _body({"type": "object", "properties": {
                "name": {"type": "string"}, "notes": {"type": "string"}}}),
            "responses": {"200": _json(OBJECT, "the run's name and notes"), "400": BAD_BODY,
                          "404": UNKNOWN, "415": NOT_JSON},
        },
        "runs_api.continue_run POST": {
            "summary": "A new run from this ended run's saved weights",
            "requestBody": _body({"type": "object", "properties": {
                "epochs": {"type": "integer", "minimum": 1, "maximum": 100_000}}},
                required=False),
            "responses": {"201": _json(created, "the new run"), "400": BAD_BODY,
                          "404": UNKNOWN, "409": _json(ERROR, "not ended or no weights"),
                          "415": NOT_JSON, "429": too_many},
        },
    }  # fmt: skip


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`'s REST API (every URL rule under ``/api/``).

    A route this module does not describe is listed under ``x-undescribed`` (the tests require
    that list to be empty) rather than failing the whole document.
    """
    run_config, definitions = _run_config_components()
    operations = _operations(run_config)
    operations.update(app.extensions.get("openapi_operations", {}))  # e.g. app.replay.api's
    paths: dict[str, dict[str, Any]] = {}
    undescribed: list[str] = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            key = f"{rule.endpoint} {method}"
            if key not in operations:
                undescribed.append(f"{method} {rule.rule}")
                continue
            operation = copy.deepcopy(operations[key])
            operation["operationId"] = rule.endpoint.split(".")[-1]
            if rule.arguments:
                operation["parameters"] = operation.get("parameters", []) + [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in sorted(rule.arguments)
                ]
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Backprop Studio API",
            "version": "1",
            "description": "Train small neural networks and watch them learn. Live streams are "
            "Socket.IO events (watch, snapshot, frame, done), not described here.",
        },
        "paths": paths,
        "components": {"schemas": {"RunConfig": run_config, **definitions}},
        "x-undescribed": undescribed,
    }
