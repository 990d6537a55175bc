"""Socket.IO events: `watch` / `unwatch` a run; the broadcaster sends snapshot, frame and done."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import SocketIO, emit

from .manager import RunManager


def register_socket_events(socketio: SocketIO, manager: RunManager) -> None:
    """Attach the handlers of the default namespace."""
    broadcaster = manager.broadcaster

    @socketio.on("watch")
    def watch(message: Any) -> None:
        run_id = message.get("run_id") if isinstance(message, dict) else None
        run = manager.get(run_id)
        if run is None:
            emit("error", {"run_id": run_id, "message": f"unknown run {run_id!r}"})
            return
        broadcaster.watch(run, request.sid)

    @socketio.on("unwatch")
    def unwatch(message: Any) -> None:
        run_id = message.get("run_id") if isinstance(message, dict) else None
        if isinstance(run_id, str):
            broadcaster.unwatch(run_id, request.sid)

    @socketio.on("disconnect")
    def disconnect(*_args: Any) -> None:
        broadcaster.disconnect(request.sid)
