"""Backprop Studio web app: REST API, pages and live training streams over Socket.IO.

`create_app(config)` builds everything (no work at import time): the Flask app, its `SocketIO`
(threading mode, reachable as ``app.extensions["socketio"]``) and the run manager that trains
networks in background tasks (``app.extensions["runs"]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_CONFIG: dict[str, Any] = {
    "MAX_ACTIVE_RUNS": 4,  # runs training at once; later ones wait as "queued"
    "FRAME_INTERVAL": 0.05,  # seconds between two frames of one run to one client (≤ 20/s)
    "ACK_TIMEOUT": 2.0,  # a client that has not acked its last frame for this long gets the next
    "PING_INTERVAL": 25,  # Engine.IO ping interval in seconds (tests lower it)
    "TESTING": False,
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides `DEFAULT_CONFIG` (MAX_ACTIVE_RUNS, FRAME_INTERVAL, ...)."""
    from .api import api
    from .pages import pages
    from .runs import RunManager
    from .sockets import register_socket_events

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(DEFAULT_CONFIG)
    if config:
        app.config.update(config)
    app.json.sort_keys = False

    socketio = SocketIO(
        app, async_mode="threading", ping_interval=float(app.config["PING_INTERVAL"])
    )
    manager = RunManager(
        socketio,
        max_active_runs=int(app.config["MAX_ACTIVE_RUNS"]),
        frame_interval=float(app.config["FRAME_INTERVAL"]),
        ack_timeout=float(app.config["ACK_TIMEOUT"]),
    )
    app.extensions["runs"] = manager

    app.register_blueprint(pages)
    app.register_blueprint(api)
    register_socket_events(socketio, manager)
    return app
