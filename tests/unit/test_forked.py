"""A run trained in a forked child process (`app.transports.pipe`, `app.training.forked`): the
child runs the one run loop on a `Run` and `RunControl` of its own; commands go in, events come
out, and the server's `Run` follows: the same trajectory as on a thread, requests and live
changes across the pipe, calls answered by the training's own session, a killed or hung child
ending its run, and a child that holds none of the server's file descriptors and ends with it."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import pytest
from waiting import holds, wait_until

import network as nn
from app.runs.control import ComputeSlots, ControlError
from app.runs.run import Run
from app.runs.runner import execute
from app.runs.validation import validate_run
from app.training.forked import ChildProcess, TrainingProcessError
from app.training.session import TrainingSession
from app.transports import pipe
from app.transports.pipe import train_in_child

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the system cannot fork")


def _run(run_id: str = "forked", **fields: Any) -> Run:
    config, task = validate_run(
        {"task": "sin", "hidden": [8], "samples": 60, "batch_size": 20, **fields}
    )
    return Run(run_id, task, config)


class _Trained:
    """A run trained by `train` on a thread of this test (its slot held, as the manager's)."""

    def __init__(self, run: Run, train: Callable[..., None] = train_in_child,
                 slots: ComputeSlots | None = None, **options: Any) -> None:  # fmt: skip
        self.run, self.slots = run, slots or ComputeSlots(1)
        self.ends = 0
        run.on_end.append(self._ended)
        self.slots.request(run.id, lambda: None)
        self.thread = threading.Thread(
            target=train, args=(run, self.slots, 0.05, 0.1), kwargs=options, daemon=True
        )
        self.thread.start()

    def _ended(self, _run: Run) -> None:
        self.ends += 1

    def wait(self, what: Callable[[], Any], timeout: float = 30.0, why: str = "") -> Any:
        return wait_until(what, timeout, why)

    def child(self) -> int:
        return self.wait(lambda: getattr(self.run.live, "process", None), why="a child").pid

    def training(self, checkpointed: bool = False) -> int:
        """The child's pid, once the run has trained two epochs (and taken a checkpoint)."""
        pid = self.child()
        run = self.run
        self.wait(lambda: run.epoch >= 2 and (run.checkpoint or not checkpointed),
                  why="two epochs" + (", a checkpoint" if checkpointed else ""))  # fmt: skip
        return pid

    def join(self, timeout: float = 30.0) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _pid_and_steps(session: TrainingSession, extra: int) -> tuple[int, int]:
    return os.getpid(), session.steps + extra


def test_a_run_trained_in_a_child_follows_exactly_the_trajectory_of_one_on_a_thread():
    here, there = _run("here", epochs=300), _run("there", epochs=300)
    on_thread, in_child = _Trained(here, execute), _Trained(there)
    pid = in_child.child()
    on_thread.join()
    in_child.join()
    assert pid != os.getpid() and _gone(pid)
    assert here.status == there.status == "finished" and there.history.length == 300
    for name in ("train_loss", "test_loss", "test_r2", "lr", "batch_size"):
        np.testing.assert_array_equal(
            there.history.columns[name][:300], here.history.columns[name][:300], err_msg=name
        )
    assert there.checkpoint.epoch == 300 and there.inside is not None
    for name, value in here.checkpoint.state.items():
        np.testing.assert_array_equal(there.checkpoint.state[name], value)
    np.testing.assert_array_equal(there.view.prediction, here.view.prediction)
    assert there.progress == here.progress and there.findings == here.findings
    assert in_child.ends == 1 and in_child.slots.in_use == 0
    assert there.control.elapsed() > 0


def test_pause_step_live_changes_and_stop_reach_the_child():
    run = _run(epochs=100_000, samples=200, test_fraction=0.5)
    trained = _Trained(run)
    trained.wait(lambda: run.epoch >= 3, why="three epochs")
    assert run.control.request_pause(10.0) == "paused"
    assert trained.slots.in_use == 0  # a paused run gives its slot back
    epoch = run.epoch
    assert run.control.request_step("epochs", 3, 10.0) == "paused"
    assert run.epoch == epoch + 3 and run.control.step_state() is None
    assert run.control.request_step("batches", 2, 10.0) == "paused"
    assert run.progress["batch"] == 2
    run.control.post_changes({"lr": 0.5, "batch_size": 50})
    assert run.control.request_step("epochs", 1, 10.0) == "paused"
    assert run.last("lr") == 0.5 and run.last("batch_size") == 50
    assert run.lr_changes[-1] == {"epoch": epoch + 3, "lr": 0.5}
    assert run.control.request_resume(10.0) == "running"
    trained.wait(lambda: run.epoch > epoch + 10, why="training on")
    run.control.request_stop(10.0)
    trained.join()
    assert run.status == "stopped"
    assert run.control.reason.startswith(f"stopped at epoch {run.epoch}")
    assert run.checkpoint.epoch == run.epoch and trained.ends == 1
    assert trained.slots.in_use == 0


def test_a_step_of_the_other_unit_while_one_is_in_progress_is_refused():
    run = _run(epochs=100_000, samples=2000, batch_size=1, epochs_per_second=None)
    trained = _Trained(run)
    trained.wait(lambda: run.epoch >= 1, why="an epoch")
    run.control.request_pause(10.0)
    run.control.request_step("epochs", 1000, 0.0)  # long: still in progress below
    with pytest.raises(ControlError, match="a step of epochs is in progress"):
        run.control.request_step("batches", 1, 0.0)
    run.control.request_stop(10.0)
    trained.join()


def test_a_call_is_answered_by_the_childs_own_session_between_two_slices():
    run = _run(epochs=100_000)
    trained = _Trained(run)
    pid = trained.training()
    there, steps = run.live.call(_pid_and_steps, 1)
    assert there == pid and steps > 1
    run.control.request_pause(10.0)
    steps = run.live.call(_pid_and_steps, 0)[1]  # paused: answered while parked
    assert steps == run.live.call(_pid_and_steps, 0)[1]  # nothing trains meanwhile
    with pytest.raises(TypeError):  # an error in the call is raised here
        run.live.call(_pid_and_steps)
    run.control.request_stop(10.0)
    trained.join()


def test_a_call_is_answered_while_the_run_waits_for_a_compute_slot(monkeypatch):
    monkeypatch.setattr(pipe, "HANG_SECONDS", 60.0)  # a call waits for its answer this long
    slots = ComputeSlots(1)
    run = _run(epochs=100_000)
    trained = _Trained(run, slots=slots)
    pid = trained.training()
    assert run.control.request_pause(10.0) == "paused"
    taken = threading.Event()
    slots.request("another run", taken.set)  # the slot the paused run gave back
    assert taken.is_set()
    assert run.control.request_resume(10.0) == "queued"  # it waits in line
    answered = []
    asker = threading.Thread(target=lambda: answered.append(run.live.call(_pid_and_steps, 0)))
    asker.start()
    asker.join(10)  # answered by the waiting loop, not after the wait
    assert answered and answered[0][0] == pid and run.status == "queued"
    slots.release()  # its turn
    trained.wait(lambda: run.status == "running", why="running again")
    run.control.request_stop(10.0)
    trained.join()


def test_a_killed_child_fails_its_run_once_and_frees_its_slot():
    run = _run(epochs=100_000)
    trained = _Trained(run)
    pid = trained.training(checkpointed=True)
    os.kill(pid, signal.SIGKILL)
    trained.join(10)
    assert run.status == "failed" and "training process" in run.control.reason
    assert trained.ends == 1 and trained.slots.in_use == 0 and run.live is None
    assert run.epoch >= 2 and run.checkpoint is not None  # what it sent is kept


def test_a_hung_child_is_killed_and_a_stop_ends_it_within_the_grace(monkeypatch):
    monkeypatch.setattr(pipe, "HANG_SECONDS", 0.5)
    run = _run(epochs=100_000)
    trained = _Trained(run)
    os.kill(trained.child(), signal.SIGSTOP)
    trained.join(10)
    assert run.status == "failed" and "did not answer" in run.control.reason
    assert trained.slots.in_use == 0

    monkeypatch.setattr(pipe, "HANG_SECONDS", 60.0)
    stopped = _run("stopped", epochs=100_000)
    trained = _Trained(stopped)
    os.kill(trained.child(), signal.SIGSTOP)
    assert stopped.control.request_stop(10.0) == "stopped"  # after STOP_GRACE, not 60 s
    assert "did not answer" in stopped.control.reason
    trained.join(10)
    assert trained.ends == 1 and trained.slots.in_use == 0


def test_a_child_that_ended_before_the_server_told_it_anything_ends_its_run_as_it_said(
    monkeypatch,
):
    tell = pipe.ChildTrainer._tell_watched

    def late(trainer: pipe.ChildTrainer) -> None:  # the server's thread falls behind
        os.waitid(os.P_PID, trainer.process.pid, os.WEXITED | os.WNOWAIT)  # (not reaped)
        tell(trainer)  # now: the server tells a process that is gone (its pipe is broken)

    monkeypatch.setattr(pipe.ChildTrainer, "_tell_watched", late)
    run = _run(epochs=2)
    trained = _Trained(run)
    trained.join()
    assert run.status == "finished" and run.epoch == 2 and trained.ends == 1


def _unpicklable(_checkpoint: Any) -> Any:
    raise TypeError("this checkpoint does not pickle")


def test_an_event_the_child_cannot_send_ends_its_run_failed_not_silently_short(monkeypatch):
    from app.training.session import Checkpoint

    monkeypatch.setattr(Checkpoint, "__reduce__", _unpicklable)  # (the child inherits it)
    run = _run(epochs=100_000)
    trained = _Trained(run)
    trained.join(10)
    assert run.status == "failed" and "training process" in run.control.reason
    assert trained.ends == 1 and trained.slots.in_use == 0


def test_an_error_and_a_divergence_in_the_child_end_the_run_with_their_reason():
    error = nn.DivergenceError(7, float("inf"))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.epoch, copy.loss, str(copy)) == (7, float("inf"), str(error))
    diverging = _run(task="sin", lr=10, optimizer="sgd", epochs=500)
    _Trained(diverging).join()
    assert diverging.status == "diverged" and "diverged at epoch" in diverging.control.reason
    assert diverging.history.length == int(diverging.control.reason.split()[3].rstrip(":"))


def test_a_paced_run_in_a_child_keeps_its_pace_and_views_come_at_the_frame_rate():
    run = _run(epochs=100_000, epochs_per_second=20)
    trained = _Trained(run)
    trained.wait(lambda: run.epoch >= 2, why="two epochs")
    epoch, version, began = run.epoch, run.view_version, time.monotonic()
    # its pace, not full speed, all along a second
    holds(lambda: run.epoch - epoch <= 20 * (time.monotonic() - began) + 2, 1.0, "the pace")
    assert run.view_version - version >= 10  # views at ~20/s (the frame interval)
    run.control.request_stop(10.0)
    trained.join()


def _serve(connection: Connection) -> None:
    while True:
        message = connection.recv()  # EOFError once the server side closes: the child exits
        connection.send(message)


def test_the_child_ignores_ctrl_c_and_ends_when_the_server_is_gone():
    child = ChildProcess(_serve)
    os.kill(child.pid, signal.SIGINT)  # what Ctrl+C sends the whole process group
    os.kill(child.pid, signal.SIGTERM)
    child.send("still there?")
    assert child.receive(5) == "still there?"  # for the server to decide
    child.pipe.close()  # as when the server dies: the pipe closes
    os.waitpid(child.pid, 0)  # it ends by itself (else this would hang the test)
    assert _gone(child.pid)
    child.pipe = None
    with pytest.raises(TrainingProcessError):
        child.send("gone")


def test_the_child_holds_none_of_the_servers_file_descriptors():
    ours, peer = socket.socketpair()
    child = ChildProcess(_serve)
    try:
        ours.close()  # were the child holding a copy, the peer would see no end of stream
        peer.settimeout(5)
        assert peer.recv(1) == b""
    finally:
        peer.close()
        child.close()
        child.close()  # idempotent
    assert _gone(child.pid)


def test_a_late_pause_and_stop_leave_a_run_finished():
    config, task = validate_run({"task": "sin", "samples": 100, "epochs": 1, "batch_size": 70})
    run = Run("race", task, config)
    session = TrainingSession(task, config)
    assert session.advance(deadline=time.perf_counter() - 1) is None  # only evaluation left
    run.session = lambda: session
    run.control.request_pause()
    run.control.request_stop()
    trained = _Trained(run, execute)
    trained.join(10)
    assert run.status == "finished" and run.epoch == 1
    assert trained.slots.in_use == 0
