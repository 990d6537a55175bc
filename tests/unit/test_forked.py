"""A run's training session in a forked child process (`app.training.forked`): the same
trajectory as in
this process, training ahead while the run trains freely, live changes and errors across the
pipe, and a child that holds none of the server's file descriptors and ends with its run."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import threading
import time
from typing import Any

import numpy as np
import pytest

import network as nn
from app.runs.control import ComputeSlots
from app.runs.run import Run
from app.runs.runner import execute
from app.runs.validation import validate_run
from app.training.forked import SLICES_AHEAD, ForkedSession, TrainingProcessError
from app.training.session import TrainingSession

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the system cannot fork")


def _session(**fields: Any) -> TrainingSession:
    config, task = validate_run(
        {"task": "sin", "hidden": [8], "samples": 60, "batch_size": 20, **fields}
    )
    return TrainingSession(task, config)


def _train_all(session: Any, epochs: int) -> list[dict]:
    records: list[dict] = []
    while session.epoch < epochs:
        got, error, _ = session.train_slice(None, time.perf_counter() + 0.02, epochs, True)
        assert error is None
        records += got
    got, error, _ = session.settle()
    assert error is None
    return records + got


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_it_follows_exactly_the_trajectory_of_a_session_in_this_process():
    here, there = _session(epochs=300), ForkedSession(_session(epochs=300))
    try:
        assert there._pid != os.getpid() and not _gone(there._pid)
        mine, theirs = _train_all(here, 300), _train_all(there, 300)
        assert [record["epoch"] for record in theirs] == list(range(1, 301))
        for name in ("train_loss", "test_loss", "test_r2", "lr", "batch_size"):
            assert [r[name] for r in theirs] == [r[name] for r in mine], name
        assert there.epoch == 300 and there.progress() == here.progress()
        np.testing.assert_array_equal(there.view().prediction, here.view().prediction)
        checkpoint = there.checkpoint()
        assert checkpoint.epoch == 300
        for name, value in here.checkpoint().state.items():
            np.testing.assert_array_equal(checkpoint.state[name], value)
        assert there.dead_units() == here.dead_units()
    finally:
        there.close()


def test_it_trains_ahead_between_calls_and_settle_returns_every_epoch_it_trained():
    there = ForkedSession(_session(epochs=100_000))
    try:
        first = there.train_slice(None, time.perf_counter() + 0.02, 100_000, True).records
        time.sleep(0.4)  # meanwhile the child trains up to SLICES_AHEAD slices ahead
        ahead, error, view = there.settle()
        assert error is None and view is None and len(ahead) > 0
        assert [r["epoch"] for r in first + ahead] == list(range(1, len(first) + len(ahead) + 1))
        assert there.epoch == len(first) + len(ahead)
        assert there.checkpoint().epoch == there.epoch  # its weights match the returned epochs
        time.sleep(0.2)  # settled: it trains no further on its own
        assert there.settle() == ([], None, None)
        assert there.checkpoint().epoch == there.epoch
        assert SLICES_AHEAD >= 2
    finally:
        there.close()


def test_a_due_view_comes_with_the_epochs_returned_and_shows_the_weights_at_the_last():
    here, there = _session(epochs=100_000), ForkedSession(_session(epochs=100_000))
    try:
        first = there.train_slice(None, time.perf_counter() + 0.02, 100_000, True)
        assert first.view is None  # none was asked for
        time.sleep(0.2)  # the child trains ahead
        past = time.perf_counter() - 1
        later = there.train_slice(None, time.perf_counter() + 0.02, 100_000, True, None, past)
        assert later.view is not None and later.view.inside is None
        epochs = len(first.records) + len(later.records)
        assert later.records[-1]["epoch"] == epochs == there.epoch
        _train_all(here, epochs)
        batch = there.progress()["batch"]  # a slice may end inside an epoch
        if batch:
            here.advance(max_batches=batch)
        assert here.steps == there.steps
        np.testing.assert_array_equal(later.view.prediction, here.view().prediction)
        inside = there.train_slice(None, time.perf_counter() + 0.02, 100_000, True, None, past,
                                   past)  # fmt: skip
        assert inside.view.inside is not None and len(inside.view.inside.neurons) == 1
        future = time.perf_counter() + 60
        assert there.train_slice(None, 0, 100_000, True, None, future).view is None
    finally:
        there.close()


def test_it_never_trains_ahead_past_the_runs_last_epoch():
    there = ForkedSession(_session(epochs=100_000))
    try:
        there.train_slice(None, time.perf_counter() + 0.02, 30, True)
        time.sleep(0.3)
        records = there.settle().records
        assert there.epoch == 30 and there.checkpoint().epoch == 30
        assert records == [] or records[-1]["epoch"] == 30
    finally:
        there.close()


def test_steps_and_live_changes_reach_the_child():
    there = ForkedSession(_session(epochs=100, samples=200, test_fraction=0.5))
    try:
        assert there.train_slice(2, time.perf_counter() + 5, 100, False) == ([], None, None)
        assert there.steps == 2 and there.progress() == {"epoch": 1, "batch": 2, "batches": 5}
        there.apply({"lr": 0.5, "batch_size": 50})
        records = there.train_slice(None, time.perf_counter() + 5, 100, False).records
        assert records[0]["lr"] == 0.5 and records[0]["batch_size"] == 50
        assert there.steps == 4  # the 60 rows left of 100, at 50 a mini-batch: two more
    finally:
        there.close()


def test_an_error_in_the_child_is_raised_in_the_parent_with_its_message():
    there = ForkedSession(_session())
    try:
        there.apply({"batch_size": 0})  # not validated here: the trainer refuses it
        with pytest.raises(ValueError, match="batch_size"):
            there.train_slice(None, time.perf_counter() + 1, 10, True)
    finally:
        there.close()


def test_divergence_crosses_the_pipe_with_its_epoch_after_the_epochs_before_it():
    error = nn.DivergenceError(7, float("inf"))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.epoch, copy.loss, str(copy)) == (7, float("inf"), str(error))
    there = ForkedSession(_session(task="sin", lr=10, optimizer="sgd", epochs=500))
    try:
        records: list[dict] = []
        while True:
            got, error, _ = there.train_slice(None, time.perf_counter() + 0.05, 500, True)
            records += got
            if error is not None:
                break
        assert isinstance(error, nn.DivergenceError)
        assert [r["epoch"] for r in records] == list(range(1, error.epoch))
    finally:
        there.close()


def test_close_ends_the_child_and_a_killed_child_is_reported():
    there = ForkedSession(_session())
    pid = there._pid
    there.close()
    there.close()  # idempotent
    assert _gone(pid)
    killed = ForkedSession(_session())
    os.kill(killed._pid, signal.SIGKILL)
    with pytest.raises(TrainingProcessError, match="ended unexpectedly"):
        killed.view()
    killed.close()
    assert _gone(killed._pid)


def test_a_child_that_stops_answering_is_killed_and_reported(monkeypatch):
    import app.training.forked

    monkeypatch.setattr(app.training.forked, "HANG_SECONDS", 0.3)
    hung = ForkedSession(_session())
    os.kill(hung._pid, signal.SIGSTOP)
    with pytest.raises(TrainingProcessError, match="did not answer"):
        hung.view()
    hung.close()
    assert _gone(hung._pid)
    stopping = ForkedSession(_session(), stopping=lambda: True)  # a stop was asked for
    monkeypatch.setattr(app.training.forked, "HANG_SECONDS", 60.0)
    os.kill(stopping._pid, signal.SIGSTOP)
    with pytest.raises(TrainingProcessError, match="did not answer"):  # after STOP_GRACE
        stopping.ping()
    stopping.close()
    assert _gone(stopping._pid)


def test_the_child_ignores_ctrl_c_and_ends_when_the_server_is_gone():
    there = ForkedSession(_session())
    os.kill(there._pid, signal.SIGINT)  # what Ctrl+C sends the whole process group
    os.kill(there._pid, signal.SIGTERM)
    # the signals are pending before the child can answer: an answer means it ignored them
    assert there.view().prediction.shape == (200,)  # still there, for the server to decide
    there._pipe.close()  # as when the server dies: the pipe closes
    os.waitpid(there._pid, 0)  # it ends by itself (else this would hang the test)
    assert _gone(there._pid)
    there._pipe = None


def test_the_child_holds_none_of_the_servers_file_descriptors():
    ours, peer = socket.socketpair()
    there = ForkedSession(_session())
    try:
        ours.close()  # were the child holding a copy, the peer would see no end of stream
        peer.settimeout(5)
        assert peer.recv(1) == b""
    finally:
        peer.close()
        there.close()


def test_a_run_trained_by_a_child_records_every_epoch_and_ends_it():
    config, task = validate_run({"task": "sin", "hidden": [2], "samples": 20, "batch_size": 20,
                                 "epochs": 3000})  # fmt: skip
    run = Run("forked", task, config)
    slots = ComputeSlots(1)
    slots.request(run.id, lambda: None)
    children: list[int] = []
    start = run.start

    def start_and_note(session: Any, inside: bool = False) -> None:
        children.append(session._pid)
        start(session, inside)

    run.start = start_and_note
    thread = threading.Thread(target=execute, args=(run, slots, 0.05, 0.1, True), daemon=True)
    thread.start()
    thread.join(60)
    assert run.status == "finished" and run.history.length == 3000
    assert np.all(np.isfinite(run.history.columns["train_loss"][:3000]))
    assert run.checkpoint.epoch == 3000 and run.inside is not None
    assert children and children[0] != os.getpid() and _gone(children[0])
    assert slots.in_use == 0


def test_a_late_pause_and_stop_leave_a_run_trained_by_a_child_finished():
    config, task = validate_run({"task": "sin", "samples": 100, "epochs": 1, "batch_size": 70})
    run = Run("race", task, config)
    session = TrainingSession(task, config)
    assert session.advance(deadline=time.perf_counter() - 1) is None  # only evaluation left
    run.session = lambda: session
    run.control.request_pause()
    run.control.request_stop()
    slots = ComputeSlots(1)
    slots.request(run.id, lambda: None)
    thread = threading.Thread(target=execute, args=(run, slots, 0.05, None, True), daemon=True)
    thread.start()
    thread.join(10)
    assert run.status == "finished" and run.epoch == 1
    assert slots.in_use == 0
