"""A training session in a child process forked from the server: the run trains on its own
interpreter lock.

Why: in one process, every server thread (the broadcaster encoding frames, the websocket
readers and writers, the recorder writing epochs) takes the interpreter lock from the training
thread about a hundred times a second, and a served run trained 8-10 % slower than
``network.train`` alone. In a child process the training shares nothing with them but the
machine's cores.

`ForkedSession` has the `TrainingSession` interface the run loop uses (`train_slice`, `view`,
`apply`, `checkpoint`, `dead_units`, `progress`, `epoch`, `steps`, `finishing`, `data`,
`history_columns`, `close`). The session is built in the server (so a bad config fails there,
with its reason), then the thread that will drive it forks: the child keeps the session and
answers one call at a time over a pipe; the parent keeps its own copy for what never changes
while training (the data, the config). A call's arguments and answer are pickled (a slice's
epoch records, a view's arrays: a few kilobytes, some 60 times a second: a slice trained
ahead ends at the next view's due time or after `AHEAD_SECONDS`).

The child runs only numpy and the session: it closes every file descriptor it inherited but its
pipe (so the server's sockets and database connections close when the server closes them),
never collects the objects it inherited (``gc.freeze``), ignores SIGINT and SIGTERM (a Ctrl+C
to the server's process group is the server's to handle) and leaves with ``os._exit`` (no
finalizer runs). It ends when `close` is called or its pipe closes (the server died).

A child that answers nothing for `HANG_SECONDS` (stopped by SIGSTOP, deadlocked, swapped out
for good) is killed and the call raises `TrainingProcessError`, as a killed child's does, so its
run ends ``failed`` and frees its compute slot; once a stop is asked for (`stopping`), a child
that does not answer within `STOP_GRACE` seconds is killed too, so a stop always works. A paused
run pings its child every `PING_SECONDS` (`ping`), so a child killed while it waits is noticed.
"""

from __future__ import annotations

import gc
import os
import resource
import select
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, Pipe
from typing import Any

from app.training.session import Checkpoint, TrainedSlice, TrainingSession, View, due_view

CAN_FORK = hasattr(os, "fork")
IGNORED_SIGNALS = {signal.SIGINT, signal.SIGTERM}  # the child's: see `_serve`
SLICES_AHEAD = 4  # slices the child trains ahead of the run loop while the run trains freely
# A slice trained ahead is at most this long (s), and ends when a view is due: the child makes
# the view then, on its own, so views keep their cadence whatever the two loops' phase.
AHEAD_SECONDS = 0.025
HANG_SECONDS = 4.0  # a child that answers no call this long is hung: it is killed
STOP_GRACE = 1.0  # once a stop is asked for, a child is waited for this long at most
PING_SECONDS = 1.0  # a paused run checks its child this often (`ping`)


class TrainingProcessError(RuntimeError):
    """The training process ended without answering (killed, or out of memory)."""


class ForkedSession:
    """`session` trained in a forked child process (see the module docstring)."""

    def __init__(
        self, session: TrainingSession, stopping: Callable[[], bool] | None = None
    ) -> None:
        self.local = session  # the parent's copy: data and config only, never trained
        self.data = session.data
        self.config = session.config
        parent_end, child_end = Pipe()
        # the child is born with SIGINT and SIGTERM blocked, so none is lost before it ignores
        # them (`_serve`); in this process only this thread blocks them, for the fork's span
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, IGNORED_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # the child: never returns
                _serve(child_end, parent_end, session)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        child_end.close()
        self._pipe: Connection | None = parent_end
        self._pid = pid
        self._state = _state(session)
        self.stopping = stopping or (lambda: False)  # True once the run is to stop
        self._calls = threading.Lock()  # the run loop and `call` from a request share the pipe

    # ------------------------------------------------------------------ answered locally

    @property
    def epoch(self) -> int:
        """Completed epochs (as of the last call)."""
        return self._state[0]

    @property
    def steps(self) -> int:
        """Mini-batches trained in all (as of the last call)."""
        return self._state[3]

    def progress(self) -> dict[str, int]:
        """``{epoch, batch, batches}`` as `TrainingSession.progress` (as of the last call)."""
        epoch, batch, batches = self._state[:3]
        return {"epoch": epoch + 1, "batch": batch, "batches": batches}

    def finishing(self, epochs: int) -> bool:
        """True when only the evaluation of the run's last epoch is left."""
        return self._state[4] and self._state[0] + 1 >= epochs

    def history_columns(self) -> list[str]:
        """As `TrainingSession.history_columns` (fixed by the config)."""
        return self.local.history_columns()

    # ------------------------------------------------------------------ answered by the child

    def train_slice(
        self, max_batches: int | None, deadline: float, epochs: int, several: bool,
        interrupted: Any = None, view_due: float | None = None, inside_due: float | None = None,
    ) -> TrainedSlice:  # fmt: skip
        """As `TrainingSession.train_slice`, except that `interrupted` is not consulted and that,
        with `several`, the child goes on training slices ahead (at most `SLICES_AHEAD`, each at
        most `AHEAD_SECONDS`) until the next call: that call returns their records at once (or,
        when none is ready, waits for the one in progress) with a view: the one the child made
        while training ahead when `view_due` came (a slice trained ahead ends then), else one
        of the weights at their last epoch if one is due. `settle` collects them."""
        now = time.perf_counter()
        return self._call(
            "train_slice", max_batches, max(0.0, deadline - now), epochs, several,
            *(None if due is None else due - now for due in (view_due, inside_due)),
        )  # fmt: skip

    def settle(self) -> TrainedSlice:
        """Stop training ahead; the records (and the error) of the slices trained ahead and not
        yet returned, so that the run's history matches its weights."""
        return self._call("settle")

    def view(self, inside: bool = False) -> View:
        """As `TrainingSession.view`."""
        return self._call("view", inside)

    def apply(self, changes: dict[str, Any]) -> None:
        """As `TrainingSession.apply`; a new slice is applied to the parent's copy of the data
        too (the wire form of the data is built from it)."""
        self._call("apply", changes)
        if changes.get("slice_features") is not None:
            self.local.set_slice(changes["slice_features"])

    def checkpoint(self) -> Checkpoint:
        """As `TrainingSession.checkpoint`."""
        return self._call("checkpoint")

    def dead_units(self) -> list[tuple[int, int]]:
        """As `TrainingSession.dead_units`."""
        return self._call("dead_units")

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(session, *args)`` run in the child on its session as it is now (between
        two mini-batches), e.g. from a request thread; `function` (a module-level one) and the
        answer are pickled."""
        return self._call("call", function, *args)

    def ping(self) -> None:
        """Raise `TrainingProcessError` if the child is gone or does not answer (a paused run
        calls this every `PING_SECONDS`)."""
        self._call("ping")

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._pid

    def close(self) -> None:
        """End the child process and wait for it (idempotent); a child that does not end
        within a second (stopped, hung) is killed."""
        pipe, self._pipe = self._pipe, None
        if pipe is None:
            return
        try:
            pipe.send(("close", ()))
        except OSError:  # it is gone already
            pass
        pipe.close()
        deadline = time.monotonic() + 1.0
        while os.waitpid(self._pid, os.WNOHANG) == (0, 0):
            if time.monotonic() >= deadline:
                self._kill()
                os.waitpid(self._pid, 0)
                return
            time.sleep(0.01)

    def _kill(self) -> None:
        try:
            os.kill(self._pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _call(self, name: str, *args: Any) -> Any:
        with self._calls:
            if self._pipe is None:
                raise TrainingProcessError("the training process was closed")
            try:
                self._pipe.send((name, args))
                self._await_answer()
                answer, value, self._state = self._pipe.recv()
            except (EOFError, OSError, AttributeError) as error:  # AttributeError: closed meanwhile
                raise TrainingProcessError(
                    "the training process ended unexpectedly (killed, or out of memory?)"
                ) from error
        if answer == "error":
            raise value
        return value

    def _await_answer(self) -> None:
        """Return once the child's answer is there (or it is gone: `recv` then raises); kill a
        child that answers nothing for `HANG_SECONDS`, or `STOP_GRACE` once stopping."""
        began = time.monotonic()
        stop_seen: float | None = None
        while not self._pipe.poll(0.05):
            now = time.monotonic()
            if stop_seen is None and self.stopping():
                stop_seen = now
            if now - began >= HANG_SECONDS or (
                stop_seen is not None and now - stop_seen >= STOP_GRACE
            ):
                self._kill()
                waited = now - began
                raise TrainingProcessError(
                    f"the training process did not answer for {waited:.1f} s (stopped or hung): "
                    "it was ended"
                )


def _state(session: TrainingSession) -> tuple[int, int, int, int, bool]:
    trainer = session.trainer
    return trainer.epoch, trainer.batch, trainer.batches, trainer.steps, trainer.evaluating


def _serve(pipe: Connection, other_end: Connection, session: TrainingSession) -> None:
    """The child's whole life: answer calls until told to close or the pipe closes."""
    code = 1
    try:
        # Ctrl+C reaches the whole process group: the server decides what becomes of its runs
        # (they are `interrupted` when it dies), and the child ends when its pipe closes
        for number in IGNORED_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, IGNORED_SIGNALS)
        other_end.close()
        gc.freeze()  # what the server's threads left half-done must never be finalized here
        _close_inherited(pipe.fileno())
        _Child(pipe, session).serve()
        code = 0
    finally:
        os._exit(code)


def _close_inherited(keep: int) -> None:
    """Close every inherited file descriptor above stderr but `keep`."""
    highest = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if highest == resource.RLIM_INFINITY or highest <= keep:
        highest = 1 << 20
    os.closerange(3, keep)
    os.closerange(keep + 1, highest)


class _Child:
    """The child's side: answers the calls in order and, between them, trains ahead while the
    run trains freely (see `ForkedSession.train_slice`)."""

    def __init__(self, pipe: Connection, session: TrainingSession) -> None:
        self.pipe = pipe
        self.session = session
        self.waiting = select.poll()  # is a call waiting? (cheaper than `pipe.poll()`)
        self.waiting.register(pipe.fileno(), select.POLLIN)
        # (slice seconds, the run's epochs, view due, look inside due) while training ahead
        self.ahead: tuple[float, int, float | None, float | None] | None = None
        self.pending: list[dict[str, Any]] = []  # records of slices trained ahead
        self.view: View | None = None  # the view made while training ahead, not yet returned
        self.pending_slices = 0
        self.error: Exception | None = None  # the error that ended a slice trained ahead
        self.delivered = _state(session)  # the state as of the last returned slice
        self.calls = {
            "train_slice": self.train_slice,
            "settle": self.settle,
            "view": session.view,
            "apply": session.apply,
            "checkpoint": session.checkpoint,
            "dead_units": session.dead_units,
            "ping": lambda: None,
            "call": lambda function, *args: function(session, *args),
        }

    def serve(self) -> None:
        """Answer calls until told to close or the pipe closes (the server is gone)."""
        while True:
            if self._may_train_ahead() and not self.waiting.poll(0):
                self._train_ahead()
                continue
            try:
                name, args = self.pipe.recv()
            except EOFError:
                return
            if name == "close":
                return
            self._answer(name, args)

    def _answer(self, name: str, args: tuple) -> None:
        try:
            answer = ("ok", self.calls[name](*args))
        except Exception as error:  # the run fails with it, in the server
            answer = ("error", error)
        try:
            self.pipe.send((*answer, self.delivered))
        except Exception as error:  # e.g. an exception that does not pickle
            self.pipe.send(("error", RuntimeError(f"{type(error).__name__}: {error}"),
                            self.delivered))  # fmt: skip

    def _may_train_ahead(self) -> bool:
        return (
            self.ahead is not None
            and self.error is None
            and self.pending_slices < SLICES_AHEAD
            and self.session.epoch < self.ahead[1]
            and self.session.stopped_early is None
        )

    def _train_ahead(self) -> None:
        """One slice ahead; it ends when the view is due, and makes it (one per call)."""
        seconds, epochs, view_due, inside_due = self.ahead
        if self.view is not None:
            view_due = None
        records, self.error, view = self.session.train_slice(
            None, time.perf_counter() + min(seconds, AHEAD_SECONDS), epochs, True, None,
            view_due, inside_due,
        )  # fmt: skip
        self.pending += records
        self.pending_slices += 1
        self.view = view or self.view

    def train_slice(
        self, max_batches: int | None, seconds: float, epochs: int, several: bool,
        view_in: float | None, inside_in: float | None,
    ) -> TrainedSlice:  # fmt: skip
        now = time.perf_counter()  # the parent's due times are sent as seconds from now
        view_due, inside_due = (None if due is None else now + due for due in (view_in, inside_in))
        if self.pending_slices:  # what was trained ahead comes first
            view, self.view = self.view, None
            records, error = self._deliver()
            if view is None and error is None:
                view = due_view(self.session, view_due, inside_due)
            done = TrainedSlice(records, error, view)
        else:
            done = self.session.train_slice(
                max_batches, now + seconds, epochs, several, None, view_due, inside_due
            )
            self.delivered = _state(self.session)
        due = (None, None) if done.view is not None else (view_due, inside_due)
        self.ahead = (seconds, epochs, *due) if several and done.error is None else None
        return done

    def settle(self) -> TrainedSlice:
        self.ahead, self.view = None, None
        return TrainedSlice(*self._deliver())

    def _deliver(self) -> tuple[list[dict[str, Any]], Exception | None]:
        records, error = self.pending, self.error
        self.pending, self.pending_slices, self.error = [], 0, None
        self.delivered = _state(self.session)
        return records, error
