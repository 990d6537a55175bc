"""What the runs list says of each run besides its numbers (the runs page's columns): the seed
(in its config), the sweep that started it, and a learning rate changed live as the whole path
(`lr_changes`: the start, then each change with its epoch), kept in storage, in both modes.

The scaled half is skipped without redis-server unless ``REQUIRE_REDIS=1`` (CI).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cluster_helpers import scaled_cluster
from server_helpers import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from live_server import running_server  # noqa: E402

pytestmark = pytest.mark.timeout(240)

PACED = {"task": "sin", "samples": 100, "epochs": 5000, "epochs_per_second": 40, "lr": 0.05,
         "seed": 7}  # fmt: skip


@pytest.fixture(scope="module", params=["embedded", "scaled"])
def url(request: Any, tmp_path_factory: Any) -> Iterator[str]:
    if request.param == "embedded":
        database = f"sqlite:///{tmp_path_factory.mktemp('db') / 'runs.sqlite3'}"
        with running_server({"DATABASE_URL": database, "RECORD_INTERVAL": 0.2}) as live:
            yield live.url
        return
    for cluster in scaled_cluster(tmp_path_factory, 1, 1, "columns"):
        yield cluster.urls[0]


def status(url: str, run_id: str) -> dict:
    return requests.get(f"{url}/api/runs/{run_id}", timeout=30).json()


def listed(url: str, run_id: str) -> dict:
    entries = requests.get(f"{url}/api/runs", timeout=30).json()
    return next(entry for entry in entries if entry["id"] == run_id)


def test_a_learning_rate_changed_live_is_listed_as_its_whole_path(url: str) -> None:
    run_id = requests.post(f"{url}/api/runs", json=PACED, timeout=30).json()["id"]
    assert listed(url, run_id)["lr_changes"] == [{"epoch": 0, "lr": 0.05}]
    wait_until(lambda: status(url, run_id)["epoch"] >= 3, 60, "three epochs")
    for lr, changes in ((0.1, 2), (0.2, 3)):
        answer = requests.patch(f"{url}/api/runs/{run_id}", json={"lr": lr}, timeout=30)
        assert answer.status_code == 200, answer.text
        # each taken before the next is sent: two changes that reach the training between the
        # same two slices are taken as one (the latter), and only what it trained with is listed
        path = wait_until(lambda n=changes: len(c := status(url, run_id)["lr_changes"]) == n and c,
                          60, f"change {changes - 1} taken")  # fmt: skip
    assert [change["lr"] for change in path] == [0.05, 0.1, 0.2]
    assert 3 <= path[1]["epoch"] <= path[2]["epoch"]  # the epochs completed when each came
    requests.post(f"{url}/api/runs/{run_id}/stop", timeout=30)
    wait_until(lambda: status(url, run_id)["status"] == "stopped", 60, "stopped")
    entry = wait_until(lambda: (e := listed(url, run_id))["lr_changes"] == path and e, 30,
                       "the stored path")  # fmt: skip
    assert entry["config"]["lr"] == 0.2 and entry["config"]["seed"] == 7
    assert entry["sweep"] is None


def test_a_sweep_run_is_listed_with_its_sweep_and_seed(url: str) -> None:
    body = {"base": {"task": "sin", "samples": 60, "epochs": 5}, "vary": {"lr": [0.01]},
            "seeds": 2}  # fmt: skip
    created = requests.post(f"{url}/api/sweeps", json=body, timeout=60)
    assert created.status_code == 201, created.text
    sweep_id = created.json()["id"]

    def its_runs() -> list[dict]:
        entries = requests.get(f"{url}/api/runs", timeout=30).json()
        return [entry for entry in entries if entry["sweep"] == sweep_id]

    runs = wait_until(lambda: len(found := its_runs()) == 2 and found, 60, "the sweep's runs")
    assert sorted(run["config"]["seed"] for run in runs) == [0, 1]
