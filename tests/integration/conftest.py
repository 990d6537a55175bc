"""Fixtures of the server tests (helpers live in server_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from server_helpers import Watcher


@pytest.fixture
def watcher(live_server: Any) -> Iterator[Callable[..., Watcher]]:
    """Factory of connected `Watcher`s on `live_server`; all disconnected after the test."""
    made: list[Watcher] = []

    def make(frame_delay: float = 0.0, url: str | None = None) -> Watcher:
        client = Watcher(url or live_server.url, frame_delay=frame_delay)
        made.append(client)
        return client

    yield make
    for client in made:
        client.disconnect()


@pytest.fixture(scope="module")
def server(module_live_server: Any) -> Any:
    """One server for the test module: its runs are independent of each other."""
    return module_live_server


@pytest.fixture
def client(server: Any) -> Iterator[Watcher]:
    """A connected `Watcher` on the module's `server`, disconnected after the test."""
    watcher = Watcher(server.url)
    yield watcher
    watcher.disconnect()
