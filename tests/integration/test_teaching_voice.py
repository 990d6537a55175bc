"""The teaching voice on a real server (issue 26): a healthy default run of every built-in task
ends with no warning, lr 1e-6 is told to raise the learning rate, and a 40-row noisy table with
a wide net is told it overfits, from which epoch."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import requests
from server_helpers import run_status, start_run, wait_status

from app.data.tasks import TASKS

ENDED = {"finished", "stopped", "diverged", "failed"}


def noisy_table(rows: int = 40, seed: int = 2) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(rows, 3))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] + 0.8 * rng.normal(size=rows)
    lines = ["a,b,c,target"] + [
        f"{a:.5f},{b:.5f},{c:.5f},{t:.5f}" for (a, b, c), t in zip(x, y, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("task", sorted(TASKS))
def test_the_default_run_of_every_built_in_task_ends_with_no_warning(server: Any, task: str):
    run_id = start_run(server, task=task)
    status = wait_status(server, run_id, ENDED, timeout=120)
    assert status["status"] == "finished"
    assert status["warnings"] == [], status["warnings"]
    assert isinstance(status["observations"], list)
    assert all(f["severity"] == "observation" for f in status["findings"])
    listed = requests.get(f"{server.url}/api/runs", params={"task": task}, timeout=10).json()
    entry = next(run for run in listed if run["id"] == run_id)
    assert entry["warnings"] == []


def test_a_learning_rate_of_1e_6_is_told_to_raise_the_learning_rate(server: Any):
    run_id = start_run(server, task="saddle", lr=1e-6, epochs=100)
    status = wait_status(server, run_id, ENDED, timeout=120)
    first = status["warnings"][0]
    assert "raise the learning rate" in first and "lower" not in first
    assert status["findings"][0]["kind"] == "too_slow"


def test_a_40_row_noisy_table_with_a_wide_net_is_told_it_overfits_from_an_epoch(server: Any):
    answer = requests.post(f"{server.url}/api/datasets",
                           files={"file": ("noisy.csv", noisy_table())}, timeout=30)  # fmt: skip
    assert answer.status_code == 201, answer.text
    run_id = start_run(server, task=answer.json()["task"]["id"], hidden=[128, 128], epochs=400,
                       lr=0.01)  # fmt: skip
    status = wait_status(server, run_id, ENDED, timeout=120)
    (warning,) = status["warnings"]
    finding = status["findings"][0]
    assert finding["kind"] == "overfitting" and "overfit" in warning
    assert re.search(rf"epoch {finding['epoch']}\b", warning)
    assert 1 <= finding["epoch"] < 400


def test_the_done_event_carries_warnings_and_observations(server: Any, client: Any):
    run_id = start_run(server, task="sin", lr=1e-6, epochs=60)
    client.watch(run_id)
    done = client.wait_done(run_id, timeout=60)
    assert "raise the learning rate" in done["warnings"][0]
    assert isinstance(done["observations"], list)
    assert client.of("done", run_id) == [done]
    assert run_status(server, run_id)["warnings"] == done["warnings"]


def test_the_auto_pace_is_a_config_value_and_a_live_change(server: Any):
    run_id = start_run(server, task="sin", epochs_per_second="auto", epochs=2000)
    assert run_status(server, run_id)["config"]["epochs_per_second"] == "auto"
    answer = requests.patch(f"{server.url}/api/runs/{run_id}", json={"epochs_per_second": None},
                            timeout=10)  # fmt: skip
    assert answer.status_code == 200 and answer.json()["config"]["epochs_per_second"] is None
    answer = requests.patch(f"{server.url}/api/runs/{run_id}",
                            json={"epochs_per_second": "slow"}, timeout=10)  # fmt: skip
    assert answer.status_code == 400 and '"auto"' in answer.json()["errors"]["epochs_per_second"]
    wait_status(server, run_id, "finished", timeout=120)
