"""Socket.IO events: `watch` / `unwatch` a run; the broadcaster sends snapshot, frame and done.

Every event a client sends is checked before it is used: `watch` and `unwatch` take exactly one
argument, an object ``{"run_id": "<id>"}``. Anything else (a missing or extra argument, a bare
string, other fields, an unknown event) is answered with an ``error`` event
``{run_id, message}`` that says what was expected, never an exception in the handler.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import SocketIO, emit

from app.outages import StorageUnavailable
from app.runs.manager import RunManager

log = logging.getLogger(__name__)

EVENTS = ("watch", "unwatch")


def run_id_of(event: str, args: tuple[Any, ...]) -> tuple[str | None, str | None]:
    """(the run id, None) of a well-formed `event`, else (None, what was expected)."""
    expected = f'{event} takes one argument, an object {{"run_id": "<id of a run>"}}'
    if len(args) != 1:
        return None, f"{expected}; got {len(args)} arguments"
    message = args[0]
    if not isinstance(message, dict):
        return None, f"{expected}; got {type(message).__name__} {str(message)[:40]!r}"
    extra = sorted(str(name) for name in message if name != "run_id")
    if extra:
        return None, f"{expected}; unknown field {extra[0][:40]!r}"
    run_id = message.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        return None, f"{expected}; run_id must be a run's id (text)"
    return run_id, None


def _error(message: str, run_id: Any = None) -> None:
    emit("error", {"run_id": run_id if isinstance(run_id, str) else None, "message": message})


def register_socket_events(socketio: SocketIO, manager: RunManager) -> None:
    """Attach the handlers of the default namespace."""
    broadcaster = manager.broadcaster

    @socketio.on("watch")
    def watch(*args: Any) -> None:
        run_id, problem = run_id_of("watch", args)
        if problem:
            _error(problem)
            return
        try:
            run = manager.get(run_id)
        except StorageUnavailable:
            _error("the database is unavailable for now: try again in a few seconds", run_id)
            return
        if run is None:
            _error(manager.unknown(run_id), run_id)
            return
        try:
            broadcaster.watch(run, request.sid)
        except Exception:
            log.exception("streaming run %s to %s failed", run_id, request.sid)
            _error("the server could not stream this run now; try again", run_id)

    @socketio.on("unwatch")
    def unwatch(*args: Any) -> None:
        run_id, problem = run_id_of("unwatch", args)
        if problem:
            _error(problem)
            return
        broadcaster.unwatch(run_id, request.sid)

    @socketio.on("*")
    def unknown(event: Any, *_args: Any) -> None:
        _error(f"unknown event {str(event)[:40]!r}: send watch or unwatch {{\"run_id\": ...}}")

    @socketio.on("disconnect")
    def disconnect(*_args: Any) -> None:
        broadcaster.disconnect(request.sid)
        broadcaster.outbox.release(request.sid)

    @socketio.on_error_default
    def failed(error: Exception) -> None:  # a handler raised: answer, never a traceback
        log.exception("socket event failed: %s", error)
        _error("the server could not handle this event")
