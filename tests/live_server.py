"""A real Backprop Studio server on 127.0.0.1 and a free port, for tests: `running_server(config)`
(a context manager) and the `LiveServer` it yields. The fixtures in tests/conftest.py build on it;
a test module that needs a server of its own scope imports it from here."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app


@dataclass
class LiveServer:
    """A running server: `url` is "http://127.0.0.1:<port>"."""

    app: Flask
    host: str
    port: int
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop every run, then the server; idempotent."""
        if not self.thread.is_alive():
            return
        self.app.extensions["runs"].shutdown()
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.app.extensions["socketio"].server.shutdown()  # Engine.IO's service task
        self.server.server_close()


@contextmanager
def running_server(config: dict[str, Any] | None = None) -> Iterator[LiveServer]:
    """Serve `create_app(config)` on 127.0.0.1 and a free port for the duration of the block."""
    app = create_app({"TESTING": True, **(config or {})})
    host = "127.0.0.1"
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    live = LiveServer(app=app, host=host, port=server.port, server=server, thread=thread)
    try:
        yield live
    finally:
        live.stop()
