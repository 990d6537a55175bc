"""Steering a run while it trains (PATCH), input features, regularisation, schedules and
warnings, against a real server."""

from __future__ import annotations

import pytest
import requests
from server_helpers import run_status, start_run, wait_status, wait_until

LONG = {"task": "sin", "hidden": [8], "samples": 100, "epochs": 100_000}


def patch(live, run_id: str, **changes) -> requests.Response:
    return requests.patch(f"{live.url}/api/runs/{run_id}", json=changes, timeout=10)


def stop(live, run_id: str) -> None:
    requests.post(f"{live.url}/api/runs/{run_id}/stop", timeout=10)


def test_patching_lr_changes_the_lr_column_from_the_next_epoch(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, **LONG, lr=0.01, epochs_per_second=50)
    client.watch(run_id)
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= 5)
    before = run_status(live_server, run_id)["epoch"]  # trained before the change was sent
    answer = patch(live_server, run_id, lr=0.002)
    assert answer.status_code == 200 and answer.json()["config"]["lr"] == 0.002
    changed_at = run_status(live_server, run_id)["epoch"]  # in force from the epoch after
    assert run_status(live_server, run_id)["config"]["lr"] == 0.002
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= changed_at + 5)
    stop(live_server, run_id)
    client.wait_done(run_id)
    history = client.history(run_id)
    lr = dict(zip(history["epoch"], history["lr"], strict=True))
    assert lr[1] == 0.01 and lr[before] == 0.01
    assert all(lr[e] == 0.002 for e in lr if e > changed_at + 1)
    assert set(history) >= {"lr", "batch_size", "l1", "weight_decay"}


def test_patching_the_pace_changes_the_measured_pace(live_server):
    run_id = start_run(live_server, **LONG, epochs_per_second=100)
    wait_status(live_server, run_id, "running")

    def pace_over(epochs: int) -> float:
        """Epochs per second of training over the next `epochs` epochs, by the server's own
        clock (its `elapsed`): no sleep, no measurement by the test."""
        first = run_status(live_server, run_id)

        def later() -> dict | None:
            status = run_status(live_server, run_id)
            return status if status["epoch"] >= first["epoch"] + epochs else None

        second = wait_until(later)
        return (second["epoch"] - first["epoch"]) / (second["elapsed"] - first["elapsed"])

    assert 50 <= pace_over(50) <= 130
    assert patch(live_server, run_id, epochs_per_second=5).status_code == 200
    assert pace_over(6) <= 10
    assert patch(live_server, run_id, epochs_per_second=None).status_code == 200
    assert pace_over(2000) > 200  # full speed
    stop(live_server, run_id)


def test_batch_size_weight_decay_l1_and_momentum_change_live(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, **LONG, optimizer="sgd", epochs_per_second=100)
    client.watch(run_id)
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= 3)
    changes = {"batch_size": 7, "weight_decay": 0.001, "l1": 0.0005, "momentum": 0.5}
    answer = patch(live_server, run_id, **changes)
    assert answer.status_code == 200
    assert {name: answer.json()["config"][name] for name in changes} == changes
    epoch = run_status(live_server, run_id)["epoch"]
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= epoch + 3)
    assert run_status(live_server, run_id)["progress"]["batches"] == 10  # 70 rows / 7
    stop(live_server, run_id)
    client.wait_done(run_id)
    history = client.history(run_id)
    last = {name: history[name][-1] for name in changes}
    assert last == changes


RMSPROP = {"task": "sin", "hidden": [8], "samples": 100, "epochs": 40, "seed": 5,
           "optimizer": "rmsprop", "lr": 0.003}  # fmt: skip


def history(live, run_id: str) -> dict[str, list]:
    answer = requests.get(f"{live.url}/api/runs/{run_id}/history?format=json", timeout=10)
    assert answer.status_code == 200
    return answer.json()


def finished_history(live, **config) -> dict[str, list]:
    run_id = start_run(live, **config)
    wait_status(live, run_id, "finished")
    return history(live, run_id)


def test_rmsprop_trains_with_its_momentum(live_server):
    with_momentum = finished_history(live_server, **RMSPROP, momentum=0.9)
    without = finished_history(live_server, **RMSPROP, momentum=0.0)
    assert set(with_momentum["momentum"]) == {0.9} and set(without["momentum"]) == {0.0}
    assert with_momentum["train_loss"][1:] != pytest.approx(without["train_loss"][1:])
    again = finished_history(live_server, **RMSPROP, momentum=0.9)  # same seed, same run
    assert again["train_loss"] == with_momentum["train_loss"]


def test_patching_momentum_changes_an_rmsprop_runs_trajectory(live_server):
    unchanged = finished_history(live_server, **RMSPROP, momentum=0.9)
    run_id = start_run(live_server, **RMSPROP, momentum=0.9, epochs_per_second=10)
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= 3)
    answer = patch(live_server, run_id, momentum=0.0)
    assert answer.status_code == 200 and answer.json()["config"]["momentum"] == 0.0
    assert patch(live_server, run_id, epochs_per_second=None).status_code == 200
    wait_status(live_server, run_id, "finished")
    changed = history(live_server, run_id)
    switched = changed["momentum"].index(0.0)  # the first epoch trained without momentum
    assert 3 <= switched < RMSPROP["epochs"] - 1
    momentum = changed["momentum"]
    assert set(momentum[:switched]) == {0.9} and set(momentum[switched:]) == {0.0}
    before = slice(0, switched - 1)  # epochs wholly trained with momentum 0.9: the same losses
    assert changed["train_loss"][before] == unchanged["train_loss"][before]
    assert changed["train_loss"][-1] != pytest.approx(unchanged["train_loss"][-1])


def test_momentum_cannot_change_on_an_adam_run(live_server):
    run_id = start_run(live_server, **LONG, optimizer="adam")
    answer = patch(live_server, run_id, momentum=0.5)
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"momentum": "adam does not use momentum (only sgd, rmsprop)"}
    stop(live_server, run_id)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lr": 0}, "lr"),
        ({"lr": 11}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"hidden": [4]}, "hidden"),
        ({"nonsense": 1}, "nonsense"),
        ({}, "body"),
    ],
)
def test_bad_changes_get_field_errors(live_server, changes, field):
    run_id = start_run(live_server, **LONG)
    answer = patch(live_server, run_id, **changes)
    assert answer.status_code == 400 and field in answer.json()["errors"]
    stop(live_server, run_id)


def test_changing_an_ended_or_unknown_run_is_refused(live_server):
    run_id = start_run(live_server, task="sin", samples=50, epochs=5)
    wait_status(live_server, run_id, "finished")
    assert patch(live_server, run_id, lr=0.1).status_code == 409
    assert patch(live_server, "nosuchrun", lr=0.1).status_code == 404


def test_seven_input_features_make_a_seven_wide_input_layer(live_server, watcher):
    features = ["x", "y", "x**2", "y**2", "x*y", "sin(x)", "sin(y)"]
    client = watcher()
    run_id = start_run(live_server, task="circles", samples=200, epochs=30,
                       input_features=features)  # fmt: skip
    client.watch(run_id)
    done = client.wait_done(run_id)
    assert done["status"] == "finished"
    assert client.latest(run_id)["network"]["sizes"][0] == 7
    assert run_status(live_server, run_id)["test_acc"] > 0.9  # x² + y² separates circles


def test_a_feature_with_a_pole_on_the_domain_is_refused(live_server):
    answer = requests.post(
        f"{live_server.url}/api/runs",
        json={"task": "sin", "input_features": ["x", "1/x"], "domain": [[-1, 1]]},
        timeout=10,
    )
    assert answer.status_code == 400
    assert "1/x" in answer.json()["errors"]["input_features"]


@pytest.mark.parametrize(
    "extra",
    [
        {"l1": 0.001},
        {"weight_decay": 0.001},
        {"dropout": 0.2},
        {"schedule": "cosine"},
        {"schedule": {"name": "step", "step_size": 10, "gamma": 0.5}},
        {"schedule": {"name": "exponential", "gamma": 0.95}},
    ],
)
def test_regularisation_and_schedules_train(live_server, extra):
    run_id = start_run(live_server, task="square", hidden=[16], samples=200, epochs=60, **extra)
    status = wait_status(live_server, run_id, {"finished", "failed", "diverged"})
    assert status["status"] == "finished", status["reason"]
    assert status["test_loss"] < 0.5


def test_a_cosine_schedule_shows_in_the_lr_column(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="sin", samples=100, epochs=50, lr=0.01,
                       schedule="cosine")  # fmt: skip
    client.watch(run_id)
    client.wait_done(run_id)
    lr = client.history(run_id)["lr"]
    assert lr[0] == pytest.approx(0.01) and lr[-1] < 0.001 and lr == sorted(lr, reverse=True)


def test_adam_at_lr_10_warns_while_a_default_run_does_not(live_server):
    bad = start_run(live_server, task="sin", optimizer="adam", lr=10, epochs=200)
    good = start_run(live_server, task="sin")
    bad_status = wait_status(live_server, bad, {"finished", "diverged"})
    good_status = wait_status(live_server, good, "finished")
    assert bad_status["warnings"], bad_status
    assert good_status["warnings"] == []


@pytest.mark.parametrize("task", ["moons", "saddle", "circles"])
def test_healthy_default_runs_have_no_warnings(live_server, task):
    run_id = start_run(live_server, task=task)
    status = wait_status(live_server, run_id, "finished", timeout=60)
    assert status["warnings"] == []


def test_dead_relu_units_are_reported(live_server):
    # a huge learning rate on ReLU kills most units in the first steps
    run_id = start_run(live_server, task="sin", activation="relu", optimizer="adam", lr=0.5,
                       hidden=[16], epochs=50)  # fmt: skip
    status = wait_status(live_server, run_id, "finished")
    said = status["warnings"] + status["observations"]
    assert any("relu units" in sentence and "dead" in sentence for sentence in said), status
