"""POST /api/runs/<id>/backprop on a real server whose runs train in forked training processes:
the arrays equal PyTorch autograd on the exported model's weights (float64, 1e-9), for a
regression and a classification run, a sample and a batch; a Step changes the weights by the
reported update; bad requests name their field."""

from __future__ import annotations

import numpy as np
import pytest
import requests
from backprop_reference import assert_matches, torch_pass
from server_helpers import start_run, wait_status, wait_until

from app.backprop.compute import Ask, backprop
from app.training.session import TrainingSession

REGRESSION = {"task": "sin", "hidden": [6, 5], "activation": "tanh", "optimizer": "sgd",
              "momentum": 0.9, "lr": 0.05, "samples": 200, "batch_size": 16, "epochs": 100_000}
CLASSIFICATION = {"task": "moons", "hidden": [8, 4], "activation": "relu", "optimizer": "adam",
                  "lr": 0.01, "samples": 300, "batch_size": 20, "epochs": 100_000}  # fmt: skip


def post(live, path: str, body=None) -> requests.Response:
    url = f"{live.url}/api/runs/{path}"
    if isinstance(body, bytes):  # JSON text as is (e.g. a number out of range)
        return requests.post(url, data=body, headers={"Content-Type": "application/json"},
                             timeout=20)  # fmt: skip
    return requests.post(url, json=body, timeout=20)


def paused_run(live, config: dict) -> str:
    run_id = start_run(live, **config)
    wait_until(lambda: requests.get(f"{live.url}/api/runs/{run_id}", timeout=10).json()["epoch"]
               >= 2)  # fmt: skip
    assert post(live, f"{run_id}/pause").json()["status"] == "paused"
    return run_id


def exported(live, run_id: str) -> dict:
    """The run's exported model, once its checkpoint is that of the epoch the run is at (a
    paused run's; on a loaded machine the checkpoint taken at the pause may come a moment
    later than the status)."""
    epoch = requests.get(f"{live.url}/api/runs/{run_id}", timeout=10).json()["epoch"]

    def current() -> dict | None:
        answer = requests.get(f"{live.url}/api/runs/{run_id}/model?format=json", timeout=10)
        assert answer.status_code == 200
        model = answer.json()
        return model if model.get("epoch", epoch) == epoch else None

    return wait_until(current, 60, "the export at the run's epoch")


def reference(model: dict, answer: dict, config: dict) -> dict:
    """Torch's pass on the exported weights, on the answer's input and target (checked against
    the exported scalers)."""
    state, layers = model["state"], len(model["state"]) // 2
    keys = sorted({int(name.split(".")[0]) for name in state})
    weights = [state[f"{k}.weight"] for k in keys]
    biases = [state[f"{k}.bias"] for k in keys]
    assert len(weights) == layers
    x = np.asarray(answer["input"], np.float64).reshape(-1, len(weights[0]))
    raw = np.asarray(answer["raw"]["x"], np.float64).reshape(len(x), -1)
    scaler = model["x_scaler"]
    assert np.allclose(x, (raw - scaler["mean"]) / np.asarray(scaler["std"]), atol=1e-6)
    if model["kind"] == "classification":
        target = np.asarray(answer["raw"]["y"]).reshape(len(x))
        loss = "cross_entropy"
    else:
        target = np.asarray(answer["target"], np.float64).reshape(len(x), 1)
        y = model["y_scaler"]
        raw_y = np.asarray(answer["raw"]["y"], np.float64).reshape(len(x), 1)
        assert np.allclose(target, (raw_y - y["mean"]) / np.asarray(y["std"]), atol=1e-6)
        loss = "mse"
    return torch_pass(weights, biases, config["activation"], loss, x, target)


@pytest.fixture(scope="module")
def paused(server) -> str:
    """One paused regression run for the tests of bad requests."""
    return paused_run(server, REGRESSION)


@pytest.mark.parametrize("config", [REGRESSION, CLASSIFICATION], ids=["regression", "moons"])
def test_a_sample_and_a_batch_equal_torch_on_the_exported_weights(server, config):
    run_id = paused_run(server, config)
    model = exported(server, run_id)
    for body in ({"index": 5}, {"batch": True}):
        answer = post(server, f"{run_id}/backprop", body)
        assert answer.status_code == 200, answer.text
        answer = answer.json()
        assert answer["source"] == "training process" and answer["status"] == "paused"
        assert_matches(answer, reference(model, answer, config))
        outputs = len(answer["layers"][-1]["b"])
        # the next mini-batch: a whole one, or the epoch's last and smaller one
        count = len(answer["rows"]) if "batch" in body else 0
        assert 1 <= count <= config["batch_size"] or "batch" not in body
        rows = (count, outputs) if "batch" in body else (outputs,)
        assert np.shape(answer["layers"][-1]["delta"]) == rows
    post(server, f"{run_id}/stop")


def test_a_step_changes_the_weights_by_the_reported_update(server):
    run_id = paused_run(server, REGRESSION)
    answer = post(server, f"{run_id}/backprop", {"batch": True}).json()
    assert answer["layers"][0]["W"] == exported(server, run_id)["state"]["0.weight"]
    for _ in range(3):  # momentum carries state from step to step: the training process's own
        assert post(server, f"{run_id}/step", {"batches": 1}).json()["status"] == "paused"
        # the weights now, as the training process has them (the export's checkpoint may lag)
        after = post(server, f"{run_id}/backprop", {"batch": True}).json()
        assert after["steps"] == answer["steps"] + 1
        for old, new in zip(answer["layers"], after["layers"], strict=True):
            for name in ("W", "b"):
                change = np.asarray(new[name]) - np.asarray(old[name])
                reported = np.asarray(old["update"][name])
                scale = float(np.abs(reported).max())
                assert scale > 0
                # a float32 run stepped against a float64 report: equal to float32 rounding
                assert np.abs(change - reported).max() <= 1e-4 * scale + 1e-7
        answer = after
    post(server, f"{run_id}/stop")


def test_a_running_run_answers_for_its_weights_at_that_moment(server):
    run_id = start_run(server, **REGRESSION)
    wait_status(server, run_id, "running")
    first = post(server, f"{run_id}/backprop", {"index": 0}).json()
    wait_until(lambda: post(server, f"{run_id}/backprop", {"index": 0}).json()["steps"]
               > first["steps"])  # fmt: skip
    assert first["source"] == "training process"
    post(server, f"{run_id}/stop")


def test_an_ended_run_answers_from_its_last_weights(server):
    run_id = start_run(server, **{**REGRESSION, "epochs": 3})
    wait_status(server, run_id, "finished")
    answer = post(server, f"{run_id}/backprop", {"index": 2}).json()
    assert answer["source"] == "checkpoint" and answer["optimizer_state"] == "kept"
    assert_matches(answer, reference(exported(server, run_id), answer, REGRESSION))


@pytest.mark.parametrize(
    ("body", "field"),
    [({"index": 10_000}, "index"), ({"index": -1}, "index"), ({"x": [0.1, 0.2], "y": 0}, "x"),
     (b'{"x": [1e400], "y": 0}', "x"), (b'{"x": [NaN], "y": 0}', "x"),
     ({"x": [0.5]}, "y"), ({"batch": 1}, "batch"),
     ({"nope": 1}, "nope"), ("text", "body"), ({"index": 0, "epoch": -1}, "epoch"),
     ({"index": 0, "epoch": 1.5}, "epoch"), ({"index": 0, "epoch": True}, "epoch"),
     ({"index": 0, "epoch": "3"}, "epoch"), ({"batch": True, "epoch": 3}, "epoch")],
)  # fmt: skip
def test_bad_requests_are_400_naming_the_field(server, body, field, paused):
    run_id = paused
    answer = post(server, f"{run_id}/backprop", body)
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == [field]


def test_a_past_epoch_answers_from_the_weights_of_that_epoch(server):
    """What the dashboard asks while its time slider holds epoch 5 of a finished run: the pass
    on the run's weights after 5 epochs (its film's), as a session trained 5 epochs here gives
    it, with a fresh optimizer's update; the stored epoch nearest the one asked."""
    config = {**REGRESSION, "epochs": 30}
    run_id = start_run(server, **config)
    wait_status(server, run_id, "finished")
    answer = post(server, f"{run_id}/backprop", {"index": 2, "epoch": 5}).json()
    assert answer["epoch"] == 5 and answer["source"] == "film"
    assert answer["optimizer_state"] == "fresh"
    run = server.app.extensions["runs"].get(run_id)
    session = TrainingSession(run.task, run.config)
    while session.epoch < 5:
        session.advance()
    here = backprop(session, Ask(index=2))
    assert answer["loss"] == pytest.approx(here["loss"], rel=1e-5)
    for got, want in zip(answer["layers"], here["layers"], strict=True):
        for name in ("W", "z", "delta", "dW"):
            assert np.allclose(got[name], want[name], rtol=1e-5, atol=1e-7), name
    latest = post(server, f"{run_id}/backprop", {"index": 2}).json()
    assert not np.allclose(latest["layers"][0]["W"], answer["layers"][0]["W"])  # not the last
    assert post(server, f"{run_id}/backprop", {"index": 2, "epoch": 10**6}).json()["epoch"] == 30


def test_an_unknown_run_is_404(server):
    assert post(server, "no-such-run/backprop", {"index": 0}).status_code == 404


def test_a_run_trained_on_a_server_thread_answers_from_its_session(make_live_server):
    live = make_live_server({"TRAINING_PROCESSES": False})
    run_id = paused_run(live, CLASSIFICATION)
    answer = post(live, f"{run_id}/backprop", {"batch": True}).json()
    assert answer["source"] == "training session"
    assert_matches(answer, reference(exported(live, run_id), answer, CLASSIFICATION))
    post(live, f"{run_id}/stop")


def test_a_pass_too_large_to_send_is_a_400_before_any_work(server):
    # a 1-1024x4-1 net: ~3.2 million weights, ~9.5 million numbers in the answer (~460 MB of
    # JSON for 1024x8, built while the server waited); the view draws 16 neurons a layer anyway
    wide = start_run(server, task="sin", samples=50, epochs=2, hidden=[1024] * 4)
    answer = post(server, f"{wide}/backprop", {"index": 0})
    assert answer.status_code == 400 and "too large" in answer.json()["errors"]["run"]
    # a net whose weights fit, with a batch whose rows do not: the batch is named
    rows = start_run(server, task="sin", samples=4000, epochs=2, hidden=[512, 512],
                     batch_size=2048)  # fmt: skip
    answer = post(server, f"{rows}/backprop", {"batch": True})
    assert answer.status_code == 400 and "one sample" in answer.json()["errors"]["batch"]
    assert post(server, f"{rows}/backprop", {"index": 0}).status_code in (200, 409)
