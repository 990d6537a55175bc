"""The best epoch (lowest test loss) and early stopping, in the training session and its
checkpoint (issue 26)."""

from __future__ import annotations

import numpy as np
import pytest

from app.runs.validation import ConfigError, validate_run
from app.storage.store import decode_checkpoint, encode_checkpoint
from app.training.session import TrainingSession

OVERFITS = {"task": "sin", "samples": 30, "noise": 0.5, "hidden": [128, 128], "lr": 0.01}


def train(body: dict) -> tuple[TrainingSession, list[dict]]:
    config, task = validate_run(body)
    session = TrainingSession(task, config)
    records: list[dict] = []
    while session.epoch < config["epochs"]:
        done = session.train_slice(None, float("inf"), config["epochs"], several=True)
        records += done.records
        if session.stopped_early:
            break
    return session, records


def test_the_session_keeps_the_weights_of_its_lowest_test_loss():
    session, records = train({**OVERFITS, "epochs": 200})
    losses = [r["test_loss"] for r in records]
    best = int(np.argmin(losses)) + 1
    checkpoint = session.checkpoint()
    assert checkpoint.best is not None and checkpoint.best[0] == best < 200
    at_best = checkpoint.at_best()
    assert at_best.epoch == best and set(at_best.state) == set(checkpoint.state)
    assert any(not np.array_equal(at_best.state[k], checkpoint.state[k]) for k in at_best.state)


def test_early_stopping_ends_training_at_the_best_epoch_plus_patience_and_restores_it():
    rule = {"patience": 15, "restore_best": True}
    session, records = train({**OVERFITS, "epochs": 400, "early_stopping": rule})
    best = int(np.argmin([r["test_loss"] for r in records])) + 1
    assert session.epoch == len(records) == best + 15 < 400
    assert "early stopping" in records[-1]["early_stop"]
    assert f"since epoch {best}" in records[-1]["early_stop"]
    state = session.model.state_dict()
    for name, value in session.best.state.items():
        np.testing.assert_array_equal(state[name], value)
    assert session.train_slice(None, float("inf"), 400, several=True).records == []


def test_without_restore_best_the_last_weights_stay():
    rule = {"patience": 15, "restore_best": False}
    session, records = train({**OVERFITS, "epochs": 400, "early_stopping": rule})
    assert "restored" not in records[-1]["early_stop"]
    state = session.model.state_dict()
    assert any(not np.array_equal(state[k], v) for k, v in session.best.state.items())


def test_the_best_weights_survive_storage():
    session, _ = train({**OVERFITS, "epochs": 60})
    checkpoint = session.checkpoint()
    again = decode_checkpoint(encode_checkpoint(checkpoint))
    assert again.best[0] == checkpoint.best[0]
    for name, value in checkpoint.best[1].items():
        np.testing.assert_array_equal(again.best[1][name], value)


@pytest.mark.parametrize(
    ("value", "message"),
    [({"patience": 0}, "patience must be from 1"), ({"patience": 2.5}, "whole number"),
     ({"wait": 3}, "unknown parameter 'wait'"), ({"restore_best": "yes"}, "true or false"),
     (5, "an object {patience, restore_best}")],
)  # fmt: skip
def test_a_bad_early_stopping_names_what_is_wrong(value, message):
    with pytest.raises(ConfigError) as caught:
        validate_run({"task": "sin", "early_stopping": value})
    assert message in caught.value.errors["early_stopping"]
