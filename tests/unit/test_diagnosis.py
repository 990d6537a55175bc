"""The run's teaching voice (app.training.diagnosis) on synthetic histories, and the session's live
changes. The corpus of real runs is in test_diagnosis_corpus.py."""

from __future__ import annotations

import numpy as np
import pytest

from app.data.features import FeatureError, InputFeatures
from app.runs.validation import validate_run
from app.training.diagnosis import Diagnosis, Signals, UnitHealth, findings, sentences, smoothed
from app.training.inside import HealthProbe
from app.training.session import TrainingSession

HEALTHY_RATIO = 1e-3  # a typical update-to-weight ratio per epoch


def decaying(epochs: int, start: float = 1.0, end: float = 1e-3) -> np.ndarray:
    return np.geomspace(start, end, epochs)


def signals(train, test=None, classes=0, epochs=None, units=(), ratio=HEALTHY_RATIO,
            optimizer=None, **more):  # fmt: skip
    train = np.asarray(train, dtype=np.float64)
    columns = {"train_loss": train, "update_ratio": np.full(len(train), ratio)}
    if test is not None:
        columns["test_loss"] = np.asarray(test, dtype=np.float64)
    columns.update({name: np.asarray(value, dtype=np.float64) for name, value in more.items()})
    return Signals(columns, epochs or len(train), classes, list(units), optimizer=optimizer)


def kinds(s: Signals, severity: str = "warning") -> list[str]:
    return [f.kind for f in findings(s) if f.severity == severity]


def test_a_healthy_run_has_no_finding_at_all():
    loss = decaying(200)
    assert findings(signals(loss, loss * 1.1)) == []
    accuracy = np.linspace(0.6, 0.97, 200)
    assert findings(signals(loss, loss * 1.2, classes=2, test_acc=accuracy)) == []


def test_a_loss_ten_times_above_its_start_is_diverging_with_its_epoch_and_lower_lr():
    loss = np.concatenate([decaying(20), np.full(20, 12.0)])
    (finding,) = findings(signals(loss))
    assert finding.kind == "diverging" and finding.epoch == 21
    assert "12× where it started" in finding.sentence
    assert "lower the learning rate" in finding.sentence


def test_a_loss_that_barely_moves_with_tiny_updates_says_raise_the_learning_rate():
    loss = np.linspace(1.2, 1.19, 50)
    (finding,) = findings(signals(loss, loss, ratio=1e-7, lr=np.full(50, 1e-6)))
    assert finding.kind == "too_slow"
    assert "raise the learning rate" in finding.sentence and "1e-06" in finding.sentence
    assert "lower" not in finding.sentence


def test_adams_tiny_steps_on_a_loss_that_halved_then_flattened_say_raise_the_learning_rate():
    # a fresh user's sin at lr 1e-5: the straight-line part learned, then flat, steps at 1e-4
    loss = np.concatenate([np.linspace(0.74, 0.35, 60), np.linspace(0.35, 0.345, 140)])
    quiet = {"ratio": 9.7e-5, "lr": np.full(200, 1e-5)}
    (finding,) = findings(signals(loss, loss, optimizer="adam", **quiet))
    assert finding.kind == "too_slow" and "(1e-05) is too small" in finding.sentence
    # SGD's steps also shrink as it converges: the same history is no verdict on the rate
    assert kinds(signals(loss, loss, optimizer="sgd", **quiet)) == []
    # nor are Adam's ordinary steps, nor a loss that fell by 90 %
    assert kinds(signals(loss, loss, optimizer="adam", ratio=5e-4)) == []
    assert kinds(signals(loss / 10 ** np.linspace(0, 1.2, 200), optimizer="adam", **quiet)) == []


def test_a_live_raise_of_the_learning_rate_that_made_the_loss_worse_says_lower_it_back():
    # a fresh user's moons: lr 0.001 -> 0.1 at epoch 91, test loss 0.069 -> 0.375
    train = np.concatenate([decaying(90, 0.7, 0.06), np.full(110, 0.3)])
    test = np.concatenate([decaying(90, 0.7, 0.069), np.full(110, 0.375)])
    lr = np.concatenate([np.full(90, 0.001), np.full(110, 0.1)])
    accuracy = np.concatenate([np.linspace(0.8, 0.98, 90), np.full(110, 0.88)])
    (finding,) = findings(signals(train, test, classes=2, lr=lr, test_acc=accuracy))
    assert finding.kind == "raised_lr_hurt" and finding.epoch == 91
    assert finding.sentence.startswith("the learning rate was raised from 0.001 to 0.1 at epoch 91")
    assert "(test accuracy 98 % → 88 %)" in finding.sentence
    assert "lower it back (to about 0.001)" in finding.sentence
    assert "fewer epochs would do" not in " ".join(f.sentence for f in findings(
        signals(train, test, classes=2, lr=lr, test_acc=accuracy)))  # fmt: skip


def test_a_raise_that_did_no_harm_or_a_schedule_that_lowers_the_rate_says_nothing_of_it():
    loss = decaying(200)
    raised = np.concatenate([np.full(100, 0.001), np.full(100, 0.01)])
    assert kinds(signals(loss, loss * 1.1, lr=raised)) == []  # the loss went on falling
    stepped = 0.01 * 0.1 ** (np.arange(200) // 50)  # a step schedule: only ever lower
    worse = np.concatenate([decaying(100), np.full(100, 0.5)])
    assert "raised_lr_hurt" not in kinds(signals(worse, worse, lr=stepped))


def test_a_regression_stuck_at_the_mean_with_healthy_updates_names_the_mean():
    loss = np.concatenate([np.linspace(1.5, 1.0, 10), np.full(40, 0.99)])
    (finding,) = findings(signals(loss, loss))
    assert finding.kind == "stuck" and "mean" in finding.sentence
    assert "more neurons" in finding.sentence


def test_a_classifier_at_chance_names_chance():
    loss = np.full(40, 0.69)
    (finding,) = findings(signals(loss, loss, classes=2, test_acc=np.full(40, 0.5)))
    assert finding.kind == "stuck" and "chance" in finding.sentence


def test_a_rising_test_loss_while_the_train_loss_falls_is_overfitting_since_its_epoch():
    train = decaying(100, 1.0, 0.002)
    test = np.concatenate([np.linspace(0.8, 0.46, 20), np.linspace(0.46, 0.85, 80)])
    (finding,) = findings(signals(train, test))
    assert finding.kind == "overfitting" and 17 <= finding.epoch <= 23
    assert "overfit" in finding.sentence and f"epoch {finding.epoch}" in finding.sentence
    for cure in ("L2", "dropout", "fewer epochs", "early stopping"):
        assert cure in finding.sentence


def test_overfitting_that_early_stopping_ended_is_an_observation():
    train = decaying(100, 1.0, 0.002)
    test = np.concatenate([np.linspace(0.8, 0.46, 20), np.linspace(0.46, 0.85, 80)])
    s = signals(train, test)
    s.stopped_early = True
    (finding,) = findings(s)
    assert (finding.kind, finding.severity) == ("overfitting", "observation")
    assert "early stopping ended the run" in finding.sentence


def test_a_test_loss_that_creeps_up_while_accuracy_holds_is_not_overfitting():
    train = decaying(100, 0.7, 0.001)
    test = np.concatenate([np.linspace(0.7, 0.05, 30), np.linspace(0.05, 0.09, 70)])
    accuracy = np.concatenate([np.linspace(0.5, 0.99, 30), np.full(70, 0.99)])
    assert findings(signals(train, test, classes=2, test_acc=accuracy)) == []
    dropped = accuracy.copy()
    dropped[-30:] = 0.94
    assert kinds(signals(train, test, classes=2, test_acc=dropped)) == ["overfitting"]


def test_a_short_bump_of_the_test_loss_is_not_overfitting():
    train = decaying(100)
    test = decaying(100) * 1.2
    test[60:64] *= 3.0
    assert findings(signals(train, test)) == []


def test_dead_units_are_an_observation_on_a_run_that_learned():
    units = [UnitHealth(1, "relu", "dead", 32, 50), UnitHealth(2, "relu", "dead", 1, 50)]
    loss = decaying(60, 1.0, 1e-8)
    (finding,) = findings(signals(loss, loss, classes=2, units=units,
                                  test_acc=np.linspace(0.7, 1.0, 60)))  # fmt: skip
    assert (finding.kind, finding.severity) == ("dead_units", "observation")
    assert "32 of 50 relu units in hidden layer 1" in finding.sentence
    assert "dead" in finding.sentence and "never active" in finding.sentence


def test_dead_units_on_a_run_that_does_not_learn_are_the_warning_that_names_the_cause():
    units = [UnitHealth(1, "relu", "dead", 12, 16)]
    loss = np.full(40, 0.69)
    found = findings(signals(loss, loss, classes=2, units=units, test_acc=np.full(40, 0.5)))
    assert [(f.kind, f.severity) for f in found] == [("dead_units", "warning")]
    assert "not learning" in found[0].sentence and "leaky_relu" in found[0].sentence


def test_saturated_units_are_named_saturated():
    units = [UnitHealth(1, "tanh", "saturated", 9, 16)]
    loss = decaying(50)
    (finding,) = findings(signals(loss, loss, units=units))
    assert "saturated" in finding.sentence and finding.severity == "observation"


def test_swinging_accuracy_says_lower_the_learning_rate():
    loss = decaying(40, 1.0, 0.3)
    found = findings(signals(loss, loss, classes=2, test_acc=np.tile([0.15, 0.85], 20)))
    assert kinds(signals(loss, loss, classes=2, test_acc=np.tile([0.15, 0.85], 20))) == [
        "swinging"
    ]
    assert "swings between 15 % and 85 %" in found[0].sentence


def test_a_plateau_after_learning_is_an_observation_never_a_warning():
    loss = np.concatenate([decaying(50, 1.0, 0.01), np.full(50, 0.01)])
    found = findings(signals(loss, loss * 1.1))
    assert [(f.kind, f.severity) for f in found] == [("plateau", "observation")]
    assert found[0].epoch == 50


def test_a_noisy_end_is_an_observation():
    loss = np.concatenate([decaying(90, 1.0, 1e-3), np.tile([1e-4, 5e-3], 5)])
    assert "noisy_end" in kinds(signals(loss, loss), "observation")
    assert kinds(signals(loss, loss)) == []


def test_too_few_epochs_or_non_finite_losses_give_no_verdict():
    assert findings(signals([1.0, 50.0, 80.0])) == []
    assert findings(signals(np.concatenate([decaying(20), [np.nan]]))) == []


def test_the_diagnosis_dates_a_finding_when_first_seen_and_keeps_that_epoch():
    diagnosis = Diagnosis()
    loss = np.full(60, 0.69)
    accuracy = np.full(60, 0.5)
    first = diagnosis.update(signals(loss[:30], loss[:30], classes=2, epochs=60,
                                     test_acc=accuracy[:30]))  # fmt: skip
    later = diagnosis.update(signals(loss, loss, classes=2, epochs=60, test_acc=accuracy))
    assert first[0].epoch == later[0].epoch == 30
    assert diagnosis.warnings == [later[0].sentence] and diagnosis.observations == []


def test_sentences_split_the_wire_form_by_severity_and_read_older_plain_warnings():
    wire = [{"kind": "plateau", "severity": "observation", "epoch": 3, "sentence": "p"},
            {"kind": "stuck", "severity": "warning", "epoch": 1, "sentence": "s"}, "old"]
    assert sentences(wire, "warning") == ["s", "old"]
    assert sentences(wire, "observation") == ["p"]


def test_smoothing_removes_single_epoch_spikes():
    values = np.ones(40)
    values[20] = 100.0
    assert smoothed(values).max() == 1.0


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



def test_the_update_ratio_is_the_weights_relative_change_and_stays_finite_when_huge():
    import network as nn

    model = nn.mlp([2, 8, 1], seed=0)
    probe = HealthProbe(model, np.zeros((4, 2), np.float32), "tanh")
    before = [layer.weight.data.astype(np.float64) for layer in model.linear_layers()]
    for layer in model.linear_layers():
        layer.weight.data += 0.01
    after = [layer.weight.data.astype(np.float64) for layer in model.linear_layers()]
    change = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(after, before, strict=True)))
    norm = np.sqrt(sum((b**2).sum() for b in before))
    assert probe.update_ratio() == pytest.approx(change / norm, rel=1e-5)
    assert probe.update_ratio() == 0.0  # nothing changed since the last call
    for layer in model.linear_layers():
        layer.weight.data[...] = 1e30  # squares overflow float32
    assert np.isfinite(probe.update_ratio())


def test_the_smoothing_is_the_median_of_each_centred_window_with_the_ends_padded():
    rng = np.random.default_rng(7)
    for length in (1, 2, 3, 20, 61, 100, 999, 4001):
        values = (rng.standard_normal(length) * np.exp(-np.arange(length) / 300)).astype(np.float32)
        width = max(3, length // 20) | 1
        if length < width:
            expected = values.astype(np.float64)
        else:  # numpy's median of every window: the definition (epochs² / 20 of work)
            padded = np.pad(values.astype(np.float64), width // 2, mode="edge")
            windows = np.lib.stride_tricks.sliding_window_view(padded, width)
            expected = np.median(windows, axis=1)
        np.testing.assert_array_equal(smoothed(values), expected)
