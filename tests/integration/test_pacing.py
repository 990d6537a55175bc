"""Pacing (`epochs_per_second`) and the epoch a diverged run reports, against a real server."""

from __future__ import annotations

import pytest
import requests
from server_helpers import (
    finite_everywhere,
    run_status,
    start_run,
    train_another_run,
    wait_status,
    wait_until,
)

LONG = {"task": "sin", "hidden": [8], "samples": 100, "epochs": 100_000}


def control(live, run_id: str, action: str) -> dict:
    """POST a control action; return the answer."""
    response = requests.post(f"{live.url}/api/runs/{run_id}/{action}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_paced_run_stays_under_its_epochs_per_second(live_server):
    run_id = start_run(live_server, **LONG, epochs_per_second=20)
    status = wait_until(lambda: (s := run_status(live_server, run_id))["epoch"] >= 10 and s)
    # the server's own training seconds: ~20 epochs a second (full speed would be thousands)
    assert status["epoch"] <= 20 * status["elapsed"] + 3, status
    assert control(live_server, run_id, "stop")["status"] == "stopped"


def test_a_slowly_paced_run_pauses_resumes_and_stops_promptly(live_server):
    run_id = start_run(live_server, **LONG, epochs_per_second=1)  # waits ~1 s between epochs
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= 1)  # now in a pacing wait

    assert control(live_server, run_id, "pause")["status"] == "paused"  # the wait is cut short
    epoch = run_status(live_server, run_id)["epoch"]
    train_another_run(live_server)  # time passes meanwhile
    assert run_status(live_server, run_id)["epoch"] == epoch  # no epoch while paused

    assert control(live_server, run_id, "resume")["status"] == "running"
    assert control(live_server, run_id, "stop")["status"] == "stopped"  # in a wait again


def test_full_speed_is_the_default(live_server):
    response = requests.post(
        f"{live_server.url}/api/runs",
        json={"task": "sin", "epochs": 300, "samples": 50},
        timeout=10,
    )
    assert response.json()["config"]["epochs_per_second"] is None
    status = wait_status(live_server, response.json()["id"], "finished")
    assert status["elapsed"] < 10  # 300 paced epochs at even 100/s would take 3 s; this is ~0.1 s


def test_a_fast_pace_lets_a_short_run_finish(live_server):
    run_id = start_run(live_server, task="sin", samples=50, epochs=30, epochs_per_second=100)
    status = wait_status(live_server, run_id, "finished", timeout=10)
    assert status["epoch"] == 30 and status["elapsed"] >= 0.25  # 29 waits of 10 ms


@pytest.mark.parametrize("pace", [0, 0.5, 100_001, "fast", True, [20]])
def test_a_bad_pace_is_a_400(live_server, pace):
    response = requests.post(
        f"{live_server.url}/api/runs", json={"task": "sin", "epochs_per_second": pace}, timeout=10
    )
    assert response.status_code == 400
    assert "1 to 100000" in response.json()["errors"]["epochs_per_second"]


def test_a_diverged_run_reports_the_epoch_that_diverged(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="sin", lr=10, optimizer="sgd", epochs=500)
    client.watch(run_id)
    done = client.wait_done(run_id)
    assert done["status"] == "diverged" and done["epoch"] >= 1
    assert f"diverged at epoch {done['epoch']}:" in done["reason"]
    assert run_status(live_server, run_id)["epoch"] == done["epoch"]
    history = client.history(run_id)
    assert history["epoch"] == list(range(1, done["epoch"] + 1))
    assert history["train_loss"][-1] is None  # the non-finite loss, sent as null
    assert all(finite_everywhere(data) for _, data in client.events)
    # the epoch that diverged keeps the settings it trained with
    exported = requests.get(f"{live_server.url}/api/runs/{run_id}/history", timeout=10).json()
    assert exported["lr"][-1] == 10 and exported["batch_size"][-1] == 32
    config = run_status(live_server, run_id)["config"]
    assert exported["momentum"][-1] == pytest.approx(config["momentum"]) and config["momentum"] > 0


def test_a_run_that_diverges_later_reports_that_later_epoch(live_server):
    # SGD at a learning rate that first trains, then blows up after a few epochs.
    run_id = start_run(
        live_server,
        task="square",
        optimizer="sgd",
        momentum=0.99,
        lr=0.5,
        hidden=[16],
        samples=100,
        epochs=2000,
    )
    status = wait_status(live_server, run_id, {"diverged", "finished"})
    assert status["status"] == "diverged", status
    assert status["epoch"] >= 2 and f"at epoch {status['epoch']}:" in status["reason"]
