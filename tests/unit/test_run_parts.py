"""The parts of a run, without a server: training session, run control, compute slots, run loop
and broadcaster."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
from waiting import holds

from app.data.features import network_sizes
from app.data.tasks import TASKS
from app.runs.broadcast import Broadcaster
from app.runs.control import PAUSE, STOP, TRAIN, ComputeSlots, ControlError, RunControl
from app.runs.run import Run
from app.runs.runner import Unwatched, execute
from app.runs.validation import validate_run
from app.training.session import ClassView, TrainingSession


def config_of(**fields: Any) -> tuple[dict, Any]:
    return validate_run(fields)


# --------------------------------------------------------------------------- training session


def test_the_session_trains_a_tiny_net_to_a_known_loss():
    config, task = config_of(task="square", hidden=[16], samples=200, epochs=150, lr=0.01)
    session = TrainingSession(task, config)
    records = [session.advance() for _ in range(150)]
    assert session.epoch == 150
    assert records[-1]["test_loss"] < 0.01 < records[0]["test_loss"]
    view = session.view()
    grid = session.data.grid_x[:, 0]
    assert view.prediction.shape == (200,)
    assert np.max(np.abs(view.prediction - grid**2)) < 0.1  # x² in task units


def test_the_session_reports_progress_inside_an_epoch():
    config, task = config_of(task="sin", samples=100, batch_size=10, test_fraction=0.3)
    session = TrainingSession(task, config)
    assert session.progress() == {"epoch": 1, "batch": 0, "batches": 7}
    session.advance(max_batches=3)
    assert session.progress() == {"epoch": 1, "batch": 3, "batches": 7}


def test_a_classification_view_holds_classes_on_the_grid_and_test_predictions():
    config, task = config_of(task="moons", samples=200, epochs=5)
    session = TrainingSession(task, config)
    session.advance()
    view = session.view()
    assert isinstance(view.prediction, ClassView)
    assert view.prediction.classes.shape == (50 * 50,)
    assert len(view.prediction.test_predicted) == len(session.data.x_test)
    assert [w.shape for w in view.weights] == [(2, 16), (16, 16), (16, 16), (16, 2)]


# --------------------------------------------------------------------------- run control


def _until(control: RunControl, condition: Any, timeout: float = 5.0) -> None:
    """Wait (on the control's own condition, notified on every change) until `condition()`."""
    with control.changed:
        assert control.changed.wait_for(condition, timeout)


def test_requests_from_another_thread_are_seen_between_mini_batches():
    control = RunControl()
    assert control.begin() == TRAIN and control.status == "running"
    asking = threading.Thread(target=control.request_pause)
    asking.start()
    asking.join(5)
    assert control.next_action() == PAUSE  # the next "mini-batch" boundary sees it

    woke: list[str] = []
    parked = threading.Thread(target=lambda: woke.append(control.park()))
    parked.start()
    assert control.request_resume(wait=0.0) in {"paused", "running"}
    parked.join(2)
    assert woke == [TRAIN] and control.next_action() == TRAIN
    assert control.status == "running"
    assert control.request_stop() == "running"
    assert control.next_action() == STOP


def test_a_pause_takes_effect_at_the_next_mini_batch_in_virtual_time():
    """"Pause within a second": the run loop asks between mini-batches, so a pause is in
    force one mini-batch after it was asked, however long the epoch. Mini-batches of 10 ms
    of virtual time; a mini-batch is a wait any request cuts short (no sleep)."""
    clock = VirtualClock()
    control = RunControl(clock)
    control.begin()
    paused_at: list[float] = []

    def loop() -> None:
        while control.next_action() == TRAIN:
            control.wait(0.01)  # one mini-batch (cut short by the request) ...
            clock.now += 0.01  # ... of 10 ms of virtual time
        paused_at.append(clock.now)
        control.park()

    trainer = threading.Thread(target=loop, daemon=True)
    trainer.start()
    asked = clock.now
    assert control.request_pause(wait=5.0) == "paused"  # it waits until the loop parked
    assert control.status == "paused" and paused_at
    assert paused_at[0] - asked < 1.0  # virtual seconds: a mini-batch or two, not an epoch
    running = control.elapsed()
    clock.now += 60.0  # paused: no training time counts
    assert control.elapsed() == running
    control.request_stop()
    trainer.join(5)
    assert not trainer.is_alive()


def test_a_step_is_refused_unless_paused_and_counts_down_while_paused():
    control = RunControl()
    control.begin()
    with pytest.raises(ControlError, match="only while paused"):
        control.request_step("epochs", 1)
    with pytest.raises(ValueError):
        control.request_step("weeks", 1)
    control.request_pause()
    control.next_action()
    threading.Thread(target=control.park, daemon=True).start()
    _until(control, lambda: control.status == "paused")
    control.request_step("batches", 3)
    assert control.next_action() == TRAIN and control.step_batches() == 3
    control.trained(batches=2, epochs=0)
    assert control.step_batches() == 1
    control.trained(batches=1, epochs=0)
    assert control.step_batches() is None and control.next_action() == PAUSE
    assert control.status == "paused"


def test_steps_asked_together_all_count_and_a_pause_ends_a_step():
    control = RunControl()
    control.begin()
    control.request_pause()
    control.next_action()
    threading.Thread(target=control.park, daemon=True).start()
    _until(control, lambda: control.status == "paused")
    for count in (1, 2, 3):  # e.g. three requests sent at once: none is lost
        control.request_step("batches", count)
    assert control.step_batches() == 6
    with pytest.raises(ControlError, match="a step of batches is in progress"):
        control.request_step("epochs", 1)
    control.trained(batches=4, epochs=0)
    assert control.step_batches() == 2
    control.request_pause()  # Pause during a long step ends it
    assert control.step_batches() is None and control.next_action() == PAUSE
    assert control.status == "paused"


def test_a_pacing_wait_ends_early_on_any_request():
    control = RunControl()
    control.begin()
    ended = threading.Event()
    waiter = threading.Thread(target=lambda: (control.wait(600.0), ended.set()), daemon=True)
    waiter.start()
    for _ in range(100):  # a request cuts the 10-minute wait short (asked until it has begun)
        control.post_changes({})
        if ended.wait(0.05):
            break
    assert ended.is_set()


def test_a_terminal_status_is_final():
    control = RunControl()
    control.set_status("finished")
    control.set_status("failed", "late")
    assert control.status == "finished" and control.reason is None
    assert control.request_pause() == "finished"


# --------------------------------------------------------------------------- compute slots


def test_slots_are_granted_in_arrival_order_and_passed_on_release():
    slots = ComputeSlots(1)
    granted: list[str] = []
    for key in "abc":
        slots.request(key, lambda key=key: granted.append(key))
    assert granted == ["a"] and slots.position("c") == 2
    assert slots.cancel("b") and not slots.cancel("b")
    slots.release()
    assert granted == ["a", "c"] and slots.in_use == 1
    slots.release()
    assert slots.in_use == 0


# --------------------------------------------------------------------------- the run loop


def _start(run: Run, slots: ComputeSlots) -> threading.Thread:
    slots.request(run.id, lambda: None)
    thread = threading.Thread(target=execute, args=(run, slots, 0.05), daemon=True)
    thread.start()
    return thread


def test_a_pause_and_stop_after_the_last_mini_batch_leave_the_run_finished():
    config, task = config_of(task="sin", samples=100, epochs=1, batch_size=70)
    run = Run("race", task, config)
    session = TrainingSession(task, config)
    # the last epoch's one mini-batch is done and one evaluation chunk: only evaluation is left
    assert session.advance(deadline=time.perf_counter() - 1) is None
    assert session.finishing(1)
    run.session = lambda: session  # the loop trains this prepared session
    run.control.request_pause()
    run.control.request_stop()
    slots = ComputeSlots(1)
    _start(run, slots).join(10)
    assert run.status == "finished" and run.epoch == 1
    assert slots.in_use == 0


class CountingRun(Run):
    """A run that counts the run loop's publications (one per slice)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.publications = 0

    def publish(self, view: Any, progress: Any, records: Any = ()) -> None:
        self.publications += 1
        super().publish(view, progress, records)


def test_at_full_speed_a_slice_holds_many_short_epochs_and_every_one_is_recorded():
    config, task = config_of(task="sin", hidden=[2], samples=20, batch_size=20, epochs=2000)
    run = CountingRun("full", task, config)
    _start(run, ComputeSlots(1)).join(30)
    assert run.status == "finished" and run.history.length == 2000
    assert np.all(np.isfinite(run.history.columns["train_loss"][:2000]))
    # ~0.1 ms epochs: one slice per epoch would publish 2000 times
    assert run.publications < 2000 / 5, run.publications


def test_a_paced_run_still_ends_each_slice_at_an_epoch_end():
    config, task = config_of(
        task="sin", hidden=[2], samples=20, batch_size=20, epochs=30, epochs_per_second=1000
    )
    run = CountingRun("paced", task, config)
    _start(run, ComputeSlots(1)).join(30)
    assert run.status == "finished" and run.history.length == 30
    assert run.publications >= 30


def test_a_request_ends_a_full_speed_slice_at_the_next_epoch_end():
    config, task = config_of(task="sin", hidden=[2], samples=20, batch_size=20, epochs=100_000)
    run = Run("asked", task, config)
    session = TrainingSession(task, config)
    run.start(session)
    seen = run.control.requests
    run.control.post_changes({"lr": 0.5})  # a request: the slice must not train on past it
    records, error, view = session.train_slice(
        None, time.perf_counter() + 10, 100_000, True, lambda: run.control.requests != seen
    )
    assert len(records) == 1 and error is None and view is None  # no view was asked for


def test_a_paused_run_gives_its_slot_to_the_next_run():
    config, task = config_of(task="sin", samples=100, epochs=100_000)
    first, second = Run("first", task, dict(config)), Run("second", task, dict(config))
    slots = ComputeSlots(1)
    threads = [_start(first, slots)]
    _until(first.control, lambda: first.status == "running")
    assert first.control.request_pause(wait=2.0) == "paused"
    slots.request(second.id, lambda: threads.append(_start_granted(second, slots)))
    _until(second.control, lambda: second.status == "running")
    assert second.status == "running" and first.status == "paused"
    assert first.control.request_resume(wait=0.5) == "queued"  # waits for the slot now
    assert second.control.request_stop(wait=2.0) == "stopped"
    assert first.control.request_stop(wait=2.0) == "stopped"
    for thread in threads:
        thread.join(5)
    assert slots.in_use == 0


def _start_granted(run: Run, slots: ComputeSlots) -> threading.Thread:
    thread = threading.Thread(target=execute, args=(run, slots, 0.05), daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------- broadcaster


class FakeSocketIO:
    """Records emits; runs background tasks in threads."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()

    def emit(self, event: str, data: dict, to: str, callback: Any = None) -> None:
        with self.lock:
            self.emitted.append((event, to, data))
        if callback is not None:
            callback()

    def start_background_task(self, target: Any, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        return thread

    def events(self, sid: str) -> list[str]:
        with self.lock:
            return [event for event, to, _data in self.emitted if to == sid]


class ManualSocketIO(FakeSocketIO):
    """A fake Socket.IO that starts no background task: the test ticks the broadcaster."""

    def start_background_task(self, target: Any, *args: Any) -> str:
        return "ticked by the test"


class VirtualClock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _stepped_run(name: str, **fields: Any) -> tuple[Run, Any]:
    """A run the test trains itself, one epoch per `_advance` (no thread, no wall clock)."""
    config, task = config_of(**{"task": "sin", "samples": 100, "epochs": 100_000, **fields})
    run = Run(name, task, config)
    session = run.session()
    run.control.begin()
    run.start(session, inside=True)
    return run, session


def _advance(run: Run, session: Any, broadcaster: Broadcaster, clock: VirtualClock,
             steps: int, seconds: float = 0.02) -> None:  # fmt: skip
    """`steps` times: train an epoch (a new view and look inside), let `seconds` pass, tick."""
    for _ in range(steps):
        done = session.train_slice(None, time.perf_counter() + 5, run.epochs, False, None, 0, 0)
        run.publish(done.view, session.progress(), done.records)
        clock.now += seconds
        broadcaster.tick()


def _end(run: Run, broadcaster: Broadcaster, clock: VirtualClock) -> None:
    run.control.set_status("stopped", "stopped by the test")
    clock.now += 0.02
    broadcaster.tick()


def test_the_broadcaster_streams_to_watchers_and_drops_a_vanished_client():
    run, session = _stepped_run("watched")
    socketio, clock = ManualSocketIO(), VirtualClock()
    broadcaster = Broadcaster(socketio, frame_interval=0.02, clock=clock)
    broadcaster.watch(run, "stays")
    broadcaster.watch(run, "vanishes")
    assert socketio.events("stays")[0] == "snapshot"
    _advance(run, session, broadcaster, clock, 15)
    broadcaster.disconnect("vanishes")
    frames_then = socketio.events("vanishes").count("frame")
    assert frames_then > 0
    _advance(run, session, broadcaster, clock, 15)
    assert socketio.events("vanishes").count("frame") == frames_then
    assert broadcaster.watching("vanishes") == []
    _end(run, broadcaster, clock)
    assert socketio.events("stays")[-1] == "done"
    assert broadcaster.tick() is False  # nobody left to stream to: the thread would end
    assert broadcaster._thread is None


def test_frames_are_numbered_from_one_after_every_snapshot():
    run, session = _stepped_run("numbered")
    socketio, clock = ManualSocketIO(), VirtualClock()
    broadcaster = Broadcaster(socketio, frame_interval=0.02, clock=clock)

    def numbers() -> list:
        with socketio.lock:
            return [data.get("seq") if event == "frame" else event
                    for event, to, data in socketio.emitted if to == "numbered-client"]  # fmt: skip

    broadcaster.watch(run, "numbered-client")
    _advance(run, session, broadcaster, clock, 10)
    broadcaster.watch(run, "numbered-client")  # watching again: a snapshot, numbers start over
    _advance(run, session, broadcaster, clock, 10)
    _end(run, broadcaster, clock)
    got = numbers()
    assert got[0] == "snapshot" and got.count("snapshot") == 2 and got[-1] == "done"
    second = got.index("snapshot", 1)
    for part in (got[1:second], got[second + 1 : -1]):
        frames = [n for n in part if isinstance(n, int)]
        assert len(frames) >= 5 and frames == list(range(1, len(frames) + 1)), part


def test_a_client_that_does_not_acknowledge_gets_no_new_frame_until_the_timeout():
    run, session = _stepped_run("slow")
    socketio, clock = ManualSocketIO(), VirtualClock()
    socketio.emit = _no_ack(socketio)
    broadcaster = Broadcaster(socketio, frame_interval=0.02, ack_timeout=10.0, clock=clock)
    broadcaster.watch(run, "silent")
    _advance(run, session, broadcaster, clock, 50)  # 1 s, a new epoch every tick
    assert socketio.events("silent").count("frame") == 1  # and no more: it never acked
    _advance(run, session, broadcaster, clock, 1, seconds=9.5)  # the ack timeout passes
    assert socketio.events("silent").count("frame") == 2
    broadcaster.disconnect("silent")


def _no_ack(socketio: FakeSocketIO) -> Any:
    def emit(event: str, data: dict, to: str, callback: Any = None) -> None:
        with socketio.lock:
            socketio.emitted.append((event, to, data))

    return emit


def test_the_network_has_one_input_per_feature():
    assert network_sizes(TASKS["sin"], {"hidden": [4, 5]}) == [1, 4, 5, 1]
    features = {"hidden": [3], "input_features": ["x", "y", "x*y", "sin(x)"]}
    assert network_sizes(TASKS["xor"], features) == [4, 3, 2]


def test_a_finished_run_leaves_a_checkpoint_that_rebuilds_its_model_and_calls_its_end_hooks():
    config, task = config_of(task="square", hidden=[4], samples=100, epochs=20)
    run = Run("checkpointed", task, config)
    ended: list[str] = []
    run.on_end.append(lambda r: ended.append(r.status))
    slots = ComputeSlots(1)
    _start(run, slots).join(10)
    assert ended == ["finished"]
    checkpoint = run.checkpoint
    assert checkpoint.epoch == 20 and checkpoint.features is None
    again = Run("again", task, dict(config, epochs=1))
    again.initial_state = checkpoint.state
    session = again.session()
    for name, value in checkpoint.state.items():
        np.testing.assert_array_equal(session.model.state_dict()[name], value)


def test_a_pause_during_a_pacing_wait_needs_no_free_slot():
    config, task = config_of(task="sin", samples=100, epochs=100_000, epochs_per_second=2)
    paced = Run("paced", task, dict(config))
    busy = Run("busy", task, dict(config, epochs_per_second=None))
    slots = ComputeSlots(1)
    threads = [_start(paced, slots)]
    while paced.epoch < 1:  # then in a pacing wait, without its slot
        assert paced.news.wait(5.0), "the paced run published nothing in 5 s"
        paced.news.clear()
    slots.request(busy.id, lambda: threads.append(_start_granted(busy, slots)))
    _until(busy.control, lambda: busy.status == "running")  # the slot is taken
    assert paced.control.request_pause(wait=2.0) == "paused"  # not stuck "queued"
    for run in (busy, paced):
        assert run.control.request_stop(wait=2.0) == "stopped"
    for thread in threads:
        thread.join(5)
    assert slots.in_use == 0


def test_a_crowd_of_watchers_shares_the_runs_frames_and_looks_inside():
    run, session = _stepped_run("crowd", task="saddle", hidden=[8], samples=200)
    socketio, clock = ManualSocketIO(), VirtualClock()
    broadcaster = Broadcaster(socketio, frame_interval=0.02, clock=clock)
    watchers = [f"watcher-{k}" for k in range(60)]
    for sid in watchers:
        broadcaster.watch(run, sid)
    seconds = 2.0
    _advance(run, session, broadcaster, clock, round(seconds / 0.02))  # an epoch every tick
    _end(run, broadcaster, clock)
    assert all(socketio.events(sid)[-1] == "done" for sid in watchers)
    with socketio.lock:
        frames = [data for event, _to, data in socketio.emitted if event == "frame"]
    per_watcher = len(frames) / len(watchers)
    # at most MAX_RUN_FRAMES (300) a second in all: 5 a second each (+ the final one)
    assert per_watcher <= seconds * 300 / 60 + 2, (per_watcher, seconds)
    assert per_watcher < seconds * 20 / 2  # far fewer than the 20 a second one watcher gets
    with_inside = sum("inside" in frame for frame in frames) / len(watchers)
    # at most MAX_RUN_INSIDES (30) looks inside a second in all, but each watcher gets some
    assert 1 <= with_inside <= seconds * 30 / 60 + 2, (with_inside, seconds)
    broadcaster.disconnect("none")


# --------------------------------------------------------------------------- unwatched pauses


def test_a_paused_run_counts_as_abandoned_only_after_the_whole_wait_unwatched_and_unasked():
    clock = VirtualClock()
    unwatched = Unwatched(600, clock)
    unwatched.restart()
    assert not unwatched.abandoned(False, requests=3)  # the wait starts at the first look
    clock.now += 599
    assert not unwatched.abandoned(False, requests=3)
    clock.now += 1
    assert unwatched.abandoned(False, requests=3)


def test_a_watcher_or_a_request_restarts_the_wait():
    clock = VirtualClock()
    unwatched = Unwatched(600, clock)
    unwatched.abandoned(False, requests=0)
    clock.now += 500
    assert not unwatched.abandoned(True, requests=0)  # a tab watches it again
    clock.now += 500
    assert not unwatched.abandoned(False, requests=0)  # the tab closed: the wait starts anew
    clock.now += 500
    assert not unwatched.abandoned(False, requests=1)  # a live change through the API
    clock.now += 599
    assert not unwatched.abandoned(False, requests=1)
    clock.now += 1
    assert unwatched.abandoned(False, requests=1)


def test_no_wait_means_never_abandoned_and_a_negative_wait_is_refused():
    clock = VirtualClock()
    for never in (None, 0):
        unwatched = Unwatched(never, clock)
        unwatched.abandoned(False, requests=0)
        clock.now += 1e9
        assert not unwatched.abandoned(False, requests=0)
    with pytest.raises(ValueError, match="unwatched_pause"):
        Unwatched(-1.0, clock)


def test_the_broadcaster_tells_a_run_whether_anyone_watches_it():
    run, _session = _stepped_run("seen")
    broadcaster = Broadcaster(ManualSocketIO(), frame_interval=0.02, clock=VirtualClock())
    assert run.watched is False  # nobody yet
    broadcaster.watch(run, "tab1")
    broadcaster.watch(run, "tab2")
    assert run.watched is True
    broadcaster.disconnect("tab1")
    assert run.watched is True  # tab2 still watches
    broadcaster.unwatch(run.id, "tab2")
    assert run.watched is False


def test_the_run_loop_stops_a_run_left_paused_unwatched_and_keeps_its_weights():
    config, task = config_of(task="sin", samples=100, epochs=100_000)
    run, slots = Run("left", task, dict(config)), ComputeSlots(1)
    slots.request(run.id, lambda: None)
    thread = threading.Thread(target=execute, args=(run, slots, 0.05),
                              kwargs={"unwatched_pause": 0.01}, daemon=True)  # fmt: skip
    thread.start()
    _until(run.control, lambda: run.status == "running")
    assert run.control.request_pause(wait=2.0) == "paused"
    _until(run.control, lambda: run.status == "stopped", 30)  # the park looks every second
    thread.join(5)
    assert "paused with nobody watching" in run.control.reason
    assert run.control.reason.startswith(f"stopped at epoch {run.epoch}:")
    assert run.checkpoint is not None and slots.in_use == 0


def test_the_run_loop_leaves_a_watched_paused_run_paused():
    config, task = config_of(task="sin", samples=100, epochs=100_000)
    left, kept, slots = Run("left", task, dict(config)), Run("kept", task, dict(config)), \
        ComputeSlots(2)  # fmt: skip
    kept.watched = True  # as the broadcaster sets it while a tab watches
    threads = []
    for run in (left, kept):
        slots.request(run.id, lambda: None)
        threads.append(threading.Thread(target=execute, args=(run, slots, 0.05),
                                        kwargs={"unwatched_pause": 0.01}, daemon=True))  # fmt: skip
        threads[-1].start()
        _until(run.control, lambda run=run: run.status == "running")
        assert run.control.request_pause(wait=2.0) == "paused"
    _until(left.control, lambda: left.status == "stopped", 30)
    # paused as long as `left`, it would be stopped within one more look (a second) if watching
    # did not count: give it three
    holds(lambda: kept.status == "paused", 3.0, "the watched paused run staying paused")
    assert kept.control.request_stop(wait=2.0) == "stopped"
    for thread in threads:
        thread.join(5)
