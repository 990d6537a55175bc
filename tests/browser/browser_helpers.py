"""Helpers shared by the browser tests: open the dashboard, wait for a run status, read the API."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from waiting import wait_until


def open_dashboard(page: Any, path: str, full_speed: bool = True) -> None:
    """Go to `path` and wait until the dashboard has picked its task.

    `full_speed` (the default) adds ``speed=full`` to the query, so runs started from the page
    train at full speed instead of the page's watchable auto pace (~15 s a run): tests where
    the pace is not the point need not wait.
    """
    if full_speed and "speed=" not in path and "run=" not in path:
        path += ("&" if "?" in path else "?") + "speed=full"
    page.goto(path)
    page.wait_for_function("window.studio && window.studio?.state.task !== null")


def wait_status(page: Any, *statuses: str, timeout: float = 30_000) -> None:
    """Wait (up to `timeout` ms) until the status line shows one of `statuses`."""
    page.wait_for_function(
        "statuses => statuses.includes(document.getElementById('status').dataset.status)",
        arg=list(statuses),
        timeout=timeout,
    )


def get_json(server: Any, path: str) -> Any:
    """GET `path` on the live server and decode its JSON answer."""
    with urllib.request.urlopen(server.url + path, timeout=10) as response:
        return json.load(response)


def ended_run(server: Any, config: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """POST a run `config`, wait (polling every 20 ms, up to `timeout` s) until it has ended;
    its status document."""
    request = urllib.request.Request(
        server.url + "/api/runs", data=json.dumps(config).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        run_id = json.load(response)["id"]
    ended = poll(lambda: (s := get_json(server, f"/api/runs/{run_id}"))["status"]
                 not in ("queued", "running", "paused") and s, timeout, f"run {run_id} to end")
    return ended


def poll(condition: Any, timeout: float, what: str) -> Any:
    """Ask `condition()` until it answers something truthy (returned); fail after `timeout` s
    naming `what` was waited for (`waiting.wait_until`)."""
    return wait_until(condition, timeout, what)
