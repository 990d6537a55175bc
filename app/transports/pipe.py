"""Embedded mode's transport: a run trains in a child process forked from the server
(`app.training.forked`), which runs the one run loop (`app.runs.runner.execute`) on a `Run` and
`RunControl` of its own, exactly as a scaled worker does; the pipe between them carries:

- **commands in** (server → child): the requests made of the server's `Run` — its control
  forwards each as a command (`RunControl.forward_to`, `app.runs.control.obey`: ``pause``,
  ``resume``, ``stop``, ``step``, ``change``, the same requests a worker's Redis keys carry) —
  and ``("watched", bool)``, ``("stopped_early", reason)`` (a sweep's halving),
  ``("granted",)`` (a compute slot) and ``("call", id, function, args)``
  (``function(session, *args)`` answered by the run loop between two slices: the backprop
  API asks the training's own optimizer state and next mini-batch);
- **events out** (child → server): ``("run", message)``, the message `RunRelay` builds for
  the message queue (the view and look inside as they are: the pipe pickles them), which the
  server applies to its `Run` with the same `MessageFeed`; ``("checkpoint", checkpoint)``
  before the message that follows a new one; ``("slot", "want" | "cancel" | "release")``
  (the run loop's compute slot: the server's `ComputeSlots` decide); ``("answer", id, ok,
  value)``.

The server's thread (`train_in_child`) only follows: the recorder, the broadcaster and the API
read the server's `Run` as they would a run trained on a thread. A child that sends nothing for
`HANG_SECONDS` (its relay sends at least every `KEEPALIVE` s: stopped by SIGSTOP, hung) is
killed, as is one that sends nothing for `STOP_GRACE` s once a stop was asked for; one that is gone
(killed, out of memory) is noticed at once: the run then ends ``failed`` (``stopped`` when a
stop was asked for) with the reason, its slot freed, every watcher getting its ``done``. A
child whose pipe closes (the server died) exits.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from app.runs.control import ComputeSlots, ControlError, obey
from app.runs.run import Run
from app.runs.runner import CHECKPOINT_SECONDS, UNWATCHED_PAUSE, execute
from app.training.forked import CAN_FORK, ChildProcess, TrainingProcessError
from app.transports.relay import MessageFeed, RunRelay

log = logging.getLogger(__name__)

HANG_SECONDS = 4.0  # a child that sends nothing this long is hung: it is killed
STOP_GRACE = 1.5  # once a stop is asked for, a child that sends nothing this long is killed
PIPE_INTERVAL = 0.01  # the child's relay sends at most this often (views come ~30/s)
KEEPALIVE = 0.25  # ... and at least this often (news or not): the server knows it is alive
POLL_SECONDS = 0.05  # the server's thread looks at the pipe (and the run's watchers) this often


def train_in_child(run: Run, slots: ComputeSlots, frame_interval: float,
                   inside_interval: float | None = None,
                   checkpoint_seconds: float = CHECKPOINT_SECONDS,
                   unwatched_pause: float | None = UNWATCHED_PAUSE) -> None:  # fmt: skip
    """The run's thread (it holds a compute slot): train `run` in a child process, follow it
    to its end; where the system cannot fork, `execute` on this thread."""
    options = (frame_interval, inside_interval, checkpoint_seconds, unwatched_pause)
    if not CAN_FORK:
        execute(run, slots, *options)
        return
    trainer = None
    try:
        trainer = ChildTrainer(run, slots, options)
        trainer.follow()
    except TrainingProcessError as error:  # killed or hung: the run ends, its slot is freed
        if run.control.stop_requested:
            status = run.control.stop_status
            run.control.set_status(status, f"{status} at epoch {run.epoch} ({error})")
        else:
            log.warning("run %s: %s", run.id, error)
            run.control.set_status("failed", str(error))
    except Exception as error:  # a bad run must never take the server down
        log.exception("run %s failed", run.id)
        run.control.set_status("failed", f"{type(error).__name__}: {error}")
    finally:
        run.live = None  # ended: app.backprop answers from the checkpoint from now on
        if trainer is not None:
            trainer.close()
        else:
            slots.release()
        run.control.set_status("failed", "training ended unexpectedly")  # no-op once ended
        run.ended()


class ChildTrainer:
    """The server's side of one run's training process (see the module docstring)."""

    def __init__(self, run: Run, slots: ComputeSlots, options: tuple) -> None:
        self.run, self.slots = run, slots
        self.feed = MessageFeed(run)
        self.held, self.wanting, self.closed = True, False, False  # the run's compute slot
        self.slot_lock = threading.Lock()
        self.answers: dict[int, list] = {}  # call id -> [answered, ok, value]
        self.call_ids = itertools.count()
        self.watched: bool | None = None  # as last told to the child
        self.stopped_early = False  # told to the child
        data = run.data()  # drawn here, once: the child inherits them, the payloads share them
        run.payloads_now()  # their wire form, as a run trained on a thread has from its start
        control = run.control
        self.pending: list[tuple] | None = []  # commands forwarded before the child exists
        first = control.forward_to(self.send)
        try:
            self.process = ChildProcess(
                lambda pipe: _child(pipe, run, data, first, run.watched, options)
            )
        except BaseException:
            control.forward_to(None)
            raise
        with control.lock:  # (requests are forwarded under it: none comes meanwhile)
            pending, self.pending = self.pending, None
            for command in pending:
                self.send(command)
        run.live = self  # app.backprop asks the training process (`call`)

    def send(self, command: tuple) -> None:
        """A command for the child's control: a request made of the server's run (under its
        lock, `RunControl.forward_to`)."""
        if self.pending is not None:
            self.pending.append(command)
            return
        try:
            self.process.send(command)
        except TrainingProcessError:  # gone: `follow` ends the run
            pass

    def follow(self) -> None:
        """Apply the child's events to the run until its last message; raises
        `TrainingProcessError` when the child is gone, hung, or does not stop."""
        control = self.run.control
        heard = time.monotonic()
        stop_seen: float | None = None
        while True:
            self._tell_watched()
            event = self.process.receive(POLL_SECONDS)
            now = time.monotonic()
            if event is not None:
                heard = now
                if self._take(event):
                    return
                continue
            if stop_seen is None and control.stop_requested:
                stop_seen = now
            silent = now - heard
            if silent >= HANG_SECONDS or (
                stop_seen is not None and now - max(heard, stop_seen) >= STOP_GRACE
            ):
                self.process.kill()
                raise TrainingProcessError(
                    f"the training process did not answer for {silent:.1f} s (stopped or "
                    "hung): it was ended"
                )

    def _tell_watched(self) -> None:
        """What the run loop reads of the run besides its control: whether anyone watches it
        (`Run.watched`, the broadcaster's) and a sweep's halving (`Run.stopped_early`)."""
        watched, told = bool(self.run.watched), []
        if watched != self.watched:
            self.watched = watched
            told.append(("watched", watched))
        if self.run.stopped_early is not None and not self.stopped_early:
            self.stopped_early = True
            told.append(("stopped_early", self.run.stopped_early))
        for command in told:
            try:
                self.process.send(command)
            except TrainingProcessError:  # it ended (its last message still to be read) or
                return  # is gone (`receive` says so)

    def _take(self, event: tuple) -> bool:
        """Apply one event; True once it was the run's last message."""
        kind = event[0]
        if kind == "run":
            message, control = event[1], self.run.control
            self.feed.relayed(message)
            if self.feed.end_relayed:
                control.mirror(message["status"], message["reason"], float(message["elapsed"]))
                return True
            control.told_step(self.feed.step, self.feed.steps_done)
        elif kind == "checkpoint":
            self.run.checkpoint = event[1]
        elif kind == "slot":
            self._slot(event[1])
        elif kind == "answer":
            _kind, call_id, ok, value = event
            waiter = self.answers.get(call_id)
            if waiter is not None:
                waiter[1:] = [ok, value]
                waiter[0].set()
        return False

    # ------------------------------------------------------------------ the compute slot

    def _slot(self, what: str) -> None:
        """The child's loop asks for a slot, takes its request back, or gives its slot back.
        (`ComputeSlots` calls are made outside `slot_lock`: a release grants another run's.)"""
        with self.slot_lock:
            want = what == "want" and not self.held and not self.wanting
            cancel = what == "cancel" and self.wanting  # granted meanwhile: `_granted` gives
            release = what == "release" and self.held  # it back (wanting is False then)
            self.wanting = want or (self.wanting and not cancel)
            self.held = self.held and not release
        if want:
            self.slots.request(self.run.id, self._granted)
        elif cancel:
            self.slots.cancel(self.run.id)
        elif release:
            self.slots.release()

    def _granted(self) -> None:
        """`ComputeSlots` gave the run a slot (any thread)."""
        with self.slot_lock:
            taken = self.wanting and not self.closed
            if taken:
                self.wanting, self.held = False, True
        if not taken:
            self.slots.release()
            return
        try:
            self.process.send(("granted",))
        except TrainingProcessError:  # gone: `close` gives the slot back
            pass

    # ------------------------------------------------------------------ calls

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(session, *args)`` in the child on its session as it is now (between two
        slices), e.g. from a request thread; `function` (a module-level one) and the answer
        are pickled. Raises `TrainingProcessError` if the child does not answer (or ended)."""
        call_id = next(self.call_ids)
        waiter = [threading.Event(), False, None]
        self.answers[call_id] = waiter
        try:
            self.process.send(("call", call_id, function, args))
            if not waiter[0].wait(HANG_SECONDS):
                raise TrainingProcessError("the training process did not answer the call")
        finally:
            self.answers.pop(call_id, None)
        _event, ok, value = waiter
        if ok:
            return value
        raise value if isinstance(value, Exception) else TrainingProcessError("the run ended")

    def close(self) -> None:
        """End the child (waited for, killed if need be) and give its compute slot back."""
        self.run.control.forward_to(None)
        self.process.close()
        for waiter in list(self.answers.values()):
            waiter[0].set()  # (False, None): the call raises TrainingProcessError
        with self.slot_lock:
            self.closed = True
            held, wanting, self.held, self.wanting = self.held, self.wanting, False, False
        if wanting:  # granted meanwhile: `_granted` sees `closed` and gives it back
            self.slots.cancel(self.run.id)
        if held:
            self.slots.release()


# ------------------------------------------------------------------ the child's side


def _child(pipe: Connection, served: Run, data: Any, first: list[tuple], watched: bool,
           options: tuple) -> None:  # fmt: skip
    """The training process's life: a `Run` and `RunControl` of its own (the server's `served`
    run's spec, data and starting weights), told the requests pending (`first`), trained by
    `execute` while a thread takes the commands and a `RunRelay` sends the events."""
    run = Run(served.id, served.task, dict(served.spec), data)
    run.initial_state, run.watched = served.initial_state, watched
    run.payloads = served.payloads  # built before the fork: `Run.start` keeps them
    link = _ChildLink(pipe, run)
    for command in first:
        link.obey(command)
    relay = RunRelay(link, run, interval=PIPE_INTERVAL, encode=False, keepalive=KEEPALIVE)
    threading.Thread(target=link.listen, name="commands", daemon=True).start()
    relay.start()
    try:
        execute(run, _PipeSlots(link), *options)
    finally:
        relay.stop()  # the last message: the run's end


class _ChildLink:
    """The child's end of the pipe: sends events (the relay's `emit`, checkpoints first),
    takes commands (`listen`, a thread)."""

    def __init__(self, pipe: Connection, run: Run) -> None:
        self.pipe, self.run = pipe, run
        self.sending = threading.Lock()
        self.checkpoint: Any = None  # the last one sent
        self.grant: Callable[[], None] | None = None

    def send(self, event: tuple) -> None:
        with self.sending:
            self.pipe.send(event)

    def emit(self, _event: str, message: dict[str, Any], **_where: Any) -> None:
        """`RunRelay`'s emitter: a new checkpoint, then the message. One that cannot be sent
        ends the process: the pipe has no catch-up, so the server must not go on without it
        (it ends the run ``failed``, with the history and weights it has)."""
        checkpoint = self.run.checkpoint
        try:
            with self.sending:
                if checkpoint is not None and checkpoint is not self.checkpoint:
                    start = time.perf_counter()
                    self.pipe.send(("checkpoint", checkpoint))
                    self.run.checkpoint_carry = time.perf_counter() - start
                    self.checkpoint = checkpoint
                self.pipe.send(("run", message))
        except Exception:
            log.exception("run %s: an event could not be sent: the training process ends",
                          self.run.id)  # fmt: skip
            os._exit(1)

    def obey(self, command: tuple) -> None:
        try:
            obey(self.run.control, command)
        except (ControlError, ValueError) as error:
            log.info("run %s: %s not taken: %s", self.run.id, command[0], error)

    def listen(self) -> None:
        """Take commands until the pipe closes (the server is gone: the process ends)."""
        control = self.run.control
        while True:
            try:
                command = self.pipe.recv()
            except (EOFError, OSError):
                os._exit(0)
            name = command[0]
            if name == "watched":
                self.run.watched = command[1]
            elif name == "stopped_early":  # a sweep's halving: the loop ends the run finished
                self.run.stopped_early = self.run.stopped_early or command[1]
            elif name == "granted":
                control.grant_slot()
            elif name == "call":
                control.call(_bound(command[2], command[3]), self._replier(command[1]))
            else:
                self.obey(command)

    def _replier(self, call_id: int) -> Callable[[bool, Any], None]:
        def reply(ok: bool, value: Any) -> None:
            try:
                self.send(("answer", call_id, ok, value))
            except Exception as error:  # e.g. an answer that does not pickle
                self.send(("answer", call_id, False, RuntimeError(f"{type(error).__name__}: "
                                                                  f"{error}")))  # fmt: skip

        return reply


def _bound(function: Callable[..., Any], args: tuple) -> Callable[[Any], Any]:
    return lambda session: function(session, *args)


class _PipeSlots:
    """The child's `ComputeSlots`: the server's decide (``slot`` events, ``granted``)."""

    def __init__(self, link: _ChildLink) -> None:
        self.link = link

    def request(self, _key: Any, grant: Callable[[], None]) -> None:
        self.link.send(("slot", "want"))  # `grant` is the control's: ``granted`` calls it

    def cancel(self, _key: Any) -> bool:
        self.link.send(("slot", "cancel"))
        return True  # the server gives back a slot granted meanwhile

    def release(self) -> None:
        self.link.send(("slot", "release"))
