"""Shared fixtures: a real Backprop Studio server on 127.0.0.1 and a free port.

`live_server` gives a fresh server per test; `module_live_server` one shared by a test module;
`make_live_server(config)` starts one with a config of your choice (several per test if you like);
`running_server(config)` (tests/live_server.py) is the context manager behind them, for fixtures
of another scope; `stored_database` / `stored_server` a database (SQLite, then PostgreSQL) and a
server storing its runs there, per module:

    @pytest.fixture(scope="module")
    def server():
        with running_server({"MAX_ACTIVE_RUNS": 2}) as live:
            yield live

The server is Werkzeug's threaded server in a background thread (real HTTP and websockets, the
same stack as `python -m app`); on exit every run is stopped and the server shut down cleanly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from live_server import LiveServer, running_server


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
def stored_database(request: pytest.FixtureRequest, tmp_path_factory: Any) -> str:
    """A database URL for one test module: an SQLite file, then (a second parameter) PostgreSQL
    (tests/postgres_helpers.py; a restarted server may open it again)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'runs.sqlite3'}"
    import postgres_helpers

    return postgres_helpers.database_url()


@pytest.fixture(scope="module")
def stored_server(stored_database: str) -> Iterator[LiveServer]:
    """A server storing its runs in `stored_database`, shared by the tests of one module;
    history written every 0.2 s."""
    with running_server({"DATABASE_URL": stored_database, "RECORD_INTERVAL": 0.2}) as live:
        yield live
