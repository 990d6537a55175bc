"""Auto pace (app.runs.pace): the wall time follows the learning."""

from __future__ import annotations

import numpy as np
import pytest

from app import ROOT, create_app
from app.runs.pace import AUTO_SECONDS, MAX_DELAY, LearningPace
from app.runs.validation import validate_run
from app.training.session import TrainingSession


def shown_for(losses) -> np.ndarray:
    pace = LearningPace(len(losses))
    return np.array([pace.after_epoch(float(loss)) for loss in losses])


def test_a_default_sin_run_spends_at_least_half_its_time_in_its_first_fifth():
    config, task = validate_run({"task": "sin"})
    session = TrainingSession(task, config)
    losses = [session.advance()["train_loss"] for _ in range(config["epochs"])]
    delays = shown_for(losses)
    first_fifth = delays[: len(delays) // 5].sum()
    assert first_fifth >= 0.5 * delays.sum()
    assert 0.5 * AUTO_SECONDS <= delays.sum() <= 2 * AUTO_SECONDS


def test_a_default_sin_run_takes_the_auto_seconds():
    config, task = validate_run({"task": "sin"})
    session = TrainingSession(task, config)
    losses = [session.advance()["train_loss"] for _ in range(config["epochs"])]
    assert shown_for(losses).sum() == pytest.approx(AUTO_SECONDS, rel=0.1)


def test_the_speed_control_and_the_readme_say_what_a_default_sin_run_takes():
    page = create_app({"TESTING": True}).test_client().get("/fit/sin").get_data(as_text=True)
    assert f"Auto (~{AUTO_SECONDS:g} s)" in page  # generated from the constant
    assert f"about {AUTO_SECONDS:g} s" in page
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"a default sin run in ~{AUTO_SECONDS:g} s" in readme


def test_a_plateau_passes_at_the_floor_and_progress_is_shown_longer():
    losses = np.concatenate([np.geomspace(1.0, 1e-3, 50), np.full(450, 1e-3)])
    delays = shown_for(losses)
    floor = delays[-1]
    assert floor == pytest.approx(0.25 * AUTO_SECONDS / 500)
    assert (delays[1:50] > 5 * floor).all()
    assert delays.max() <= MAX_DELAY


def test_noise_that_sets_no_new_low_makes_no_progress():
    losses = np.concatenate([[1.0, 0.1], np.tile([0.5, 0.2], 20)])
    delays = shown_for(losses)
    assert np.allclose(delays[2:], delays[-1])


def test_a_run_that_learns_nothing_passes_quickly():
    assert shown_for(np.full(500, 1.2)).sum() == pytest.approx(0.25 * AUTO_SECONDS)


def test_non_finite_losses_make_no_progress_and_epochs_must_be_positive():
    pace = LearningPace(10)
    assert pace.after_epoch(None) == pace.after_epoch(float("nan")) == pace.floor
    with pytest.raises(ValueError, match="epochs"):
        LearningPace(0)
