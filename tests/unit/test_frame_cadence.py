"""Smooth frames (issue 27): views are made at the frame rate whatever the slices' phase, and a
frame leaves as soon as its view is made, so a client that keeps up gets a fresh prediction in
every frame. Virtual time wherever the part takes a clock."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from waiting import wait_until

from app.runs.broadcast import Broadcaster
from app.runs.run import Run
from app.runs.runner import CHECKPOINT_SECONDS, MAX_VIEW_INTERVAL, ViewClock
from app.runs.validation import validate_run
from app.training.session import TrainingSession, View

FRAME = 1 / 30


def _session(**fields: Any) -> TrainingSession:
    config, task = validate_run(
        {"task": "sin", "hidden": [8], "samples": 60, "batch_size": 20, **fields}
    )
    return TrainingSession(task, config)


def _views_made(cost: float, seconds: float, batch: float = 0.002, latency: float = 0.001,
                inside_interval: float | None = None) -> list[tuple[float, bool]]:  # fmt: skip
    """Virtual time: a training process trains mini-batches of `batch` s and, after the first
    that ends at or past the view's due time, makes a view costing `cost` s (looking inside
    when that is due too); the run loop learns of it `latency` s later and schedules the
    next. Returns (when each view was made, whether it looked inside)."""
    clock = ViewClock(FRAME, inside_interval)
    now, made = 0.0, []
    while now < seconds:
        now += batch
        if now < clock.due:
            continue
        inside = inside_interval is not None and now >= clock.inside_due
        made.append((now, inside))
        now += cost
        clock.took(View(None, [], object() if inside else None, cost=cost), now + latency)
    return made


@pytest.mark.parametrize("cost", [0.0002, 0.001, 0.003])
def test_a_view_costing_up_to_3_ms_is_made_30_times_a_second(cost):
    made = [when for when, _inside in _views_made(cost, seconds=10.0)]
    assert 299 <= len(made) <= 301  # 30 a second, though each comes a batch late
    gaps = [later - earlier for earlier, later in zip(made, made[1:], strict=False)]
    assert max(gaps) < FRAME + 0.002 + cost  # a late view does not push the next one back


def test_an_expensive_view_takes_at_most_a_tenth_of_the_time():
    made = _views_made(cost=0.01, seconds=10.0)  # 10 ms a view: one every 100 ms
    assert 99 <= len(made) <= 101


def test_a_very_expensive_view_is_still_made_every_half_second():
    made = _views_made(cost=0.2, seconds=10.0)
    gaps = [later - earlier for (earlier, _), (later, _) in zip(made, made[1:], strict=False)]
    assert max(gaps) <= MAX_VIEW_INTERVAL + 0.2 + 0.002 + 0.001


def test_looks_inside_keep_their_own_cadence():
    made = _views_made(cost=0.0005, seconds=10.0, inside_interval=0.1)
    assert 99 <= sum(inside for _when, inside in made) <= 101  # 10 a second
    assert 299 <= len(made) <= 301


def test_a_run_that_fell_behind_does_not_catch_up_in_a_burst():
    clock = ViewClock(FRAME)
    clock.took(View(None, [], cost=0.001), 10.0)
    assert clock.due == pytest.approx(10.0 + FRAME)
    clock.took(View(None, [], cost=0.001), 12.0)  # e.g. two seconds paused
    assert clock.due == pytest.approx(12.0 + FRAME)


def test_a_slice_of_several_epochs_ends_when_a_view_is_due_and_makes_it():
    session = _session(epochs=100_000)
    now = time.perf_counter()
    done = session.train_slice(None, now + 60, 2000, True, None, now + 0.01)
    assert done.view is not None
    assert session.epoch < 2000  # it did not train on to the slice's deadline or the last epoch


class _Emitter:
    """Records emits and acknowledges each at once (a client that keeps up); runs background
    tasks in threads."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)

    def emit(self, event: str, data: dict, to: str, callback: Any = None) -> None:
        with self.lock:
            self.emitted.append((event, to, data))
            self.arrived.notify_all()
        if callback is not None:
            callback()

    def start_background_task(self, target: Any, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        return thread

    def frames(self, sid: str) -> list[dict]:
        with self.lock:
            return [data for event, to, data in self.emitted if event == "frame" and to == sid]


class _Manual(_Emitter):
    def start_background_task(self, target: Any, *args: Any) -> str:
        return "ticked by the test"


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _run(name: str) -> tuple[Run, TrainingSession]:
    config, task = validate_run({"task": "sin", "samples": 100, "epochs": 100_000})
    run = Run(name, task, config)
    session = run.session()
    run.control.begin()
    run.start(session, inside=True)
    return run, session


def _train(run: Run, session: TrainingSession, view: bool) -> None:
    """An epoch, published with a view or without."""
    done = session.train_slice(None, time.perf_counter() + 5, run.epochs, False, None,
                               0 if view else None)  # fmt: skip
    run.publish(done.view, session.progress(), done.records)


def test_every_view_goes_out_to_a_client_that_keeps_up_each_frame_a_new_prediction():
    run, session = _run("smooth")
    emitter, clock = _Manual(), _Clock()
    broadcaster = Broadcaster(emitter, frame_interval=FRAME, clock=clock)
    broadcaster.watch(run, "keeps-up")
    for _ in range(90):  # three seconds: a view every 1/30 s, ticked as it is published
        clock.now += FRAME
        _train(run, session, view=True)
        broadcaster.tick()
    frames = emitter.frames("keeps-up")
    assert len(frames) == 90
    predictions = [tuple(frame["prediction"]["y"]) for frame in frames]
    assert len(set(predictions)) == 90


def test_news_without_a_new_view_waits_half_an_interval_more_for_one():
    run, session = _run("waits")
    emitter, clock = _Manual(), _Clock()
    broadcaster = Broadcaster(emitter, frame_interval=0.25, clock=clock)  # binary fractions
    broadcaster.watch(run, "client")
    clock.now += 1.0
    _train(run, session, view=True)
    broadcaster.tick()
    assert len(emitter.frames("client")) == 1
    for _ in range(2):  # epochs without a view, ticked every half interval
        clock.now += 0.125
        _train(run, session, view=False)
        broadcaster.tick()
    assert len(emitter.frames("client")) == 1  # an interval went by: not yet
    clock.now += 0.125
    _train(run, session, view=False)
    broadcaster.tick()
    assert len(emitter.frames("client")) == 2  # 1.5 intervals: the epochs go
    clock.now += 0.125
    _train(run, session, view=True)  # a view half an interval after a frame: it goes
    broadcaster.tick()
    assert len(emitter.frames("client")) == 3


def test_a_new_view_of_a_watched_run_wakes_the_broadcaster_at_once():
    run, session = _run("woken")
    emitter = _Emitter()
    broadcaster = Broadcaster(emitter, frame_interval=20.0)  # else it ticks every 10 s
    broadcaster.watch(run, "client")
    before = len(emitter.frames("client"))
    _train(run, session, view=True)
    with emitter.lock:
        assert emitter.arrived.wait_for(
            lambda: sum(e == "frame" for e, _to, _d in emitter.emitted) > before, 5.0
        )
    run.control.set_status("stopped", "stopped by the test")
    broadcaster.wake()
    with emitter.lock:
        assert emitter.arrived.wait_for(lambda: emitter.emitted[-1][0] == "done", 5.0)
    # nobody watches it: once it got its `done`, the broadcaster follows it no more
    wait_until(lambda: run.on_view == [], 5.0, "the broadcaster to let the run go")


class _Holding(_Emitter):
    """Acknowledges nothing until the test says so (a client slower than the views)."""

    def __init__(self) -> None:
        super().__init__()
        self.acks: list[Any] = []

    def emit(self, event: str, data: dict, to: str, callback: Any = None) -> None:
        with self.lock:
            self.emitted.append((event, to, data))
            self.arrived.notify_all()
            if callback is not None:
                self.acks.append(callback)


def test_a_slow_client_gets_the_latest_view_as_soon_as_it_acknowledges():
    run, session = _run("slow")
    emitter, clock = _Holding(), _Clock()
    # it ticks every 10 s of real time unless woken; frames are spaced in virtual time
    broadcaster = Broadcaster(emitter, frame_interval=20.0, clock=clock)
    broadcaster.watch(run, "slow-client")
    emitter.acks.pop()()  # the snapshot's
    _train(run, session, view=True)
    with emitter.lock:
        assert emitter.arrived.wait_for(lambda: len(emitter.acks) == 1, 5.0)  # frame 1
    _train(run, session, view=True)  # a newer view while frame 1 is not acknowledged
    assert len(emitter.frames("slow-client")) == 1
    clock.now += 20.0  # an interval later it acknowledges
    emitter.acks.pop()()
    with emitter.lock:
        assert emitter.arrived.wait_for(lambda: len(emitter.acks) == 1, 5.0)  # frame 2, at once
    first, second = emitter.frames("slow-client")
    assert first["prediction"] != second["prediction"]
    run.control.set_status("stopped", "stopped by the test")
    broadcaster.wake()
    with emitter.lock:
        assert emitter.arrived.wait_for(lambda: emitter.emitted[-1][0] == "done", 5.0)


class _Timed:
    """A session whose checkpoint takes `cost` seconds of a virtual clock."""

    def __init__(self, cost: float) -> None:
        self.now, self.cost, self.taken = 0.0, cost, 0

    def checkpoint(self) -> str:
        self.now += self.cost
        self.taken += 1
        return f"checkpoint {self.taken}"


def _checkpoints(cost: float, seconds: float, every: float = CHECKPOINT_SECONDS) -> list[float]:
    """When a run loop publishing every 50 ms (virtual time) takes its checkpoints."""
    session = _Timed(cost)
    clock, taken = ViewClock(FRAME, checkpoint_every=every, timer=lambda: session.now), []
    while session.now < seconds:
        if clock.checkpoint_due(session.now):
            taken.append(session.now)
            clock.checkpoint(session)
        session.now += 0.05
    return taken


def test_a_young_run_is_checkpointed_every_second_so_its_replay_follows_it():
    taken = _checkpoints(cost=0.001, seconds=4.0)
    assert taken[0] == 0.0  # the first publish
    gaps = [later - earlier for earlier, later in zip(taken, taken[1:], strict=False)]
    assert 0.99 <= min(gaps) and max(gaps) <= 1.06  # every second while a quarter of its age < 1 s


def test_an_older_run_lags_its_replay_by_at_most_a_quarter_of_its_age_and_ten_seconds():
    taken = _checkpoints(cost=0.001, seconds=200.0)
    for earlier, later in zip(taken, taken[1:], strict=False):
        assert later - earlier <= max(1.0, later * 0.25) + 0.06  # a quarter of its age then
        assert later - earlier <= CHECKPOINT_SECONDS + 0.06
    assert taken[-1] - taken[-2] >= CHECKPOINT_SECONDS - 0.06  # old enough: every 10 s
    assert len(taken) < 40  # not every second (200 then)


def test_an_expensive_checkpoint_takes_at_most_two_per_cent_of_the_time():
    taken = _checkpoints(cost=0.06, seconds=30.0)  # a large net's film: 60 ms to copy
    gaps = [later - earlier for earlier, later in zip(taken, taken[1:], strict=False)]
    assert min(gaps) >= 0.06 / 0.02 - 0.001  # 3 s, not 1


def test_a_worker_still_checkpoints_every_second():
    taken = _checkpoints(cost=0.001, seconds=60.0, every=1.0)  # scaled mode's catch-up
    gaps = [later - earlier for earlier, later in zip(taken, taken[1:], strict=False)]
    assert max(gaps) <= 1.06


def test_what_handing_a_checkpoint_on_costs_counts_too():
    """A training process pickles each checkpoint (film and all) to the server: 60 ms of that
    spaces checkpoints 3 s apart, as 60 ms of copying would."""
    clock = ViewClock(FRAME, timer=lambda: 0.0)
    clock.checkpoint(_Timed(0.0))
    assert clock.checkpoint_due(1.5)  # cheap: every second while young
    assert not clock.checkpoint_due(1.5, carry=0.06)
    assert not clock.checkpoint_due(2.9, carry=0.06) and clock.checkpoint_due(3.01, carry=0.06)
