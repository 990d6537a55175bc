"""Classification runs against a real server: tasks, loss choice, accuracy, decision regions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from server_helpers import Watcher, finite_everywhere, run_status, start_run, wait_status

CLASSIFIERS = {"moons": 2, "circles": 2, "xor": 2, "spiral": 2, "spiral3": 3, "blobs": 3}


def misclassified_from(test_acc: float, n_test: int) -> int:
    """The number of wrong test points that a (rounded) test accuracy stands for."""
    return round((1 - test_acc) * n_test)


def final_frame(client: Watcher, run_id: str) -> dict[str, Any]:
    """A frame sent after the end: only those surely carry the final model's prediction (a
    running frame's prediction may be from a few epochs before its `epoch`)."""
    ended = [frame for frame in client.of("frame", run_id) if frame["status"] == "finished"]
    assert ended, [frame["status"] for frame in client.of("frame", run_id)]
    return ended[-1]


def assert_class_grid(prediction: dict[str, Any], classes: int) -> None:
    """`prediction` is a 50×50 class index grid with confidences in [1/classes, 1]."""
    assert set(prediction) == {"x", "y", "z", "confidence"}
    assert len(prediction["x"]) == len(prediction["y"]) == 50
    z, confidence = prediction["z"], prediction["confidence"]
    assert len(z) == len(confidence) == 50
    assert all(len(row) == 50 for row in z) and all(len(row) == 50 for row in confidence)
    assert all(isinstance(v, int) and 0 <= v < classes for row in z for v in row)
    assert all(1 / classes - 1e-3 <= p <= 1 for row in confidence for p in row)


@pytest.fixture(scope="module")
def moons(server: Any) -> Iterator[dict[str, Any]]:
    """One default `moons` run, watched from the start to `done`."""
    client = Watcher(server.url)
    run_id = start_run(server, task="moons")
    client.watch(run_id)
    done = client.wait_done(run_id, timeout=90)
    yield {"id": run_id, "client": client, "done": done}
    client.disconnect()


# --------------------------------------------------------------------------- registry


def test_classification_tasks_are_listed_with_classes_and_defaults(server):
    listed = requests.get(f"{server.url}/api/tasks", timeout=10).json()
    tasks = {task["id"]: task for task in listed}
    for task_id, classes in CLASSIFIERS.items():
        task = tasks[task_id]
        assert task["kind"] == "classification" and task["inputs"] == 2
        assert task["classes"] == [str(k) for k in range(classes)] and task["outputs"] == classes
        assert task["defaults"]["loss"] == "cross_entropy"
        assert task["defaults"]["domain"] == task["domain"]
    moons = tasks["moons"]["defaults"]
    assert moons["samples"] == 2000 and moons["noise"] == 0.2 and moons["test_fraction"] == 0.3
    assert moons["hidden"] == [25, 50, 25] and moons["activation"] == "tanh"
    assert moons["optimizer"] == "adam"
    assert "classes" not in tasks["sin"] and "outputs" not in tasks["sin"]  # regression unchanged


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"task": "sin", "loss": "cross_entropy"}, "regression tasks take only mse"),
        ({"task": "peaks", "loss": "cross_entropy"}, "regression tasks take only mse"),
        ({"task": "moons", "loss": "hinge"}, "one of cross_entropy, mse"),
        ({"task": "moons", "loss": 3}, "one of cross_entropy, mse"),
        ({"task": "moons", "noise": -0.1}, "from 0 to 100 for a classification task"),
        ({"task": "blobs", "noise": 1000}, "from 0 to 100"),
        ({"task": "moons", "domain": [[-1, 1]]}, "2 pair"),
    ],
)
def test_a_bad_classification_field_is_a_400_naming_it(server, config, message):
    response = requests.post(f"{server.url}/api/runs", json=config, timeout=10)
    assert response.status_code == 400
    errors = response.json()["errors"]
    field = next(name for name in config if name != "task")
    assert set(errors) == {field} and message in errors[field], errors


# --------------------------------------------------------------------------- the default moons run


def test_a_default_moons_run_streams_accuracy_and_ends_above_95_percent(server, moons):
    client, run_id = moons["client"], moons["id"]
    assert moons["done"]["status"] == "finished" and moons["done"]["test_acc"] >= 0.95
    frames = client.of("frame", run_id)
    assert len(frames) >= 3
    assert all({"train_acc", "test_acc"} <= set(frame["history"]) for frame in frames)
    assert all({"misclassified", "test_predicted"} <= set(frame) for frame in frames)

    history = client.history(run_id)
    epochs = history["epoch"][-1]
    assert history["epoch"] == list(range(1, epochs + 1))
    assert all(0 <= acc <= 1 for acc in history["train_acc"] + history["test_acc"])
    assert history["test_acc"][-1] >= 0.95 and history["test_acc"][-1] > history["test_acc"][0]

    status = run_status(server, run_id)
    assert status["status"] == "finished" and status["epoch"] == epochs
    assert status["test_acc"] == history["test_acc"][-1] == moons["done"]["test_acc"]
    assert status["train_acc"] == history["train_acc"][-1] >= 0.95
    assert all(finite_everywhere(data) for _, data in client.events)


def test_the_moons_snapshot_has_labelled_points_and_a_grid_without_target(server, moons):
    again = Watcher(server.url)
    try:
        again.watch(moons["id"])
        again.wait_done(moons["id"])
        snapshot = again.of("snapshot", moons["id"])[0]
    finally:
        again.disconnect()
    assert snapshot["task"]["id"] == "moons" and snapshot["network"]["sizes"] == [2, 25, 50, 25, 2]
    assert set(snapshot["target"]) == {"x", "y"} and len(snapshot["target"]["x"]) == 50
    train, test = snapshot["data"]["train"], snapshot["data"]["test"]
    assert set(train) == set(test) == {"x", "y", "label"}
    assert len(train["x"]) == len(train["label"]) == 1000  # of 1400, capped
    assert len(test["x"]) == len(test["y"]) == len(test["label"]) == 600
    assert set(train["label"]) == set(test["label"]) == {0, 1}
    xs, ys = snapshot["target"]["x"], snapshot["target"]["y"]
    for part in (train, test):  # the grid holds every point
        assert xs[0] <= min(part["x"]) and max(part["x"]) <= xs[-1]
        assert ys[0] <= min(part["y"]) and max(part["y"]) <= ys[-1]
    assert set(snapshot["history"]) == {
        "epoch", "train_loss", "test_loss", "train_acc", "test_acc", "update_ratio",
        "lr", "batch_size", "l1", "weight_decay",
    }  # fmt: skip
    assert_class_grid(snapshot["prediction"], 2)
    assert len(snapshot["test_predicted"]) == 600
    pairs = zip(snapshot["test_predicted"], test["label"], strict=True)
    assert snapshot["misclassified"] == sum(predicted != label for predicted, label in pairs)


def test_the_moons_prediction_is_a_50_by_50_class_grid(moons):
    frames = moons["client"].of("frame", moons["id"])
    for frame in frames:  # from epoch 0 on: the untrained network's regions come first
        assert_class_grid(frame["prediction"], 2)
    final = final_frame(moons["client"], moons["id"])["prediction"]
    assert {v for row in final["z"] for v in row} == {0, 1}
    assert max(p for row in final["confidence"] for p in row) > 0.99


def test_misclassified_is_the_count_implied_by_test_acc(moons):
    final = final_frame(moons["client"], moons["id"])
    assert final["misclassified"] == misclassified_from(moons["done"]["test_acc"], 600)
    assert len(final["test_predicted"]) == 600


# --------------------------------------------------------------------------- other runs


def test_three_blobs_predict_all_three_classes_after_training(server):
    client = Watcher(server.url)
    try:
        run_id = start_run(server, task="blobs", epochs=20, samples=600)
        client.watch(run_id)
        done = client.wait_done(run_id)
    finally:
        client.disconnect()
    assert done["status"] == "finished" and done["test_acc"] >= 0.97
    final = final_frame(client, run_id)
    assert_class_grid(final["prediction"], 3)
    assert {v for row in final["prediction"]["z"] for v in row} == {0, 1, 2}
    assert final["network"]["sizes"] == [2, 25, 50, 25, 3]
    assert final["misclassified"] == misclassified_from(done["test_acc"], 180)


def test_mse_on_one_hot_outputs_trains_a_classifier(server):
    client = Watcher(server.url)
    try:
        run_id = start_run(server, task="moons", loss="mse", lr=0.003, epochs=30)
        client.watch(run_id)
        done = client.wait_done(run_id, timeout=60)
    finally:
        client.disconnect()
    status = run_status(server, run_id)
    assert status["config"]["loss"] == "mse" and status["status"] == "finished"
    assert status["test_acc"] >= 0.93 and status["train_acc"] >= 0.93
    final = final_frame(client, run_id)
    assert set(final["history"]) >= {"train_acc", "test_acc"}
    assert_class_grid(final["prediction"], 2)
    assert final["misclassified"] == misclassified_from(done["test_acc"], 600)


def test_noisier_data_widens_the_grid_to_hold_every_point(server):
    default_domain = [[-2.0, 3.0], [-1.4, 1.9]]
    response = requests.post(
        f"{server.url}/api/runs",
        json={"task": "moons", "noise": 0.8, "epochs": 1, "domain": default_domain},
        timeout=10,
    )
    assert response.status_code == 201
    domain = response.json()["config"]["domain"]
    assert domain[0][0] < -2.0 and domain[0][1] > 3.0 and domain[1][0] < -1.4
    client = Watcher(server.url)
    try:
        run_id = response.json()["id"]
        client.watch(run_id)
        client.wait_done(run_id)
    finally:
        client.disconnect()
    snapshot = client.of("snapshot", run_id)[0]
    assert snapshot["config"]["domain"] == domain
    target = snapshot["target"]
    assert target["x"][0] == domain[0][0] and target["y"][-1] == domain[1][1]
    for part in snapshot["data"].values():
        assert domain[0][0] <= min(part["x"]) and max(part["x"]) <= domain[0][1]
        assert domain[1][0] <= min(part["y"]) and max(part["y"]) <= domain[1][1]


@pytest.mark.parametrize(
    ("task_id", "minimum"),
    [("moons", 0.95), ("circles", 0.99), ("xor", 0.93), ("spiral", 0.93), ("spiral3", 0.93),
     ("blobs", 0.98)],
)  # fmt: skip
def test_every_classification_default_converges(server, task_id, minimum):
    run_id = start_run(server, task=task_id)
    status = wait_status(server, run_id, {"finished", "failed", "diverged"}, timeout=120)
    assert status["status"] == "finished", status
    assert status["test_acc"] >= minimum and status["epoch"] == status["config"]["epochs"]


def test_regression_payloads_carry_no_classification_fields(server):
    client = Watcher(server.url)
    try:
        run_id = start_run(server, task="saddle", epochs=5, samples=100)
        client.watch(run_id)
        done = client.wait_done(run_id)
    finally:
        client.disconnect()
    assert set(done) == {"run_id", "status", "reason", "epoch", "warnings", "observations",
                         "findings", "best_epoch"}  # fmt: skip
    snapshot = client.of("snapshot", run_id)[0]
    assert "misclassified" not in snapshot and "confusion" not in snapshot
    # regression views carry the test points' predictions (predicted vs actual), as numbers
    latest = client.latest(run_id)
    assert len(latest["test_predicted"]) == len(snapshot["data"]["test"]["x"])
    assert set(snapshot["target"]) == {"x", "y", "z"}
    assert set(snapshot["history"]) == {
        "epoch", "train_loss", "test_loss", "test_r2", "update_ratio", "lr", "batch_size", "l1",
        "weight_decay",
    }  # fmt: skip
    assert all("misclassified" not in frame for frame in client.of("frame", run_id))
    status = run_status(server, run_id)
    assert "train_acc" not in status and status["config"]["loss"] == "mse"
