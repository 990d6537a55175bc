"""A paused run nobody watches ends after a while, in both modes (docs/security.md, the queue):
it is stopped with a reason that says why, its place among the unfinished runs is free again,
Continue goes on from its weights, and a paused run that a page watches stays paused.

The wait is 1 s here (the default is 10 min); the scaled half is skipped without redis-server
unless ``REQUIRE_REDIS=1`` (CI).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cluster_helpers import scaled_cluster
from server_helpers import Watcher, wait_until
from waiting import holds

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from live_server import running_server  # noqa: E402

pytestmark = pytest.mark.timeout(240)

PACED = {"task": "sin", "samples": 200, "epochs": 5000, "epochs_per_second": 25}


@pytest.fixture(scope="module", params=["embedded", "scaled"])
def url(request: Any, tmp_path_factory: Any) -> Iterator[str]:
    """A server where at most 2 runs may be unfinished and a paused run unwatched for ~1 s
    stops (scaled: one web process, two workers: a paused run keeps its worker)."""
    if request.param == "embedded":
        config = {"MAX_ACTIVE_RUNS": 2, "MAX_UNFINISHED_RUNS": 2, "UNWATCHED_PAUSE_SECONDS": 1.0}
        with running_server(config) as live:
            yield live.url
        return
    web_args = ("--max-unfinished-runs", "2", "--unwatched-pause-minutes", "0.02")
    for cluster in scaled_cluster(tmp_path_factory, 1, 2, "unwatched", web_args=web_args):
        yield cluster.urls[0]


def create(url: str, **config: Any) -> requests.Response:
    return requests.post(f"{url}/api/runs", json={**PACED, **config}, timeout=30)


def status(url: str, run_id: str) -> dict:
    return requests.get(f"{url}/api/runs/{run_id}", timeout=30).json()


def test_a_paused_run_nobody_watches_is_stopped_and_frees_its_place(url: str) -> None:
    left, watched = (create(url).json()["id"] for _ in range(2))
    for run_id in (left, watched):
        wait_until(lambda run_id=run_id: status(url, run_id)["epoch"] >= 2, 60, "two epochs")
    assert create(url).status_code == 429  # two unfinished runs: the most at once
    watcher = Watcher(url)
    try:
        watcher.watch(watched)
        watcher.wait_for(lambda w: w.of("snapshot", watched))
        for run_id in (left, watched):
            answer = requests.post(f"{url}/api/runs/{run_id}/pause", timeout=30)
            assert answer.json()["status"] == "paused"
        ended = wait_until(lambda: (s := status(url, left))["status"] == "stopped" and s, 60,
                           "the unwatched paused run to stop")  # fmt: skip
        assert ended["reason"].startswith(f"stopped at epoch {ended['epoch']}: paused with "
                                          "nobody watching for")  # fmt: skip
        # paused as long as `left`: were watching not to count, it would stop within a second
        holds(lambda: status(url, watched)["status"] == "paused", 3.0, "the watched run paused")
        third = create(url)
        assert third.status_code == 201, third.text  # the abandoned run's place is free again
        requests.post(f"{url}/api/runs/{third.json()['id']}/stop", timeout=30)
        go_on = requests.post(f"{url}/api/runs/{left}/continue", json={"epochs": 3}, timeout=30)
        assert go_on.status_code == 201, go_on.text  # its weights were kept
        requests.post(f"{url}/api/runs/{go_on.json()['id']}/stop", timeout=30)
    finally:
        watcher.disconnect()
        requests.post(f"{url}/api/runs/{watched}/stop", timeout=30)
