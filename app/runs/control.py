"""Run control: the status machine of a run and the compute slots runs share.

`RunControl` holds one run's status (``queued → running ⇄ paused → finished | stopped | diverged
| failed``; ``interrupted`` is a run whose process died, as read back from storage; a running run
that must wait for a compute slot again is ``queued`` meanwhile) and the requests other threads
make of it (pause, resume, stop, step, live changes), all under one lock and condition, and the
run's live settings (`LiveSettings`: the values a run may change while it trains, as in force,
versioned): the run's config is its spec, written once; what changes is here. The state in
force is its base `RunStatus`; the requests and the run loop's side are `RunControl`'s own.
The run loop (`app.runs.runner`) asks `next_action()` between mini-batches, so a request takes
effect within one slice of training (a few hundredths of a second), whatever the epoch length.
Where the loop runs in another process (a training process, a worker), that process has a
control of its own: the requests made here are sent to it as commands (`forward_to`; `obey`
takes one there) and its step state comes back (`told_step`), its status too (`mirror`).

`ComputeSlots` lets at most `capacity` runs compute at once; the others wait in arrival order. A
paused run, or one waiting for its pace, gives its slot back.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from app.config.schema import STEERABLE_FIELDS

TERMINAL = frozenset({"finished", "stopped", "diverged", "failed", "interrupted"})
STATUSES = (
    "queued", "running", "paused", "finished", "stopped", "diverged", "failed", "interrupted"
)  # fmt: skip
TRAIN, PAUSE, STOP = "train", "pause", "stop"
STEP_UNITS = ("epochs", "batches")


class ControlError(Exception):
    """A request the run cannot take in its status (the API answers 409 with the message)."""


def check_step(unit: str, step: list | None) -> None:
    """Raise `ControlError` if `step` (``[unit, left]`` in progress, or None) is of another
    unit than `unit` (a step asked for meanwhile adds to one of its own unit)."""
    if step is not None and step[0] != unit:
        current, left = step
        raise ControlError(f"a step of {current} is in progress ({left} left): wait for it, or "
                           f"step by {current}")  # fmt: skip


LIVE_FIELDS = (*STEERABLE_FIELDS, "domain")  # + the grid's box, which follows the slice


@dataclass(frozen=True)
class LiveSettings:
    """A run's live settings as in force: `values` (read-only: each of `STEERABLE_FIELDS` of
    its config — lr, batch size, L1, L2, momentum, pace, slice — and the ``domain`` its views
    are drawn on, which follows the slice) and `version` (0 as created, one more per change).
    A change makes a new value; none is ever modified."""

    values: Mapping[str, Any]
    version: int = 0

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> LiveSettings:
        """The live settings a run with `config` starts with."""
        live = {name: copy.deepcopy(config[name]) for name in LIVE_FIELDS if name in config}
        return cls(MappingProxyType(live))

    def changed(self, changes: Mapping[str, Any]) -> LiveSettings:
        """The next version, with `changes` (live fields only; others raise `ValueError`)."""
        if unknown := sorted(set(changes) - set(LIVE_FIELDS)):
            raise ValueError(f"not a live setting: {', '.join(unknown)}")
        values = {**self.values, **copy.deepcopy(dict(changes))}
        return LiveSettings(MappingProxyType(values), self.version + 1)

    def told(self, values: Mapping[str, Any]) -> LiveSettings:
        """These settings with `values` as told: the next version if any differs, else self."""
        same = all(self.values.get(name) == value for name, value in values.items())
        return self if same else self.changed(values)

    def over(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """`config` (a run's spec) with these settings in force: a new dict."""
        return {**config, **copy.deepcopy(dict(self.values))}


def check_step_request(unit: str, count: Any) -> None:
    """Raise `ValueError` unless `count` (a whole number, at least 1) of `unit` is a step."""
    if unit not in STEP_UNITS or isinstance(count, bool) or not isinstance(count, int):
        raise ValueError(f"a step is a whole number of {' or '.join(STEP_UNITS)}")
    if count < 1:
        raise ValueError(f"a step needs at least 1 of {unit}, got {count}")


class RunStatus:
    """One run's state as in force: its status and reason, the seconds it spent running, its
    live settings, and the lock and condition every change is made under and announced by
    (`RunControl` adds the requests made of the run on top). A run trained elsewhere takes
    them as told (`mirror`, `adopt`)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter,
                 settings: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        self.clock = clock  # seconds (`elapsed` counts by it; tests pass a virtual one)
        self._settings = LiveSettings.of(settings or {})
        self.lock = threading.RLock()  # reentrant: `mirror` is called under it too
        self.changed = threading.Condition(self.lock)  # notified on every change
        self.status = "queued"
        self.reason: str | None = None
        self._elapsed_before = 0.0
        self._running_since: float | None = None

    @property
    def ended(self) -> bool:
        """True once the run has a terminal status."""
        return self.status in TERMINAL

    def elapsed(self) -> float:
        """Seconds spent running so far (not counting time queued or paused)."""
        with self.lock:
            since = self._running_since
            return self._elapsed_before + (self.clock() - since if since else 0.0)

    def _set(self, status: str, reason: str | None = None) -> None:
        now = self.clock()
        if self._running_since is not None:
            self._elapsed_before += now - self._running_since
            self._running_since = None
        if status == "running":
            self._running_since = now
        self.status = status
        if reason is not None:
            self.reason = reason
        self.changed.notify_all()

    def set_status(self, status: str, reason: str | None = None) -> None:
        """Move to `status` (a terminal status is final: later calls do nothing)."""
        with self.lock:
            if not self.ended:
                self._set(status, reason)

    def mirror(self, status: str | None, reason: str | None, elapsed: float,
               exact: bool = False) -> None:  # fmt: skip
        """A run trained elsewhere (stored, or a scaled worker's): take its `status` (None: keep
        it), `reason` and training `elapsed` as told (never back unless `exact`)."""
        with self.lock:
            self._running_since = None
            before = self._elapsed_before
            self._elapsed_before = float(elapsed) if exact else max(before, float(elapsed))
            if status is not None and (status, reason) != (self.status, self.reason):
                self.status, self.reason = status, reason
                self.changed.notify_all()

    @property
    def settings(self) -> LiveSettings:
        """The live settings in force (immutable; one attribute read: no lock)."""
        return self._settings

    def adopt(self, values: Mapping[str, Any]) -> None:
        """Settings as told, nothing for a run loop to apply (`LiveSettings.told`): a scaled
        worker's as relayed or stored, or the ``domain`` of a new slice here."""
        with self.lock:
            self._settings = self._settings.told(values)


class CallControl(RunStatus):
    """`RunStatus` and what other threads hand the run loop besides requests: calls to make on
    its session between two slices (`call`, `answer_calls`) and a compute slot (`grant_slot`);
    `RunControl` adds the requests."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter,
                 settings: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__(clock, settings)
        self._calls: list[tuple[Callable[[Any], Any], Callable[[bool, Any], None]]] = []
        self._slot = False  # a compute slot was granted and not yet taken by the run loop

    def grant_slot(self) -> None:
        """`ComputeSlots` gives this run a slot (called from whichever thread released one)."""
        with self.lock:
            self._slot = True
            self.changed.notify_all()

    def call(self, function: Callable[[Any], Any], reply: Callable[[bool, Any], None]) -> None:
        """Have the run loop call ``function(session)`` between two slices (or while parked)
        and `reply` ``(True, answer)`` or ``(False, error)``, ``(False, None)`` once the loop
        ended (e.g. a training process asked for a backprop pass)."""
        with self.lock:
            self._calls.append((function, reply))
            self.changed.notify_all()

    def answer_calls(self, session: Any) -> None:
        """The run loop's side of `call`: answer the calls waiting (a no-op when none is)."""
        if not self._calls:
            return
        with self.lock:
            calls, self._calls = self._calls, []
        for function, reply in calls:
            if session is None:  # the run loop ended: no session to ask
                reply(False, None)
                continue
            try:
                answer = (True, function(session))
            except Exception as error:  # the asker gets it; the run goes on
                answer = (False, error)
            reply(*answer)


class RunControl(CallControl):
    """One run's status (`RunStatus`), the requests other threads make of it and its live
    settings (`settings`: the run's config, of which the live fields are taken); see the module
    docstring."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter,
                 settings: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__(clock, settings)
        self._pause = False
        self._stop, self.stop_status = False, "stopped"  # a stop ends it so; or "interrupted"
        self.stop_why: str | None = None  # said after "stopped at epoch n" (the loop's own stop)
        self._step: list | None = None  # [unit, remaining] of a step asked for while paused
        self._requests = 0  # counts requests: a pacing wait ends when it changes
        self._changes: dict = {}  # live changes not yet taken by the run loop
        self.steps_done = 0  # steps that ended (done, or ended by a pause): a waiter's cue
        # where the run loop runs elsewhere (a training process): each request as a command
        # (`forward_to`, `obey`), sent on under the lock, in order
        self._forward: Callable[[tuple], None] | None = None

    # ----------------------------------------------------------------- requests (any thread)

    def _request(self, change: Callable[[], None], done: Callable[[], bool], wait: float,
                 command: tuple = ()) -> str:  # fmt: skip
        with self.lock:
            if self.ended:
                return self.status
            change()
            if self._forward is not None and command:
                self._forward(command)
            self._requests += 1
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.ended or done(), timeout=wait)
            return self.status

    def request_pause(self, wait: float = 0.0) -> str:
        """Ask the run to pause; wait up to `wait` s until it is no longer running."""

        def pause() -> None:
            self._pause = True
            if self._step is not None:  # a pause also ends a step in progress
                self._step, self.steps_done = None, self.steps_done + 1

        return self._request(pause, lambda: self.status != "running", wait, ("pause",))

    def request_resume(self, wait: float = 0.0) -> str:
        """Let a paused run go on; wait up to `wait` s until it is no longer paused."""

        def resume() -> None:
            self._pause = False
            if self._step is not None:  # a resume ends a step: the run goes on freely
                self._step, self.steps_done = None, self.steps_done + 1

        return self._request(resume, lambda: self.status != "paused", wait, ("resume",))

    def request_stop(self, wait: float = 0.0, interrupt: bool = False,
                     why: str | None = None) -> str:  # fmt: skip
        """Ask the run to end as ``stopped`` (``interrupted``: at shutdown); wait up to `wait` s.
        `why` joins its reason (the first stop's)."""

        def stop() -> None:
            if not self._stop:
                self.stop_why = why
            self._stop, self.stop_status = True, "interrupted" if interrupt else self.stop_status

        return self._request(stop, lambda: False, wait, ("stop", interrupt, why))

    def request_step(self, unit: str, count: int, wait: float = 0.0) -> str:
        """While paused: train `count` epochs or mini-batches (`unit`), then stay paused; wait
        up to `wait` s for it to be done. A step of the same unit in progress adds it; a pause
        ends it. Raises `ControlError` unless paused, or while a step of the other unit is in
        progress; `ValueError` for a bad unit or count (`check_step_request`)."""
        check_step_request(unit, count)

        def step() -> None:
            if self.status != "paused" or not self._pause:
                raise ControlError(f"the run is {self.status}: it can step only while paused")
            check_step(unit, self._step)
            if self._step is None:
                self._step = [unit, count]
            else:  # asked again before the last was done: both count
                self._step[1] += count

        return self._request(step, lambda: self._step is None, wait, ("step", unit, count))

    def post_changes(self, changes: dict) -> LiveSettings:
        """Live changes (validated): in force at once (the next `settings`), applied by the run
        loop from its next mini-batch. Raises `ControlError` once ended."""
        with self.lock:
            if self.ended:
                raise ControlError(f"the run is {self.status}: nothing to change")
            self._settings = self._settings.changed(changes)
            if self._forward is not None:
                self._forward(("change", changes))
            else:
                self._changes.update(changes)
            self._requests += 1
            self.changed.notify_all()
            return self._settings

    # ----------------------------------------------------------------- the run loop's side

    def take_changes(self) -> dict:
        """The live changes posted since the last call (for the run loop to apply)."""
        with self.lock:
            changes, self._changes = self._changes, {}
            return changes

    def next_action(self) -> str:
        """What the run loop does next: ``stop``, ``pause`` (park) or ``train`` (a step asked
        for while paused trains, still ``paused``; a resumed run becomes ``running``)."""
        with self.lock:
            if self._stop:
                return STOP
            if self._step is not None:
                return TRAIN
            if self._pause:
                return PAUSE
            if self.status == "paused":
                self._set("running")
            return TRAIN

    @property
    def requests(self) -> int:
        """How many requests were made so far (the run loop compares two readings)."""
        return self._requests

    def free_running(self) -> bool:
        """True unless a pause, a stop or a step is pending (then slices may hold many epochs)."""
        with self.lock:
            return not (self._stop or self._pause or self._step is not None)

    def step_batches(self) -> int | None:
        """Mini-batches left in a step of batches (the most the next slice may train), or None."""
        with self.lock:
            step = self._step
            return step[1] if step is not None and step[0] == "batches" else None

    def trained(self, batches: int, epochs: int) -> bool:
        """The run loop trained `batches` mini-batches and completed `epochs` epochs; True if
        that ended a step."""
        with self.lock:
            if self._step is None:
                return False
            self._step[1] -= batches if self._step[0] == "batches" else epochs
            if self._step[1] > 0:
                return False
            self._step, self.steps_done = None, self.steps_done + 1
            self.changed.notify_all()
            return True

    def step_state(self) -> list | None:
        """``[unit, left]`` of the step in progress, or None."""
        with self.lock:
            return None if self._step is None else list(self._step)

    def park(self, timeout: float | None = None) -> str | None:
        """Mark the run paused and wait for a resume, a step or a stop; return which (TRAIN or
        STOP), or None after `timeout` seconds with none of them (still paused)."""
        with self.lock:
            if not self.ended and self.status != "paused":
                self._set("paused")
            self.changed.wait_for(
                lambda: self._stop or self._step is not None or not self._pause or self._calls,
                timeout,
            )
            if self._stop:
                return STOP
            return TRAIN if self._step is not None or not self._pause else None

    def begin(self) -> str:
        """The run got its first slot: ``running`` (or ``paused`` / ``stop`` if so asked)."""
        with self.lock:
            if self._stop:
                return STOP
            self._set("paused" if self._pause else "running")
            return PAUSE if self._pause else TRAIN

    def wait(self, seconds: float, session: Any = None) -> None:
        """Sleep up to `seconds` (a pacing wait); any request cuts it short. Calls (`call`)
        made meanwhile are answered on `session` at once."""
        deadline = self.clock() + seconds
        with self.lock:
            seen = self._requests
        while (left := deadline - self.clock()) > 0:
            with self.lock:
                self.changed.wait_for(lambda: self._requests != seen or self._calls, left)
                if self._requests != seen:
                    return
            self.answer_calls(session)

    # ----------------------------------------------------------------- a loop elsewhere

    def forward_to(self, send: Callable[[tuple], None] | None) -> list[tuple]:
        """The run loop runs elsewhere (a training process) from now on: every request is
        also `send` as a command (`obey`), under the lock, in order (None: no more). Returns
        the requests pending now as commands, and the live changes not yet taken: what that
        loop must be told first (none is lost or told twice)."""
        with self.lock:
            first = self._commands() if send is not None else []
            self._forward = send
            return first

    def _commands(self) -> list[tuple]:
        commands: list[tuple] = []
        if self._stop:
            commands.append(("stop", self.stop_status == "interrupted", self.stop_why))
        if self._pause:
            commands.append(("pause",))
        if self._step is not None:
            commands.append(("step", *self._step))
        if changes := self.take_changes():
            commands.append(("change", changes))
        return commands

    def told_step(self, step: list | None, steps_done: int) -> None:
        """The step in progress where the run loop runs (``[unit, left]`` or None) and the
        steps it ended, as told: a newer count ends the step here (its waiter returns); an
        older one (told before the loop got the step) changes nothing."""
        with self.lock:
            if steps_done > self.steps_done:
                self._step, self.steps_done = step, steps_done
                self.changed.notify_all()
            elif steps_done == self.steps_done and step is not None and self._step is not None:
                self._step = list(step)

    @property
    def stop_requested(self) -> bool:
        """True once a stop was asked for."""
        return self._stop

    # ----------------------------------------------------------------- compute slot

    def wait_for_slot(self, session: Any = None) -> bool:
        """Wait for the slot asked for (``queued`` meanwhile; calls made meanwhile answered on
        `session`); False if a stop came first."""
        with self.lock:
            resumed = self.status == "paused" and not self._pause
            if not self._slot and (self.status == "running" or resumed):
                self._set("queued")
        while True:
            with self.lock:
                self.changed.wait_for(lambda: self._slot or self._stop or self._calls)
                if self._slot or self._stop:
                    break
            self.answer_calls(session)
        with self.lock:
            granted, self._slot = self._slot, False
            if granted and self.status == "queued":
                self._set("running")
            return granted and not self._stop


def obey(control: RunControl, command: tuple) -> None:
    """A request made in another process (`RunControl.forward_to`, the Redis keys) told to
    `control`: ``("pause",)``, ``("resume",)``, ``("stop", interrupt, why)``, ``("step", unit,
    count)`` or ``("change", changes)``. Raises `ControlError` or `ValueError` as the request
    would."""
    name, *args = command
    if name == "pause":
        control.request_pause(0.0)
    elif name == "resume":
        control.request_resume(0.0)
    elif name == "stop":
        interrupt, why = (list(args) + [False, None])[:2]
        control.request_stop(0.0, interrupt=bool(interrupt), why=why)
    elif name == "step":
        control.request_step(args[0], int(args[1]), 0.0)
    elif name == "change":
        control.post_changes(args[0])
    else:
        raise ValueError(f"not a command: {name!r}")


class ComputeSlots:
    """At most `capacity` holders at once; the others wait in arrival order.

    `request(key, grant)` calls `grant()` when a slot is the key's (at once if one is free and
    nobody waits); `release()` passes a held slot to the next in line; `cancel(key)` takes a
    request back (False if it was already granted: the caller then holds the slot).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, int(capacity))
        self._lock = threading.Lock()
        self._free = self.capacity
        self._queue: deque[tuple[Hashable, Callable[[], None]]] = deque()

    def request(self, key: Hashable, grant: Callable[[], None]) -> None:
        """Ask for a slot for `key`; `grant` is called (outside the lock) once it has one."""
        with self._lock:
            if self._free > 0 and not self._queue:
                self._free -= 1
            else:
                self._queue.append((key, grant))
                return
        grant()

    def cancel(self, key: Hashable) -> bool:
        """Withdraw `key`'s waiting request; False if it was not waiting (granted already)."""
        with self._lock:
            for item in self._queue:
                if item[0] == key:
                    self._queue.remove(item)
                    return True
        return False

    def release(self) -> None:
        """Give a held slot back: to the next waiting request, else to the free pool."""
        with self._lock:
            if not self._queue:
                self._free = min(self.capacity, self._free + 1)
                return
            _key, grant = self._queue.popleft()
        grant()

    def position(self, key: Hashable) -> int | None:
        """1-based place of `key` in the queue, or None if it is not waiting."""
        with self._lock:
            for place, (waiting, _grant) in enumerate(self._queue, start=1):
                if waiting == key:
                    return place
        return None

    @property
    def in_use(self) -> int:
        """Slots held now."""
        with self._lock:
            return self.capacity - self._free
