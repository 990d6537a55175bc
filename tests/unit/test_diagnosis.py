"""Warnings when a run is not learning (app.diagnosis) and the session's live changes."""

from __future__ import annotations

import numpy as np
import pytest

from app.diagnosis import accuracy_warnings, dead_unit_warnings, diagnose, loss_warnings
from app.features import FeatureError, InputFeatures
from app.session import TrainingSession
from app.validation import validate_run


def decaying(epochs: int, start: float = 1.0, end: float = 1e-3) -> np.ndarray:
    return np.geomspace(start, end, epochs)


def test_a_healthy_loss_curve_has_no_warning():
    assert loss_warnings(decaying(200), 200, regression=True) == []


def test_a_loss_ten_times_above_its_start_says_lower_the_learning_rate():
    loss = np.concatenate([decaying(20), np.full(20, 12.0)])
    (warning,) = loss_warnings(loss, 100, regression=False)
    assert "12× above where it started" in warning and "lower the learning rate" in warning


def test_a_regression_no_better_than_the_mean_is_told_so():
    loss = np.full(50, 1.3)
    assert any("predicting the mean" in w for w in loss_warnings(loss, 50, regression=True))
    assert not any("mean" in w for w in loss_warnings(loss, 50, regression=False))


def test_a_plateau_is_reported_only_when_little_was_learned():
    stuck = np.concatenate([np.linspace(1.0, 0.6, 50), np.full(50, 0.6)])
    assert any("not improved" in w for w in loss_warnings(stuck, 100, regression=False))
    converged = np.concatenate([decaying(50, 1.0, 0.01), np.full(50, 0.01)])
    assert loss_warnings(converged, 100, regression=False) == []


def test_too_few_epochs_give_no_verdict():
    assert loss_warnings(np.array([1.0, 50.0, 80.0]), 3, regression=True) == []


def test_swinging_and_chance_level_accuracy():
    swinging = np.tile([0.15, 0.85], 20)
    assert any("swings between 15 % and 85 %" in w for w in accuracy_warnings(swinging, 40, 2))
    chance = np.full(40, 0.5)
    assert any("chance level" in w for w in accuracy_warnings(chance, 40, 2))
    assert accuracy_warnings(np.linspace(0.6, 0.97, 40), 40, 2) == []


def test_dead_relu_layers_are_named_with_their_counts():
    assert dead_unit_warnings([(12, 16), (1, 16)]) == [
        "12 of 16 ReLU units in hidden layer 1 never activate: lower the learning rate or "
        "try leaky_relu"
    ]


def test_diagnose_combines_the_rules():
    columns = {"train_loss": np.full(40, 0.7), "test_acc": np.full(40, 0.5)}
    warnings = diagnose(columns, 40, classes=2, dead=[(8, 8)])
    assert len(warnings) == 3


# --------------------------------------------------------------------------- features, changes


def test_input_features_compute_one_column_each_in_the_inputs_dtype():
    features = InputFeatures(["x", "x*y", "sin(y)"], 2)
    X = np.array([[1.0, 2.0], [0.5, 0.0]], dtype=np.float32)
    out = features(X)
    assert out.dtype == np.float32 and out.shape == (2, 3)
    np.testing.assert_allclose(out[:, 1], [2.0, 0.0])
    assert InputFeatures(None, 2)(X) is X and InputFeatures(None, 2).width == 2


def test_a_feature_not_finite_names_itself():
    with pytest.raises(FeatureError, match=r"feature 2 \(log\(x\)\)"):
        InputFeatures(["x", "log(x)"], 1)(np.array([[-1.0]]))
    with pytest.raises(FeatureError, match="feature 1"):
        InputFeatures(["1/x"], 1).check([[-1.0, 1.0]])


def test_live_changes_reach_the_optimizer_the_schedule_and_the_batch_size():
    config, task = validate_run({"task": "sin", "optimizer": "sgd", "samples": 100,
                                 "schedule": "cosine", "epochs": 10})  # fmt: skip
    session = TrainingSession(task, config)
    session.advance()
    session.apply({"lr": 0.5, "l1": 0.01, "weight_decay": 0.02, "momentum": 0.3,
                   "batch_size": 5})  # fmt: skip
    assert session.scheduler.base_lr == 0.5
    assert session.optimizer.lr == pytest.approx(session.scheduler.lr_at(1))
    assert (session.optimizer.l1, session.optimizer.weight_decay) == (0.01, 0.02)
    assert session.optimizer.momentum == 0.3 and session.trainer.batch_size == 5
    record = session.record(session.advance())
    assert (record["batch_size"], record["l1"], record["momentum"]) == (5, 0.01, 0.3)


def rmsprop_session(momentum: float) -> TrainingSession:
    config, task = validate_run({"task": "sin", "optimizer": "rmsprop", "momentum": momentum,
                                 "samples": 100, "epochs": 10, "seed": 3})  # fmt: skip
    return TrainingSession(task, config)


def test_rmsprop_takes_the_runs_momentum_and_its_live_changes():
    with_momentum, without = rmsprop_session(0.9), rmsprop_session(0.0)
    assert (with_momentum.optimizer.momentum, without.optimizer.momentum) == (0.9, 0.0)
    losses = [[s.record(s.advance())["train_loss"] for _ in range(3)]
              for s in (with_momentum, without)]  # fmt: skip
    assert losses[0] != losses[1]
    assert "momentum" in with_momentum.history_columns()
    with_momentum.apply({"momentum": 0.2})
    assert with_momentum.optimizer.momentum == 0.2
    assert with_momentum.record(with_momentum.advance())["momentum"] == 0.2


def test_adam_has_no_momentum_column():
    config, task = validate_run({"task": "sin", "optimizer": "adam", "samples": 100})
    assert "momentum" not in TrainingSession(task, config).history_columns()


def test_a_regression_far_worse_than_the_mean_says_how_much():
    (warning,) = [w for w in loss_warnings(np.full(50, 16.1), 50, regression=True) if "mean" in w]
    assert "16.1× worse than predicting the mean" in warning
