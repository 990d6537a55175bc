"""Socket.IO events: `watch` / `unwatch` a run; the run manager sends snapshot, frame and done."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import SocketIO, emit, join_room, leave_room

from .runs import RunManager


def register_socket_events(socketio: SocketIO, manager: RunManager) -> None:
    """Attach the handlers of the default namespace."""

    @socketio.on("watch")
    def watch(message: Any) -> None:
        run_id = message.get("run_id") if isinstance(message, dict) else None
        run = manager.get(run_id)
        if run is None:
            emit("error", {"run_id": run_id, "message": f"unknown run {run_id!r}"})
            return
        join_room(f"run:{run.id}")
        manager.watch(run, request.sid)

    @socketio.on("unwatch")
    def unwatch(message: Any) -> None:
        run_id = message.get("run_id") if isinstance(message, dict) else None
        run = manager.get(run_id)
        if run is not None:
            leave_room(f"run:{run.id}")
            manager.unwatch(run, request.sid)

    @socketio.on("disconnect")
    def disconnect(*_args: Any) -> None:
        manager.disconnect(request.sid)
