"""REST calls of replay (issue 28).

| call | answer |
|---|---|
| ``GET /api/runs/<id>/frames`` | ``{epochs: [...]}``: the stored epochs, increasing |
| ``GET /api/runs/<id>/view?epoch=k`` | ``{epoch, prediction, network, inside, ...}`` |
| ``GET /api/runs/<id>/looks`` | ``{looks: [{epoch, layers}]}`` (layers per stored epoch) |

The view is at the stored epoch nearest k (see `app.replay.views`).

``epoch`` is a whole number ≥ 0 (else ``400 {errors: {epoch}}``); an unknown run is ``404``; a
run with no stored epoch yet answers ``409 {error}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from app.replay.views import NoFrames, Replay

replay_api = Blueprint("replay_api", __name__, url_prefix="/api")


def install(app: Any, store: Any) -> None:
    """Give `app` replay: its `Replay` (``app.extensions["replay"]``) and these routes."""
    app.extensions["replay"] = Replay(store)
    app.extensions.setdefault("openapi_operations", {}).update(OPERATIONS)
    app.register_blueprint(replay_api)


def _run_or_404(run_id: str) -> tuple[Any, Any]:
    manager = current_app.extensions["runs"]
    run = manager.get(run_id)
    if run is None:
        return None, (jsonify(error=manager.unknown(run_id)), 404)
    return run, None


def parse_epoch(text: str | None) -> tuple[int | None, str | None]:
    """``(epoch, None)`` for a whole number ≥ 0 written in decimal digits, else ``(None,
    message)``."""
    if text is None:
        return None, "required: a whole number ≥ 0 (the epoch to show)"
    stripped = text.strip()
    if not stripped.isdigit() or not stripped.isascii() or len(stripped) > 12:
        return None, f"must be a whole number ≥ 0, got {text!r}"
    return int(stripped), None


@replay_api.get("/runs/<run_id>/frames")
def run_frames(run_id: str) -> Any:
    """The stored epochs of a run: ``{epochs: [...]}``; 404 for an unknown run."""
    run, failed = _run_or_404(run_id)
    if failed:
        return failed
    return jsonify(epochs=current_app.extensions["replay"].epochs(run))


@replay_api.get("/runs/<run_id>/view")
def run_view(run_id: str) -> Any:
    """The views of a run at the stored epoch nearest ``?epoch=k``: ``{epoch, prediction,
    network, inside, ...}``; 400 for a bad epoch, 404 unknown run, 409 no stored epoch yet."""
    epoch, message = parse_epoch(request.args.get("epoch"))
    if message:
        return jsonify(errors={"epoch": message}), 400
    run, failed = _run_or_404(run_id)
    if failed:
        return failed
    try:
        return jsonify(current_app.extensions["replay"].view(run, epoch))
    except NoFrames as error:
        return jsonify(error=str(error)), 409


@replay_api.get("/runs/<run_id>/looks")
def run_looks(run_id: str) -> Any:
    """The layers card's history from a run's stored epochs: ``{looks: [{epoch, layers}]}``
    (no gradients: a stored epoch keeps weights only); 404 for an unknown run."""
    run, failed = _run_or_404(run_id)
    if failed:
        return failed
    try:
        return jsonify(looks=current_app.extensions["replay"].looks(run))
    except NoFrames as error:  # its data cannot be rebuilt
        return jsonify(error=str(error)), 409


_EPOCH = {"name": "epoch", "in": "query", "required": True,
          "schema": {"type": "integer", "minimum": 0}}  # fmt: skip
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}
_ERRORS = {"type": "object", "properties": {"errors": {"type": "object"}}}


def _answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


OPERATIONS = {  # the OpenAPI description of these routes (`app.web.openapi` adds them)
    "replay_api.run_frames GET": {
        "summary": "The epochs whose weights a run keeps for replay",
        "responses": {
            "200": _answer({"type": "object", "required": ["epochs"], "properties": {
                "epochs": {"type": "array", "items": {"type": "integer"}}}}, "stored epochs"),
            "404": _answer(_ERROR, "unknown run"),
        },
    },  # fmt: skip
    "replay_api.run_view GET": {
        "summary": "A run's views (prediction, network, look inside) at a stored epoch",
        "parameters": [_EPOCH],
        "responses": {
            "200": _answer({"type": "object", "required": ["epoch", "prediction", "network",
                                                           "inside"]}, "the views"),
            "400": _answer(_ERRORS, "a bad epoch"),
            "404": _answer(_ERROR, "unknown run"),
            "409": _answer(_ERROR, "no stored epoch yet"),
        },
    },  # fmt: skip
    "replay_api.run_looks GET": {
        "summary": "A run's layer statistics (weights' histograms) at each stored epoch",
        "responses": {
            "200": _answer({"type": "object", "required": ["looks"], "properties": {
                "looks": {"type": "array", "items": {"type": "object"}}}}, "the looks"),
            "404": _answer(_ERROR, "unknown run"),
            "409": _answer(_ERROR, "the run's data cannot be rebuilt"),
        },
    },  # fmt: skip
}
