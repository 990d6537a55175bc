"""The run manager: the registry of runs, the compute slots, and the threads that train them.

A new run waits for a compute slot as ``queued`` with no thread and no data; the slot's grant
starts its training thread (`train`: `app.runs.runner.execute` on the thread, or in embedded
mode `app.transports.pipe.train_in_child`, which follows a training process of the run's own).
Control requests go to the run's `RunControl` (which forwards them to a training process);
streaming to the `Broadcaster`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from app.outages import is_outage, remove_leftovers, store_writes, unavailable_for_reading
from app.runs.broadcast import Broadcaster
from app.runs.control import TERMINAL, ComputeSlots, ControlError
from app.runs.run import Run
from app.runs.runner import UNWATCHED_PAUSE, execute
from app.runs.validation import ConfigError, RunSpec, slice_error, validate_changes

log = logging.getLogger(__name__)

MAX_ENDED_RUNS = 200  # ended runs kept in memory for GET/watch; older ones are forgotten
# With a database, an ended run is read back from it on demand (`loader`): memory keeps only the
# last few, so it stops growing after the first runs whatever the number of runs trained.
MAX_ENDED_RUNS_STORED = 8
CONTROL_WAIT = 2.0  # seconds pause/stop/step wait for the run loop to act before answering
RUN_ID_LENGTH = 12  # hex digits of a run id
SHORT_ID = 6  # the shortest prefix of a run id that finds the run
MAX_UNFINISHED_RUNS = 64  # queued, running or paused runs at once; more are refused


def trim_history(run: Run) -> None:
    """An ended run keeps only the epochs it trained: its history buffer was allocated for all
    of them (100,000 epochs are ~3 MB a run, and up to MAX_ENDED_RUNS ended runs are kept)."""
    with run.lock:
        history = run.history
        history.columns = {
            name: column[: history.length].copy() for name, column in history.columns.items()
        }


class TooManyRuns(RuntimeError):
    """`RunManager.create` refused a run: `limit` runs are unfinished already (the API answers
    429 with Retry-After)."""

    def __init__(self, limit: int, mine: bool = False) -> None:
        whose = "of yours " if mine else ""
        most = "the most one owner may have at once" if mine else "the most at once"
        super().__init__(
            f"{limit} runs {whose}are queued, running or paused already ({most}): "
            "stop one or wait for one to end, then try again"
        )
        self.limit = limit


class ShuttingDown(RuntimeError):
    """`RunManager.create` refused a run: the server is shutting down (the API answers 503)."""

    def __init__(self) -> None:
        super().__init__("the server is shutting down: it takes no new runs")


class RunRegistry:
    """The runs one process knows, by id or unique prefix of one (`get`): the unfinished ones
    and the newest ended ones (`kept`); older ended runs are forgotten, and read back on demand
    by `loader(run_id)` (a `Run`, or None) when there is storage (`store`)."""

    def __init__(self, store: Any = None, loader: Any = None, kept: int | None = None,
                 keep_loaded: Any = None) -> None:  # fmt: skip
        self.store = store
        self.loader = loader
        self.kept = kept if kept is not None else (
            MAX_ENDED_RUNS if loader is None else MAX_ENDED_RUNS_STORED)  # fmt: skip
        # whether a run read back is kept in memory (default: once ended)
        self.keep_loaded = keep_loaded or (lambda run: run.status in TERMINAL)
        self.lock = threading.Lock()  # guards the runs and `shut_down`
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self.shut_down = False

    def add(self, run: Run, limit: int | None = None, owner_limit: int | None = None,
            held: int = 0) -> None:  # fmt: skip
        """Register a new run; raises `TooManyRuns` when `limit` runs are unfinished already
        (or `owner_limit` of its creator's, who `held` as many other things: its running
        sweeps), `ShuttingDown` once shut down."""
        with self.lock:
            if self.shut_down:
                raise ShuttingDown()
            # a sweep's runs count toward neither limit (app/sweeps)
            unfinished = [
                known for known in self._runs.values()
                if not (known.control.ended or getattr(known, "sweep", None))
            ]  # fmt: skip
            if limit is not None and len(unfinished) >= limit:
                raise TooManyRuns(limit)
            mine = held + sum(run.creator is not None and known.creator == run.creator
                              for known in unfinished)  # fmt: skip
            if owner_limit is not None and mine >= owner_limit:
                raise TooManyRuns(owner_limit, mine=True)
            self._runs[run.id] = run
            self._forget_old()

    def unfinished_of(self, creator: str) -> int:
        """`creator`'s unfinished runs (a sweep's runs not counted)."""
        with self.lock:
            return sum(
                known.creator == creator
                and not (known.control.ended or getattr(known, "sweep", None))
                for known in self._runs.values()
            )

    def get(self, run_id: Any) -> Run | None:
        """The run with this id (or this unique prefix of an id, see `full_id`), or None.
        Raises `StorageUnavailable` when it is not in memory and storage is out of reach."""
        if not isinstance(run_id, str):
            return None
        run_id = self.full_id(run_id)
        with self.lock:
            run = self._runs.get(run_id)
        if run is None and self.loader is not None:
            run = self._load(run_id)
        return run

    def known(self, run_id: Any) -> Run | None:
        """The run with this exact id if it is in memory (never read from storage)."""
        with self.lock:
            return self._runs.get(run_id) if isinstance(run_id, str) else None

    def _load(self, run_id: str) -> Run | None:
        """The run read back by `loader`; raises `StorageUnavailable` when storage is out of
        reach (an outage is not an unknown run: the API answers 503, not 404)."""
        try:
            run = self.loader(run_id)
        except Exception as error:
            if is_outage(error):
                raise unavailable_for_reading(error) from error
            log.exception("run %s could not be read from storage", run_id)
            return None
        if run is not None and self.keep_loaded(run):
            with self.lock:
                run = self._runs.setdefault(run_id, run)
                self._forget_old()
        return run

    @staticmethod
    def unknown(run_id: str) -> str:
        """The message for a run id that finds no run."""
        if len(run_id) < SHORT_ID:
            return f"unknown run {run_id!r} (a short id needs at least {SHORT_ID} characters)"
        return f"unknown run {run_id!r}"

    def full_id(self, run_id: str) -> str:
        """The id of the one run whose id starts with `run_id` (at least `SHORT_ID` characters:
        the runs page shows the first 8), else `run_id` as given."""
        if not SHORT_ID <= len(run_id) < RUN_ID_LENGTH:
            return run_id
        with self.lock:
            ids = {known for known in self._runs if known.startswith(run_id)}
        if self.store is not None:
            try:
                ids.update(self.store.ids_starting(run_id, limit=2))
            except Exception as error:
                raise (unavailable_for_reading(error) if is_outage(error) else error) from error
        return ids.pop() if len(ids) == 1 else run_id

    def runs(self) -> list[Run]:
        """All runs in memory, oldest first."""
        with self.lock:
            return list(self._runs.values())

    def remove(self, run_id: str) -> None:
        """Forget a run (deleted)."""
        with self.lock:
            self._runs.pop(run_id, None)

    def ended(self, _run: Run) -> None:
        """A run's end hook: forget old ended runs."""
        with self.lock:
            self._forget_old()

    def _forget_old(self) -> None:
        """Forget the oldest ended runs beyond `kept` (only runs whose end hooks ran: a run
        whose final state is being stored, or could not be (`Run.unstored`), stays until it is,
        so a reload never reads less)."""
        ended = [run for run in self._runs.values()
                 if run.status in TERMINAL and run.closed and not run.unstored]  # fmt: skip
        for run in ended[: max(0, len(ended) - self.kept)]:
            del self._runs[run.id]


class RunManager:
    """Creates runs, gives them compute slots (at most `max_active_runs` compute at once) and
    starts their training threads; `broadcaster` streams them."""

    def __init__(
        self,
        socketio: Any,
        max_active_runs: int = 4,
        frame_interval: float = 0.05,
        ack_timeout: float = 2.0,
        max_unfinished_runs: int = MAX_UNFINISHED_RUNS,
        inside_interval: float | None = 0.1,
        train: Callable[..., None] = execute,
        recorder: Any = None,
        loader: Any = None,
        unwatched_pause: float | None = UNWATCHED_PAUSE,
    ) -> None:
        self.socketio = socketio
        self.unwatched_pause = unwatched_pause  # a paused run nobody watches this long stops
        self.frame_interval = frame_interval
        self.inside_interval = inside_interval or None  # a look inside at most this often
        # the run's thread: `execute` (trains on it) or a transport's (app/transports/pipe.py:
        # trains in a child process)
        self.train = train
        self.slots = ComputeSlots(max_active_runs)
        self.broadcaster = Broadcaster(socketio, frame_interval, ack_timeout)
        self.max_unfinished_runs = max_unfinished_runs
        self.max_runs_per_owner: int | None = None  # set by app/web/owners.py with a token
        # what else an owner holds toward that limit (its running sweeps; app/web/owners.py)
        self.also_owned: Callable[[str], int] = lambda _creator: 0
        self.changing = threading.Lock()  # one live change at a time, stored with what it sets
        # Storage (app/storage/recorder.py, app/storage/stored_runs.py): `recorder.track(run)`
        # stores a new run
        # and records it; `loader(run_id)` rebuilds an ended run of an earlier process.
        self.recorder = recorder
        self.store = None if recorder is None else recorder.store  # the run store, if any
        self.registry = RunRegistry(self.store, loader)
        self.get, self.full_id, self.runs = (
            self.registry.get, self.registry.full_id, self.registry.runs)  # fmt: skip

    def owned(self, creator: str) -> int:
        """What counts toward `creator`'s `max_runs_per_owner`: its unfinished runs and its
        running sweeps (`also_owned`)."""
        return self.registry.unfinished_of(creator) + self.also_owned(creator)

    def create(
        self,
        spec: RunSpec,
        initial_state: dict[str, Any] | None = None,
        continued_from: str | None = None,
        creator: str | None = None,
        sweep: str | None = None,
        hooks: tuple = (),
    ) -> Run:
        """Register a run of `spec` (`validation.run_spec`); it starts when it gets a compute
        slot. Raises `TooManyRuns` when `max_unfinished_runs` runs are unfinished,
        `StorageUnavailable` when its row cannot be stored (then it is not created).
        `initial_state` (weights) and `continued_from` (a run id) continue an earlier run;
        `creator` owns it (at most `max_runs_per_owner` unfinished runs each). A run of `sweep`
        (an id) counts toward neither limit; `hooks` join its `on_end`.
        """
        run = Run(uuid.uuid4().hex[:RUN_ID_LENGTH], spec.task, spec.config_copy(), spec.data)
        run.slots = self.slots
        run.on_end.append(trim_history)
        run.initial_state, run.creator, run.sweep = initial_state, creator, sweep
        if sweep:
            self.registry.add(run)
        else:
            held = self.also_owned(creator) if creator and self.max_runs_per_owner else 0
            self.registry.add(run, self.max_unfinished_runs, self.max_runs_per_owner, held)
        if self.recorder is not None:
            try:
                self.recorder.track(run, continued_from)
            except Exception:  # StorageUnavailable: nothing trains that cannot be stored
                self.registry.remove(run.id)
                raise
        run.on_end.append(self.registry.ended)  # after the recorder's hook: it is stored
        run.on_end.extend(hooks)
        self.slots.request(run.id, lambda: self._start(run))
        return run

    def _start(self, run: Run) -> None:
        """The run got its first slot: start its training thread (or end it, if it cannot)."""
        if run.control.stop_requested:
            self.slots.release()
            run.control.set_status("stopped", "stopped while queued")
            run.ended()
            return
        try:
            run.thread = self.socketio.start_background_task(
                self.train, run, self.slots, self.frame_interval, self.inside_interval,
                unwatched_pause=self.unwatched_pause,
            )
        except Exception as error:  # e.g. no thread can be started: never leave it queued
            log.exception("run %s could not start", run.id)
            self.slots.release()
            run.control.set_status("failed", f"could not start training: {error}")
            run.ended()

    unknown = staticmethod(RunRegistry.unknown)

    def delete(self, run: Run) -> None:
        """Remove the run's stored data, stop the run if it has not ended and forget it.
        Raises `StorageUnavailable` when its stored data cannot be removed: then nothing
        happened (it trains on, it is still listed)."""
        if self.store is not None:
            with store_writes():
                self.store.delete_run(run.id)  # first: an error here changes nothing
        if run.status not in TERMINAL:
            self.stop(run)
        self.registry.remove(run.id)
        if self.recorder is not None:
            self.recorder.forget(run.id)
            remove_leftovers(self.store, run.id)

    def pause(self, run: Run) -> str:
        """Pause within one slice of training; answers once paused (or after CONTROL_WAIT)."""
        return run.control.request_pause(CONTROL_WAIT)

    def resume(self, run: Run) -> str:
        """Let a paused run go on (it may wait for a compute slot as ``queued``)."""
        return run.control.request_resume(CONTROL_WAIT)

    def step(self, run: Run, unit: str, count: int) -> str:
        """Train a paused run `count` epochs or mini-batches; it stays paused."""
        return run.control.request_step(unit, count, CONTROL_WAIT)

    def change(self, run: Run, body: Any) -> dict[str, Any]:
        """Live changes of a run's steerable fields (`validation.validate_changes`): the config
        shows them at once, training uses them from the next mini-batch. Raises `ConfigError`
        for bad fields, `ControlError` once the run has ended, `StorageUnavailable` when the
        change cannot be stored. All or nothing: every field is checked before any applies,
        and the changed config is stored before the run sees it (an error: nothing changed)."""
        changes = self.accept_changes(run, body)
        with self.changing:
            before = run.config
            if self.store is not None:  # what is in force is what a restart or a continue reads
                with store_writes():
                    self.store.update_run(run.id, config={**before, **changes})
            try:
                run.control.post_changes(changes)
            except ControlError:  # it ended meanwhile: its stored config is what it trained with
                if self.store is not None:
                    self.store.update_run(run.id, config=before)
                raise
            return run.config

    @staticmethod
    def accept_changes(run: Run, body: Any) -> dict[str, Any]:
        """The live changes `body` asks of `run`, validated (for its control's settings).
        Raises `ConfigError` for bad fields, `ControlError` once the run has ended."""
        changes = validate_changes(body, run.config)
        if message := slice_error(changes.get("slice_features"), run.task):
            raise ConfigError({"slice_features": message})
        if run.control.ended:
            raise ControlError(f"run already {run.control.status}")
        return changes

    def stop(self, run: Run, interrupt: bool = False) -> str:
        """End the run as ``stopped`` (``interrupted`` with `interrupt`) within one slice; a
        queued run ends at once."""
        status = run.control.request_stop(0.0, interrupt)
        if status not in TERMINAL and run.thread is None and self.slots.cancel(run.id):
            ended = run.control.stop_status  # never started
            run.control.set_status(ended, f"{ended} while queued")
            run.ended()
        return run.control.request_stop(CONTROL_WAIT, interrupt)

    def shutdown(self, timeout: float = 10.0, interrupt: bool = False) -> None:
        """Refuse new runs, stop every run and wait for their threads to end (used by tests and
        at exit); with `interrupt` (the server shuts down) they end as ``interrupted``, their
        history and weights written."""
        with self.registry.lock:
            self.registry.shut_down = True
        runs = self.registry.runs()
        for run in runs:
            run.control.request_stop(0.0, interrupt)
        for run in runs:
            self.stop(run, interrupt)
        deadline = time.monotonic() + timeout
        for run in runs:
            if run.thread is not None:
                run.thread.join(max(0.0, deadline - time.monotonic()))
        if self.recorder is not None:
            self.recorder.close()
