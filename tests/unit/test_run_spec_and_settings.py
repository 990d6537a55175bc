"""One run spec, its data drawn once per process, and the live settings the run control owns
(issue 22, point 2), without a server."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import app
import app.data.tasks
from app.config.schema import STEERABLE_FIELDS
from app.runs.control import ComputeSlots, ControlError
from app.runs.run import Run
from app.runs.runner import execute
from app.runs.validation import run_spec


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the times a task's points are drawn (`tasks._drawn_points`)."""
    drawn: list[str] = []
    original = app.data.tasks._drawn_points

    def counting(task: Any, config: dict) -> Any:
        drawn.append(task.id)
        return original(task, config)

    monkeypatch.setattr(app.data.tasks, "_drawn_points", counting)
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
    again = app.data.tasks.build_data(spec.task, dict(spec.config))
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


# --------------------------------------------------------------------------- live settings


def test_live_settings_are_a_versioned_value_the_run_control_owns():
    spec = run_spec({"task": "sin", "samples": 100, "lr": 0.01, "epochs_per_second": 20})
    run = Run("steered", spec.task, spec.config_copy())
    first = run.control.settings
    assert first.version == 0 and first.values["lr"] == 0.01
    assert set(first.values) == {*STEERABLE_FIELDS, "domain"}
    with pytest.raises(TypeError):
        first.values["lr"] = 0.5  # read-only
    run.config["lr"] = 0.5  # a copy: writing it changes nothing
    assert run.config["lr"] == 0.01

    second = run.control.post_changes({"lr": 0.002, "epochs_per_second": None})
    assert second is run.control.settings and second.version == 1
    assert first.values["lr"] == 0.01  # the earlier value is untouched
    assert run.config["lr"] == 0.002 and run.config["epochs_per_second"] is None
    assert run.spec["lr"] == 0.01  # the spec as created
    assert run.control.take_changes() == {"lr": 0.002, "epochs_per_second": None}
    assert {k: v for k, v in run.config.items() if k not in first.values} == {
        k: v for k, v in spec.config.items() if k not in first.values
    }  # nothing but the live settings moved
    with pytest.raises(ValueError, match="not a live setting: hidden"):
        run.control.post_changes({"hidden": [4]})

    run.control.adopt({"lr": 0.002})  # as told, and the same: no new version
    assert run.control.settings.version == 1
    run.control.adopt({"momentum": 0.5})  # e.g. a scaled worker's, as stored
    assert run.control.settings.version == 2 and run.control.take_changes() == {}

    run.control.set_status("stopped")
    with pytest.raises(ControlError, match="nothing to change"):
        run.control.post_changes({"lr": 0.1})


def test_the_run_loop_paces_by_the_settings_in_force():
    spec = run_spec({"task": "sin", "samples": 50, "epochs": 100_000, "epochs_per_second": 2})
    run = Run("paced", spec.task, spec.config_copy())
    slots = ComputeSlots(1)
    slots.request(run.id, lambda: None)
    thread = threading.Thread(target=execute, args=(run, slots, 0.05), daemon=True)
    thread.start()
    with run.control.changed:  # the first epoch, then a pacing wait of half a second ...
        assert run.control.changed.wait_for(lambda: run.control.status == "running", 10)
    run.control.post_changes({"epochs_per_second": None})  # ... cut short: full speed now
    while run.epoch < 200:  # at 2 a second, 200 epochs would take 100 s
        assert run.news.wait(20), run.epoch  # set by every publication of the run loop
        run.news.clear()
    assert run.control.request_stop(wait=5.0) == "stopped"
    thread.join(5)
    history = run.history.columns
    assert run.epoch >= 200 and history["train_loss"].shape[0] >= 200


def test_no_module_but_the_run_control_writes_a_runs_config():
    written = re.compile(r"run\.config\[[^\]]+\]\s*=(?!=)|run\.config\.update\(")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(Path(app.__file__).parent.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if written.search(line)
    ]
    assert offenders == []
