"""Bounded connections (issue 24, point 8): what abandoned long-polling watchers hold has one
ceiling for the whole server (`MAX_UNSENT_TOTAL`), and a closed websocket's threads end within
seconds instead of at its next ping (benchmarks/connections.py measures both at scale)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import requests
from server_helpers import start_run, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from connections import abandoned_watcher, closed_websocket  # noqa: E402

CAP = 2 * 2**20


def test_closed_websockets_leave_no_threads_behind(live_server):
    before = threading.active_count()
    for _ in range(100):
        closed_websocket(live_server.url)
    wait_until(lambda: threading.active_count() <= before + 5, timeout=15, what="threads end")


def test_abandoned_polling_watchers_hold_at_most_the_total_cap(make_live_server):
    server = make_live_server({"MAX_UNSENT_TOTAL": CAP, "DATABASE_URL": "none"})
    outbox = server.app.extensions["runs"].broadcaster.outbox
    run_id = start_run(server, task="sin", epochs=100_000, samples=2000)
    wait_until(lambda: requests.get(f"{server.url}/api/runs/{run_id}").json()["epoch"] >= 2)
    largest = 0
    for _ in range(40):
        abandoned_watcher(server.url, run_id)
        held = sum(outbox._unsent_by_connection().values())
        largest = max(largest, held)
    snapshot = len(json.dumps(requests.get(f"{server.url}/api/runs/{run_id}").json()))
    wait_until(lambda: outbox.dropped > 0, what="abandoned watchers dropped")
    assert largest <= CAP + 2**20 + snapshot, largest
    requests.post(f"{server.url}/api/runs/{run_id}/stop", timeout=10)
