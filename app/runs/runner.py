"""The run loop: trains one run in its own thread, from its first compute slot to its end, in
the process that trains it (a server's thread, a forked training process, a scaled worker: see
docs/architecture.md).

It trains in slices of at most `SLICE_SECONDS` (at full speed a slice holds as many epochs as fit;
a paced or stepping run's slice ends at the first epoch's end) and, between
slices, asks the run's `RunControl` what to do next, so pause, stop and step act within a slice
whatever the epoch length. Between slices it also publishes the epoch's progress and, every
frame interval, a fresh view (prediction on the grid, weights): a slice of several epochs ends
when the view is due, and views keep their cadence (`ViewClock`), so a watcher that keeps up
gets a new prediction in every frame. When a view is expensive (large nets) it is refreshed less
often, so that it never takes more than `VIEW_SHARE` of the time, but at least every
`MAX_VIEW_INTERVAL` seconds.

A paused run, or a paced run waiting for its next epoch, gives its compute slot back and asks for
one again before it trains on. A paused run that nobody watches and nobody asks anything of for
`unwatched_pause` seconds is stopped (`Unwatched`): a closed tab's run frees its owner's place.
The run always ends in a terminal status, whatever happens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import network as nn
from app.runs.control import PAUSE, STOP, TRAIN, ComputeSlots
from app.runs.pace import AUTO, LearningPace
from app.runs.run import Run
from app.training.session import Checkpoint, TrainedSlice, TrainingSession, View

log = logging.getLogger(__name__)

SLICE_SECONDS = 0.05  # the longest stretch of training between two looks at the controls
MAX_VIEW_INTERVAL = 0.5  # a view at least this often (s), however expensive
CHECKPOINT_SECONDS = 10.0  # the run's weights and scalers are copied at least this often (s)
MIN_CHECKPOINT_SECONDS = 1.0  # ... and at most this often
CHECKPOINT_AGE_SHARE = 0.25  # ... so a running run's replay lags by at most this share of its age
CHECKPOINT_SHARE = 0.02  # ... and copying them takes at most this share of the time
VIEW_SHARE = 0.1  # at most this share of the time goes to views
DIAGNOSIS_SECONDS = 0.5  # the warnings (which read the whole history) are refreshed this often
UNWATCHED_PAUSE = 600.0  # a paused run nobody watches this long (s) is stopped (None: never)
PARK_SECONDS = 1.0  # a paused run looks at whether it is still watched this often


@dataclass
class ViewClock:
    """When the next view is due (perf_counter seconds), given how long the last one took, and
    when the last checkpoint was taken."""

    interval: float
    inside_interval: float | None = None  # a look inside at most this often (None: never)
    checkpoint_every: float = CHECKPOINT_SECONDS  # a checkpoint at least this often (s)
    due: float = 0.0
    inside_due: float = 0.0
    checkpointed: float = 0.0  # when the last checkpoint was taken
    checkpoint_cost: float = 0.0  # what the last one took (s)
    started: float | None = None  # when the first checkpoint was taken
    diagnosed: float = 0.0  # when the warnings were last refreshed
    timer: Callable[[], float] = time.perf_counter  # what times a checkpoint (tests: virtual)

    def inside_now(self, now: float) -> bool:
        """True when the view about to be made should look inside too (and schedules the next)."""
        if self.inside_interval is None or now < self.inside_due:
            return False
        self.inside_due = now + self.inside_interval
        return True

    def took(self, view: View, finished: float) -> None:
        """`view` was ready at `finished`: schedule the next view (given what this one cost to
        make: its own cost, not the time waited for it) and, if it looked inside, the next
        look inside. Views keep their cadence (the next is due one interval after this one was
        due, not after it came: a view made a little late does not delay the next), and a run
        that fell behind (a pause, a long wait) does not catch up in a burst."""
        wait = min(max(self.interval, view.cost / VIEW_SHARE), MAX_VIEW_INTERVAL)  # a view per wait
        self.due = _next(self.due, wait, finished)
        if view.inside is not None and self.inside_interval is not None:
            self.inside_due = _next(self.inside_due, self.inside_interval, finished)


    def checkpoint_due(self, now: float, carry: float = 0.0) -> bool:
        """True when a checkpoint (the weights, and the film's new frames that replay reads)
        should be taken at `now`: one a quarter of the run's age after the last (a 12 s old
        run's replay is at most 3 s behind it), but no more often than every
        `MIN_CHECKPOINT_SECONDS` or than copying it costs `CHECKPOINT_SHARE` of the time, and no
        less often than every `checkpoint_every` seconds. `carry`: what handing the last one on
        took besides (a training process pickling it to the server)."""
        if self.started is None:
            return True
        wait = max(MIN_CHECKPOINT_SECONDS, (now - self.started) * CHECKPOINT_AGE_SHARE,
                   (self.checkpoint_cost + carry) / CHECKPOINT_SHARE)  # fmt: skip
        return now - self.checkpointed >= min(wait, self.checkpoint_every)

    def checkpoint(self, session: TrainingSession) -> Checkpoint:
        """Take a checkpoint of `session` now, and note when and what it cost."""
        start = self.timer()
        checkpoint = session.checkpoint()
        self.checkpointed = self.timer()
        self.checkpoint_cost = self.checkpointed - start
        if self.started is None:
            self.started = start
        return checkpoint


def _next(due: float, interval: float, now: float) -> float:
    """The time one `interval` after `due`, or after `now` if that time has passed already."""
    return due + interval if due + interval > now else now + interval


def execute(
    run: Run,
    slots: ComputeSlots,
    frame_interval: float,
    inside_interval: float | None = None,
    checkpoint_seconds: float = CHECKPOINT_SECONDS,
    unwatched_pause: float | None = UNWATCHED_PAUSE,
) -> None:
    """Train `run` (the thread's body; the caller already holds a slot for it). Views look
    inside the network at most every `inside_interval` seconds (None: never). Paused and
    unwatched for `unwatched_pause` seconds (None or 0: never), it is stopped."""
    slot, session = Slot(run, slots), None
    try:
        session = slot.session = run.session()
        clock = ViewClock(frame_interval, inside_interval, checkpoint_every=checkpoint_seconds)
        run.start(session, inside=clock.inside_now(time.perf_counter()))
        run.live = session  # app.backprop asks the session while it trains
        _train(run, session, slot, clock, Unwatched(unwatched_pause))
    except nn.DivergenceError as error:
        run.add_diverged_epoch(error.record)
        run.control.set_status(
            "diverged",
            f"diverged at epoch {error.epoch}: loss {error.loss} (try a smaller learning rate)",
        )
    except Exception as error:  # a bad run must never take the server down
        log.exception("run %s failed", run.id)
        run.control.set_status("failed", f"{type(error).__name__}: {error}")
    finally:
        run.live = None  # ended: app.backprop answers from the checkpoint from now on
        run.control.answer_calls(None)  # a call left unanswered gets an error
        slot.release()
        run.control.set_status("failed", "training ended unexpectedly")  # no-op once ended
        run.ended()


def _train(run: Run, session: TrainingSession, slot: Slot, clock: ViewClock,
           unwatched: Unwatched) -> None:  # fmt: skip
    """The loop proper; ends the run (the `slot` is held while it trains, given back while it
    waits; `unwatched` stops it when paused long with nobody watching)."""
    control = run.control
    action = control.begin()
    pacer = Pacer(run.epochs)
    while session.epoch < run.epochs and run.stopped_early is None:
        if not session.finishing(run.epochs):  # a late pause or stop must not undo the last epoch
            if action == STOP:
                break
            if action == PAUSE:  # its weights now: a restart or a continue starts from here
                run.checkpoint = session.checkpoint()
                action = control.next_action() if _park(run, session, slot, unwatched) else STOP
                continue
        if _train_slice(run, session, clock) and session.epoch < run.epochs:
            pacer.wait(run, slot, session)
        control.answer_calls(session)  # e.g. a backprop pass asked of a training process
        action = control.next_action()
        if action == TRAIN and not slot.held:  # a pacing wait cut short by a pause, then resumed
            action = TRAIN if slot.acquire() else STOP
    finished = session.epoch >= run.epochs or run.stopped_early is not None
    _end(run, session, clock, "finished" if finished else control.stop_status)


def _record(run: Run, session: TrainingSession, done: TrainedSlice) -> None:
    """Publish a slice's epochs and the progress; raise the error that ended it, if any (the
    run then ends, and so does any step's wait)."""
    run.publish(None, session.progress(), done.records)
    if done.error is not None:
        raise done.error


def _train_slice(run: Run, session: TrainingSession, clock: ViewClock) -> bool:
    """Apply live changes, train one slice, publish; True when an epoch was completed."""
    control = run.control
    changes = control.take_changes()
    if changes:
        session.apply(changes)
        run.note_lr(changes, session.epoch)
        if changes.get("slice_features") is not None:
            run.relayout(session, session.view(inside=clock.inside_interval is not None))
    steps, seen = session.steps, control.requests
    several = control.free_running() and not control.settings.values.get("epochs_per_second")
    done = session.train_slice(
        control.step_batches(),
        time.perf_counter() + SLICE_SECONDS,
        run.epochs,
        several,
        lambda: control.requests != seen,
        clock.due,
        clock.inside_due if clock.inside_interval is not None else None,
    )
    if done.error is not None:
        _record(run, session, done)
    _publish(run, session, clock, done)
    if control.trained(session.steps - steps, len(done.records)):  # after publishing: a
        run.news.set()  # step's waiter reads the status at once (a relay tells it at once)
    return bool(done.records)


def _publish(run: Run, session: TrainingSession, clock: ViewClock, done: TrainedSlice) -> None:
    """The slice's epochs, progress and view (if one was due, see `ViewClock`), all at once;
    and, when due, fresh warnings and a checkpoint."""
    now = time.perf_counter()
    if done.view is not None:
        clock.took(done.view, now)
    run.publish(done.view, session.progress(), done.records)
    if now - clock.diagnosed >= DIAGNOSIS_SECONDS:
        run.diagnose(session.dead_units())
        clock.diagnosed = now
    if run.checkpoint is None or clock.checkpoint_due(now, run.checkpoint_carry):
        run.checkpoint = clock.checkpoint(session)


def _end(run: Run, session: TrainingSession, clock: ViewClock, status: str) -> None:
    """Publish the final view and warnings, then the terminal status (watchers get all)."""
    run.note_lr(run.control.take_changes(), session.epoch)  # asked for, never trained with
    run.publish(session.view(inside=clock.inside_interval is not None), None)
    run.diagnose(session.dead_units())
    run.checkpoint = session.checkpoint()
    why = run.control.stop_why
    reason = {
        "stopped": f"stopped at epoch {session.epoch}" + (f": {why}" if why else ""),
        "interrupted": f"interrupted at epoch {session.epoch}: the server shut down",
    }.get(status, run.stopped_early if session.epoch < run.epochs else None)  # not if too late
    run.control.set_status(status, reason)


def _park(run: Run, session: TrainingSession, slot: Slot, unwatched: Unwatched) -> bool:
    """Paused: give the slot back, wait for resume/step/stop (answering calls meanwhile, and
    checking every `PARK_SECONDS` whether the run is `unwatched` too long), then get a slot
    again. Returns whether it holds one (False: the run is to stop)."""
    slot.release()
    unwatched.restart()
    while (action := run.control.park(PARK_SECONDS)) is None:
        run.control.answer_calls(session)
        if unwatched.abandoned(run.watched, run.control.requests):
            run.control.request_stop(0.0, why=unwatched.reason())
    return action != STOP and slot.acquire()


class Unwatched:
    """How long a paused run has gone with nobody watching it (`Run.watched`) and no request
    made of it (a live change): `abandoned` once `after` seconds (None or 0: never). The one
    home of the rule for both modes: the run loop asks it, in a server's thread or a worker."""

    def __init__(self, after: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        if after is not None and not after >= 0:
            raise ValueError(f"unwatched_pause must be None or seconds >= 0, not {after!r}")
        self.after = after or None
        self.clock = clock  # seconds (tests pass a virtual one)
        self.since: float | None = None  # since when unwatched and unasked (None: watched)
        self.requests = -1  # the control's request count last seen

    def restart(self) -> None:
        """The run was just paused (again): the wait starts from the next look."""
        self.since, self.requests = None, -1

    def abandoned(self, watched: bool, requests: int) -> bool:
        """True when the run has been unwatched and unasked for `after` seconds, now."""
        if self.after is None:
            return False
        now = self.clock()
        if watched or requests != self.requests:
            self.since, self.requests = (None if watched else now), requests
            return False
        if self.since is None:
            self.since = now
        return now - self.since >= self.after

    def reason(self) -> str:
        """What the run's reason says after "stopped at epoch n"."""
        minutes = self.after / 60 if self.after else 0
        return (f"paused with nobody watching for {minutes:g} min (its weights are kept: "
                "Continue goes on from them)")  # fmt: skip


class Slot:
    """The compute slot of one run's thread: `held` or not, given back around its waits."""

    def __init__(self, run: Run, slots: ComputeSlots, held: bool = True) -> None:
        self.run, self.slots, self.held = run, slots, held
        self.session: Any = None  # calls made while it waits are answered on it

    def release(self) -> None:
        """Give the slot back (if held)."""
        if self.held:
            self.held = False
            self.slots.release()

    def acquire(self) -> bool:
        """Wait, in line, for a slot; False (and none held) if the run is stopped meanwhile."""
        if not self.held:
            self.held = acquire_slot(self.run, self.slots, self.session)
        return self.held


def acquire_slot(run: Run, slots: ComputeSlots, session: Any = None) -> bool:
    """Wait, in line, for a compute slot (calls made meanwhile answered on `session`); False
    (and no slot held) if the run is stopped."""
    slots.request(run.id, run.control.grant_slot)
    if run.control.wait_for_slot(session):
        return True
    if not slots.cancel(run.id):  # granted after all: give it back
        slots.release()
    return False


class Pacer:
    """Keeps a paced run (config ``epochs_per_second``, read after every epoch, so it may change
    while the run trains) to its pace. Its waits hold no compute slot and any request to the run
    cuts them short. A run that fell behind (slow epochs, a pause) does not catch up in a burst:
    the next epoch is then due one interval from now.
    """

    def __init__(self, epochs: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # seconds (tests pass a virtual one)
        self.due = clock()  # when the epoch just trained was due to start
        self.learning = LearningPace(epochs)  # for the auto pace (app.runs.pace)

    def delay(self, pace: float | str | None, train_loss: float | None = None) -> float:
        """After an epoch (whose training loss was `train_loss`): seconds to wait before the
        next one (0 at full speed or if behind). `pace` is epochs per second, ``"auto"`` (the
        learning's pace, see `app.runs.pace`) or None (full speed)."""
        now = self.clock()
        shown = self.learning.after_epoch(train_loss)  # follows every epoch, whatever the pace
        if not pace:
            self.due = now
            return 0.0
        self.due += shown if pace == AUTO else 1.0 / pace
        if self.due <= now:
            self.due = now
            return 0.0
        return self.due - now

    def wait(self, run: Run, slot: Slot, session: Any = None) -> None:
        """Wait out the delay without the `slot` (answering calls on `session` meanwhile),
        then get it back unless a pause or stop came."""
        pace = run.control.settings.values.get("epochs_per_second")
        delay = self.delay(pace, run.last("train_loss"))
        if delay <= 0:
            return
        slot.release()
        run.control.wait(delay, session)
        if run.control.next_action() == TRAIN:  # paused or stopped meanwhile: no slot needed
            slot.acquire()
