"""Sweeps in scaled mode (issue 30): redis-server, PostgreSQL, two web processes and two
workers (`app.transports.cluster.Cluster`): a grid finishes with its runs spread over the
workers, every web process answers for it, and a stop through the other web process ends it.

Skipped without redis-server unless ``REQUIRE_REDIS=1`` (CI), which makes it fail instead.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
import requests
from cluster_helpers import scaled_cluster
from server_helpers import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.storage.store import RunStore  # noqa: E402

pytestmark = pytest.mark.timeout(240)

QUICK = {"task": "sin", "samples": 100, "epochs": 40}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    yield from scaled_cluster(tmp_path_factory, 2, 2, "scaled-sweep")


def sweep_of(url: str, sweep_id: str) -> dict:
    answer = requests.get(f"{url}/api/sweeps/{sweep_id}", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_grid_finishes_spread_over_the_workers(cluster):
    first, second = cluster.urls
    body = {"base": QUICK, "vary": {"hidden": [[4], [16, 16]], "lr": [0.01, 0.05]}, "seeds": 3}
    created = requests.post(f"{first}/api/sweeps", json=body, timeout=60)
    assert created.status_code == 201, created.text
    sweep_id = created.json()["id"]
    done = wait_until(lambda: (s := sweep_of(second, sweep_id))["status"] == "finished" and s,
                      120, "the sweep to finish")  # fmt: skip
    assert [run["status"] for run in done["runs"]] == ["finished"] * 12
    text = requests.get(f"{second}/api/sweeps/{sweep_id}/results", params={"format": "csv"},
                        timeout=30).text  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 12
    assert sorted({(row["hidden"], row["lr"]) for row in rows}) == sorted(
        (h, lr) for h in ("[4]", "[16, 16]") for lr in ("0.01", "0.05"))
    store = RunStore(cluster.database)
    owners = {store.summary(run["id"])["owner"] for run in done["runs"]}
    store.close()
    assert len(owners) == 2, owners  # both workers trained runs of it


def test_a_stop_through_the_other_web_process_ends_every_run(cluster):
    first, second = cluster.urls
    base = {**QUICK, "epochs": 300, "epochs_per_second": 30}
    body = {"base": base, "vary": {"lr": [0.01, 0.02, 0.03, 0.04]}, "seeds": 3}
    sweep_id = requests.post(f"{first}/api/sweeps", json=body, timeout=60).json()["id"]
    wait_until(lambda: sweep_of(second, sweep_id)["counts"]["running"] >= 2, 60)
    assert requests.post(f"{second}/api/sweeps/{sweep_id}/stop", timeout=60).status_code == 200
    ended = {"finished", "stopped", "failed", "interrupted", "diverged", "cancelled"}
    wait_until(lambda: all(run["status"] in ended for run in sweep_of(first, sweep_id)["runs"]),
               60, "every run of the sweep to end")  # fmt: skip
    runs = sweep_of(first, sweep_id)["runs"]
    assert sweep_of(first, sweep_id)["status"] == "stopped"
    # stopped while two trained: runs never started are cancelled, started ones stopped
    assert any(run["status"] in ("cancelled", "stopped") for run in runs)
