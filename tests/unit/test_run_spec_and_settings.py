"""One run spec, its data drawn once per process, and the live settings the run control owns
(issue 22, point 2), without a server."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import app.tasks
from app.runs import Run
from app.validation import run_spec


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the times a task's points are drawn (`tasks._drawn_points`)."""
    drawn: list[str] = []
    original = app.tasks._drawn_points

    def counting(task: Any, config: dict) -> Any:
        drawn.append(task.id)
        return original(task, config)

    monkeypatch.setattr(app.tasks, "_drawn_points", counting)
    return drawn


def test_a_classification_runs_points_are_drawn_once_from_request_to_training(draws):
    spec = run_spec({"task": "moons", "samples": 200, "epochs": 3})
    assert draws == ["moons"]  # settling its domain drew them ...
    run = Run("once", spec.task, spec.config_copy(), spec.data)
    assert run.payloads_now() is not None  # ... a watcher's snapshot before it starts ...
    session = run.session()  # ... and its training use them
    run.start(session)
    session.advance()
    assert draws == ["moons"]
    assert run.config["domain"] == [list(pair) for pair in session.data.domain]
    # the same data as drawing again from the settled config (same seed, same domain)
    again = app.tasks.build_data(spec.task, dict(spec.config))
    np.testing.assert_array_equal(session.data.x_train, again.x_train)


def test_a_run_read_back_draws_its_data_once_for_its_payloads_and_checkpoint_views(draws):
    spec = run_spec({"task": "moons", "samples": 200, "epochs": 3})
    trained = Run("trained", spec.task, spec.config_copy(), spec.data)
    session = trained.session()
    session.advance()
    checkpoint = session.checkpoint()
    draws.clear()
    stored = Run("stored", spec.task, spec.config_copy())  # as read back: no spec data
    stored.restored, stored.checkpoint = True, checkpoint
    assert stored.payloads_now() is not None and stored.view is not None
    stored.stale_payloads = True  # e.g. a scaled worker's new slice: rebuilt, not redrawn
    assert stored.payloads_now() is not None
    assert draws == ["moons"]
