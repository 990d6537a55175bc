"""Replay in scaled mode (issue 28): the worker keeps the film and writes it with its
checkpoints; another web process than the one that created the run lists its stored epochs and
draws its views. redis-server, PostgreSQL, two web processes and a worker, started here.

Skipped without redis-server unless ``REQUIRE_REDIS=1`` (CI), which makes it fail instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests
from cluster_helpers import scaled_cluster
from server_helpers import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    yield from scaled_cluster(tmp_path_factory, 2, 1, "replay-scaled")


def test_a_scaled_run_keeps_its_film_and_another_web_process_replays_it(cluster):
    web_a, web_b = cluster.urls
    answer = requests.post(f"{web_a}/api/runs", json={"task": "sin", "samples": 200,
                                                      "epochs": 200}, timeout=30)  # fmt: skip
    assert answer.status_code == 201, answer.text
    run_id = answer.json()["id"]

    def finished_with_film() -> list[int] | None:
        status = requests.get(f"{web_b}/api/runs/{run_id}", timeout=30).json()
        if status.get("status") != "finished":
            return None
        epochs = requests.get(f"{web_b}/api/runs/{run_id}/frames", timeout=30).json()["epochs"]
        return epochs if epochs and epochs[-1] == 200 else None

    epochs = wait_until(finished_with_film, timeout=90, what="the finished run's film")
    assert epochs[:10] == list(range(1, 11)) and len(epochs) <= 150
    first = requests.get(f"{web_b}/api/runs/{run_id}/view", params={"epoch": 1}, timeout=30)
    last = requests.get(f"{web_a}/api/runs/{run_id}/view", params={"epoch": 200}, timeout=30)
    assert first.status_code == last.status_code == 200
    assert first.json()["epoch"] == 1 and last.json()["epoch"] == 200
    assert first.json()["prediction"]["y"] != last.json()["prediction"]["y"]
    assert last.json()["inside"]["neurons"]
