"""Shared fixtures: a real Backprop Studio server on 127.0.0.1 and a free port.

`live_server` gives a fresh server per test; `module_live_server` one shared by a test module;
`make_live_server(config)` starts one with a config of your choice (several per test if you like);
`running_server(config)` is the context manager behind them, for fixtures of another scope:

    @pytest.fixture(scope="module")
    def server():
        with running_server({"MAX_ACTIVE_RUNS": 2}) as live:
            yield live

The server is Werkzeug's threaded server in a background thread (real HTTP and websockets, the
same stack as `python -m app`); on exit every run is stopped and the server shut down cleanly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
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


@pytest.fixture
def make_live_server() -> Iterator[Callable[..., LiveServer]]:
    """Factory fixture: `make_live_server({"MAX_ACTIVE_RUNS": 1})` -> a started `LiveServer`."""
    with ExitStack() as servers:  # keeps each server's context alive until the test ends

        def make(config: dict[str, Any] | None = None) -> LiveServer:
            return servers.enter_context(running_server(config))

        yield make


@pytest.fixture
def live_server(make_live_server: Callable[..., LiveServer]) -> LiveServer:
    """A fresh server with the default config, stopped after the test."""
    return make_live_server()


@pytest.fixture(scope="module")
def module_live_server() -> Iterator[LiveServer]:
    """A server with the default config shared by the tests of one module."""
    with running_server() as live:
        yield live


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stored_server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[LiveServer]:
    """A server storing its runs in SQLite, then (a second parameter) PostgreSQL, shared by the
    tests of one module; history written every 0.2 s."""
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path_factory.mktemp('db') / 'runs.sqlite3'}"
    else:
        import postgres_helpers

        database = postgres_helpers.database_url()
    with running_server({"DATABASE_URL": database, "RECORD_INTERVAL": 0.2}) as live:
        yield live
