"""The sweep scheduler: it starts a sweep's waiting runs as the run manager frees compute (at
most `parallel` runs of one sweep unfinished at once), ends, stops and deletes sweeps, and
applies successive halving.

Fairness: a sweep never queues more than `parallel` runs with the manager; a run it starts
waits in the manager's line (`ComputeSlots`, first come first served) like any other, so a single
run created meanwhile gets one of the next free slots rather than waiting for the whole sweep.
The scheduler's own thread does every start (woken by a run's end, else every `TICK` s), so
nothing re-enters the manager from its hooks; it ends with the manager (`shutdown`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from app.runs.control import TERMINAL
from app.runs.manager import TooManyRuns
from app.runs.validation import ConfigError, run_spec
from app.sweeps import halving
from app.sweeps.spec import Planned, plan
from app.sweeps.store import STALE_SECONDS, Sweep, SweepStore

log = logging.getLogger(__name__)

TICK = 0.05  # seconds between two looks at the sweeps when no run ended meanwhile
CLAIM_SECONDS = 2.0  # seconds between two heartbeats (and claims of sweeps nobody starts)
SWEEP_ID_LENGTH = 12


class SweepScheduler:
    """Sweeps of one app over its run `manager` (embedded or scaled), kept in `store`."""

    def __init__(self, manager: Any, store: SweepStore, datasets: Any = None,
                 work_budget: float | None = None,
                 parallel: int | None = None) -> None:  # fmt: skip
        self.manager = manager
        self.store = store
        self.datasets = datasets
        self.work_budget = work_budget
        slots = getattr(manager, "slots", None)
        self.parallel = int(parallel or (slots.capacity if slots is not None else 4))
        self.lock = threading.RLock()  # one change of the sweeps at a time
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="sweeps", daemon=True)
        self.thread.start()

    # ------------------------------------------------------------------ requests

    def create(self, body: Any, creator: str | None = None) -> Sweep:
        """A new sweep of `body` (`spec.plan`) owned by `creator`; raises `ConfigError`,
        `StorageUnavailable`, `TooManyRuns` when `creator` holds its most unfinished runs
        already (a running sweep counts as one, `app.runs.manager.RunManager.owned`)."""
        planned = plan(body, self.datasets, self.work_budget)
        most = getattr(self.manager, "max_runs_per_owner", None)
        if creator and most is not None and self.manager.owned(creator) >= most:
            raise TooManyRuns(most, mine=True)
        sweep = Sweep(uuid.uuid4().hex[:SWEEP_ID_LENGTH], planned.config, planned.runs,
                      creator=creator)  # fmt: skip
        self.store.add(sweep)
        self.wake.set()
        return sweep

    def stop(self, sweep: Sweep) -> None:
        """End the sweep as ``stopped``: its waiting runs never start, its unfinished runs stop."""
        with self.lock:
            if sweep.status == "running":
                sweep.status, sweep.ended = "stopped", time.time()
                self.store.save_status(sweep)
            for planned in sweep.runs:
                if planned.state == "waiting":
                    planned.state = "cancelled"
                    self.store.save_run(sweep, planned)
            runs = [self.run_of(planned) for planned in sweep.runs if planned.run_id]
        for run in runs:
            if run is not None and run.status not in TERMINAL:
                self.manager.stop(run)

    def delete(self, sweep: Sweep) -> None:
        """Stop the sweep, delete its runs and forget it."""
        self.stop(sweep)
        for planned in sweep.runs:
            run = self.run_of(planned)
            if run is not None:
                self.manager.delete(run)
        self.store.remove(sweep.id)

    def run_of(self, planned: Planned) -> Any:
        """The `Run` of a started planned run (from storage if need be), or None."""
        return None if planned.run_id is None else self.manager.get(planned.run_id)

    def live_run(self, planned: Planned) -> Any:
        """The run of `planned` if this process holds it in memory (never read from storage)."""
        if planned.run_id is None:
            return None
        return self.manager.registry.known(planned.run_id)

    # ------------------------------------------------------------------ the thread

    def _loop(self) -> None:
        run_store = self.store.run_store
        # SQLite: nobody else starts our file's sweeps, so take every running one at once and
        # never look again; a shared database: heartbeats and claims every CLAIM_SECONDS
        shared = run_store is not None and not run_store.sqlite
        claimed = None
        while not self.manager.registry.shut_down:
            try:
                if claimed is None:
                    self.store.claim(STALE_SECONDS if shared else 0.0)
                    claimed = time.monotonic()
                elif shared and time.monotonic() - claimed >= CLAIM_SECONDS:
                    claimed = time.monotonic()
                    self._heartbeat()
                busy = False
                for sweep in self.store.mine():
                    if sweep.status == "running":
                        busy = True
                        with self.lock:
                            self._tick(sweep)
            except Exception:  # a storage outage must not end the scheduler
                log.exception("sweeps: a tick failed")
                busy = True
            self.wake.wait(TICK if busy else CLAIM_SECONDS)
            self.wake.clear()
        self.store.release()

    def _heartbeat(self) -> None:
        """Claim the sweeps nobody starts; follow what other processes did to this one's (a
        stop or a delete through another web process)."""
        self.store.claim()
        for sweep in self.store.mine():
            if sweep.status != "running":
                continue
            stored = self.store.stored_status(sweep)
            if stored is None:
                self.delete(sweep)
            elif stored != "running":
                self.stop(sweep)

    def _tick(self, sweep: Sweep) -> None:
        """Note ended runs, apply halving, start waiting runs up to `parallel`, end the sweep
        when every run has ended."""
        unfinished = 0
        for planned in sweep.runs:
            if planned.state != "started" or planned.run_id is None:
                continue
            run = self.live_run(planned)
            if run is None or run.status in TERMINAL:
                continue  # ended (or of a process that is gone)
            unfinished += 1
            if sweep.config.get("early_stop") == "halving":
                self._halve(sweep, run)
        for planned in sweep.waiting():
            if unfinished >= self.parallel or self.manager.registry.shut_down:
                break
            unfinished += self._start(sweep, planned)
        if unfinished == 0 and not sweep.waiting() and not self._left_unfinished(sweep):
            sweep.status, sweep.ended = "finished", time.time()
            self.store.save_status(sweep)

    def _left_unfinished(self, sweep: Sweep) -> bool:
        """Whether a started run this process does not hold still reads unfinished in storage:
        one a process that died left ``running`` (it reads ``interrupted`` once its heartbeat
        lapses, `app.storage.recorder`, asked here to look). The sweep waits for it, so a
        finished sweep never lists a run as running."""
        run_store = self.store.run_store
        if run_store is None:
            return False
        for planned in sweep.runs:
            if (planned.state == "started" and planned.run_id is not None
                    and self.live_run(planned) is None
                    and run_store.ended_as(planned.run_id) is None):  # fmt: skip
                recorder = getattr(self.manager, "recorder", None)
                if recorder is not None:
                    recorder.recover_soon()
                return True
        return False

    def _start(self, sweep: Sweep, planned: Planned) -> int:
        """Start a waiting run (1), or leave it waiting when the manager is shut down (0)."""
        try:
            spec = run_spec(planned.config, self.datasets, self.work_budget)
            run = self.manager.create(spec, sweep=sweep.id, hooks=(self._ended,))
        except ConfigError as error:  # e.g. its uploaded data was deleted meanwhile
            log.warning("sweep %s: run %d cannot start: %s", sweep.id, planned.position, error)
            planned.state = "cancelled"
            self.store.save_run(sweep, planned)
            return 0
        except RuntimeError:  # shut down: a restart starts it
            return 0
        planned.run_id, planned.state = run.id, "started"
        self.store.save_run(sweep, planned)
        return 1

    def _ended(self, _run: Any) -> None:
        self.wake.set()

    def _halve(self, sweep: Sweep, run: Any) -> None:
        """Successive halving: record the run's value at each rung it passed; stop it there if
        it is in the worst half (`halving.worst_half`)."""
        for rung in halving.rungs(run.epochs):
            if run.epoch < rung:
                return
            values = sweep.rungs.setdefault(rung, {})
            if run.id in values:
                continue
            values[run.id] = value = halving.best_until(run, rung)
            if halving.worst_half(value, list(values.values())) and run.epoch < run.epochs:
                run.stopped_early = halving.reason(rung, value, len(values))
                return
