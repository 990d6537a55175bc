"""Waiting in tests, in one place: on a condition (`wait_until`), never for a guessed time; and,
where what must NOT happen is the point (a paused run stays paused), for a stated time while
checking all along (`holds`). Both look every `LOOK` seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

LOOK = 0.02  # seconds between two looks


def wait_until(condition: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Ask `condition()` every `LOOK` s until it answers something truthy, and return that;
    fail (AssertionError naming `what`) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(LOOK)


def holds(condition: Callable[[], Any], seconds: float, what: str = "") -> None:
    """Assert that `condition()` is truthy at every look for `seconds` of real time (what must
    not happen needs time to pass to be seen not happening)."""
    deadline = time.monotonic() + seconds
    while True:
        assert condition(), f"{what or condition} stopped holding"
        if time.monotonic() > deadline:
            return
        time.sleep(LOOK)
