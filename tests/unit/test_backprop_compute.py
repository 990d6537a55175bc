"""The backprop pass (app.backprop.compute) on in-process training sessions: every activation and
loss against PyTorch autograd in float64, the reported update against the step the run then
takes, and requests it cannot answer."""

from __future__ import annotations

import json

import numpy as np
import pytest
from backprop_reference import assert_matches, torch_pass

import network as nn
from app.backprop.api import parse_ask
from app.backprop.compute import Ask, BackpropError, backprop
from app.runs.validation import validate_run
from app.training.session import TrainingSession


def session_of(loss: str | None = None, **config) -> TrainingSession:
    config, task = validate_run({"samples": 120, "hidden": [5, 4], "batch_size": 16, **config})
    if loss is not None:  # "bce" is the engine's, not offered by the app: set it behind validation
        config["loss"] = loss
    return TrainingSession(task, config)


def reference_of(session: TrainingSession, answer: dict) -> dict:
    linear = session.model.linear_layers()
    weights = [layer.weight.data for layer in linear]
    biases = [layer.bias.data for layer in linear]
    x = np.asarray(answer["input"], np.float64).reshape(-1, weights[0].shape[0])
    loss = session.config["loss"]
    if loss == "cross_entropy":
        target = np.argmax(np.asarray(answer["target"]).reshape(len(x), -1), axis=1)
    else:
        target = np.asarray(answer["target"], np.float64).reshape(len(x), -1)
    return torch_pass(weights, biases, session.config["activation"], loss, x, target)


CASES = [("sin", None), ("moons", "cross_entropy"), ("moons", "bce"), ("moons", "mse")]


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
@pytest.mark.parametrize(("task", "loss"), CASES)
def test_a_sample_and_a_batch_equal_torch_autograd(activation, task, loss):
    session = session_of(loss, task=task, activation=activation, optimizer="adam", lr=0.01)
    session.advance(max_batches=3)
    for ask in (Ask(index=7), Ask(batch=True)):
        answer = backprop(session, ask)
        assert_matches(answer, reference_of(session, answer))
        assert np.mean(answer["loss_terms"]) == pytest.approx(answer["loss"], rel=1e-12)
        rows = 1 if ask.index is not None else session.trainer.batch_size
        width = session.sizes[1]
        assert np.shape(answer["layers"][0]["z"]) == ((width,) if rows == 1 else (rows, width))
        assert np.shape(answer["layers"][0]["dW"]) == (session.sizes[0], width)  # (in, out)


def test_a_sample_is_the_training_row_and_its_standardised_target():
    session = session_of(task="sin")
    answer = backprop(session, Ask(index=4))
    x, t = session.trainer.samples(np.array([4]))
    assert answer["input"] == x[0].astype(np.float64).tolist()
    assert answer["target"] == t[0].astype(np.float64).tolist()
    assert answer["raw"]["x"] == session.data.x_train[4].tolist()
    expected = (session.data.y_train[4] - session.y_scaler.mean) / session.y_scaler.std
    assert answer["target"][0] == pytest.approx(float(np.ravel(expected)[0]), rel=1e-6)


def test_a_point_in_task_units_becomes_the_networks_input_and_target():
    session = session_of(task="sin")
    row = backprop(session, Ask(index=9))
    point = backprop(session, Ask(x=row["raw"]["x"], y=float(np.ravel(row["raw"]["y"])[0])))
    assert point["input"] == pytest.approx(row["input"], abs=1e-6)
    assert point["target"] == pytest.approx(row["target"], abs=1e-6)
    assert point["loss"] == pytest.approx(row["loss"], rel=1e-5)


@pytest.mark.parametrize(
    "optimizer", [{"optimizer": "sgd", "momentum": 0.9, "weight_decay": 0.01},
                  {"optimizer": "adam", "l1": 0.001}, {"optimizer": "rmsprop"}],
)  # fmt: skip
def test_the_update_is_the_change_the_next_step_makes(optimizer):
    session = session_of(task="moons", lr=0.05, **optimizer)
    for batches in (2, 5, 3):  # mid-epoch, at an epoch's end (next: a new shuffle), mid-epoch
        session.advance(max_batches=batches)
        answer = backprop(session, Ask(batch=True))
        before = session.model.state_dict()
        while session.trainer.evaluating:  # the epoch's evaluation trains nothing
            session.advance(max_batches=1)
        steps = session.steps
        session.advance(max_batches=1)
        assert session.steps == steps + 1
        after = session.model.state_dict()
        linear = [int(k.split(".")[0]) for k in before if k.endswith("weight")]
        for layer, position in zip(answer["layers"], linear, strict=True):
            for name, key in (("W", f"{position}.weight"), ("b", f"{position}.bias")):
                change = (after[key] - before[key]).astype(np.float64)
                reported = np.asarray(layer["update"][name])
                scale = float(np.abs(reported).max())
                assert scale > 0
                # float32 training against a float64 report: equal to float32 rounding
                assert np.abs(change - reported).max() <= 1e-4 * scale + 1e-7  # measured ~2e-6


def test_the_batch_is_the_one_the_next_step_trains():
    session = session_of(task="sin", optimizer="sgd", momentum=0.0, lr=0.1)
    session.advance(max_batches=4)
    rows = backprop(session, Ask(batch=True))["rows"]
    assert rows == session.trainer.next_batch().tolist()
    assert len(rows) == 16


def test_a_plotted_point_picks_the_nearest_training_sample():
    session = session_of(task="moons")
    point = session.data.x_train[37].tolist()
    assert backprop(session, Ask(near=point))["rows"] == [37]
    assert backprop(session, Ask(near=[p + 1e-4 for p in point]))["rows"] == [37]
    for near in ([0.1], [0.0, float("nan")], "x"):
        with pytest.raises(BackpropError, match="near"):
            backprop(session, Ask(near=near))


@pytest.mark.parametrize(
    ("ask", "field"),
    [(Ask(index=-1), "index"), (Ask(index=10_000), "index"), (Ask(x=[0.1, 0.2], y=0.0), "x"),
     (Ask(x=[float("nan")], y=0.0), "x"), (Ask(x=[0.5], y=float("inf")), "y"),
     (Ask(x=["a"], y=0.0), "x"), (Ask(x=[0.5], y=[1.0, 2.0]), "y")],
)  # fmt: skip
def test_a_bad_request_names_its_field(ask, field):
    with pytest.raises(BackpropError) as caught:
        backprop(session_of(task="sin"), ask)
    assert caught.value.field == field


def test_a_class_target_must_be_a_label():
    session = session_of(task="moons")
    for y in (2, -1, 0.5, True):
        with pytest.raises(BackpropError, match="y"):
            backprop(session, Ask(x=[0.0, 0.0], y=y))
    assert backprop(session, Ask(x=[0.0, 0.0], y=1))["raw"]["y"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [(None, "body"), ([], "body"), ({"index": 1.5}, "index"), ({"index": True}, "index"),
     ({"batch": False}, "batch"), ({"batch": True, "index": 1}, "batch"), ({"x": [1]}, "y"),
     ({}, "x"), ({"what": 1}, "what"), ({"index": 1, "x": [1]}, "index"),
     ({"near": [1], "x": [1]}, "near")],
)  # fmt: skip
def test_bodies_are_checked_field_by_field(body, field):
    with pytest.raises(BackpropError) as caught:
        parse_ask(body)
    assert caught.value.field == field


def test_a_task_of_many_inputs_names_them_as_the_task_does():
    session = session_of(task="digits", hidden=[20], samples=300)
    answer = backprop(session, Ask(index=3))
    assert answer["input_names"][:2] == ["pixel (0, 0)", "pixel (0, 1)"]
    assert len(answer["input"]) == 64 and answer["raw_input_names"] == answer["input_names"]
    assert_matches(answer, reference_of(session, answer))
    point = backprop(session, Ask(x=answer["raw"]["x"], y=int(answer["raw"]["y"])))
    assert point["loss"] == pytest.approx(answer["loss"], rel=1e-5)


def test_input_features_are_the_networks_input_names():
    session = session_of(task="saddle", input_features=["x", "y", "x*y"])
    answer = backprop(session, Ask(index=0))
    assert answer["input_names"] == ["x", "y", "x*y"]
    assert answer["raw_input_names"] == ["x", "y"] and len(answer["raw"]["x"]) == 2
    assert_matches(answer, reference_of(session, answer))


def test_a_diverged_runs_non_finite_numbers_go_out_as_null():
    session = session_of(task="sin")
    session.model.linear_layers()[-1].weight.data[0, 0] = np.inf
    answer = backprop(session, Ask(batch=True))
    json.dumps(answer, allow_nan=False)  # JSON that browsers parse
    assert answer["loss"] is None and answer["layers"][-1]["W"][0][0] is None
