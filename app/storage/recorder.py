"""The recorder: ONE writer thread per process that keeps the database up to date with the runs
this process trains.

`track(run)` inserts the run's row (config, ``queued``) and hooks its end. About once a second
(`interval`) the writer thread copies, for every tracked run, the epochs of its history not yet
written (``run.history.copy(written, run.epoch)`` under the run's lock: a few microseconds,
never in the training loop) and, when the run loop took a new checkpoint (every 1 to 10 s:
`app.runs.runner.ViewClock.checkpoint_due`), its weights; it writes them with the run's status,
latest numbers and a heartbeat in one transaction. The end hook writes the rest synchronously,
from whatever thread ended the run, so nothing of a finished run is lost. If a write fails
(database locked beyond its busy timeout, read-only, away) nothing is marked written: the next
tick tries again, and meanwhile every run concerned carries a warning (`Run.unstored`, shown
with its verdict) until a write succeeds; an ended run stays tracked (and in memory) until its
final state is written. A new run whose row cannot be stored is refused (`track` raises
`StorageUnavailable`): nothing trains unstored.

A run whose process died stays ``running`` in its row with an old heartbeat: `recover` (at start
and every few seconds) turns runs of other processes with no heartbeat for `stale_after`
seconds into ``interrupted``. A recorder that is its store's sole owner (an SQLite file) marks
every unfinished run it finds at start ``interrupted`` at once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from app.data.encoding import pack_history
from app.outages import StorageUnavailable
from app.storage.film import new_frames
from app.storage.store import RunStore, encode_checkpoint, interpolate_seconds

log = logging.getLogger(__name__)

WRITE_INTERVAL = 1.0  # seconds between two writes of the writer thread
STALE_AFTER = 3.0  # a run whose heartbeat is this old and whose process is not us is interrupted
RECOVER_EVERY = 5.0  # seconds between two looks for runs of processes that died


class _Tracked:
    """What the recorder has written of one run, and its next write (`collect`)."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.written = 0  # epochs written
        self.marks: list[tuple[int, float]] = []  # (epoch, training seconds) at each write
        self.checkpoint: Any = None  # the last checkpoint object written
        self.filmed: set[int] = set()  # epochs of the film frames written (`app.storage.film`)
        self.best_test_loss = math.inf
        self.best_test_acc = -math.inf
        self.names: list[str] | None = None
        self.findings: list[dict] | None = None
        self.lr_changes: list[dict] | None = None
        self.failing_since: float | None = None  # time of the first failed write in a row

    def collect(self, final: bool) -> tuple[dict[str, Any], Callable[[], None]]:
        """The database write of what is new of the run (its final state with `final`, or once
        it ended), and what to note once that write succeeded."""
        state, run = self, self.run
        final = final or run.control.ended
        with run.lock:
            epoch = min(run.epoch, run.history.length)
            names = list(run.history.names)
            new = run.history.copy(state.written, epoch) if epoch > state.written else None
            checkpoint, findings = run.checkpoint, list(run.findings)
        lr_changes = run.lr_changes  # replaced whole, never changed in place
        control = run.control
        elapsed = control.elapsed()
        fields: dict[str, Any] = {
            "status": control.status,
            "reason": control.reason,
            "updated": time.time(),
            "elapsed": elapsed,
        }
        item: dict[str, Any] = {"id": run.id, "fields": fields}
        if final:
            fields["ended"] = time.time()
        if names != state.names:
            fields["columns"] = names
        if findings != state.findings:
            fields["warnings"] = findings  # the column holds every finding (app.training.diagnosis)
        if lr_changes != state.lr_changes:
            fields["lr_changes"] = lr_changes
        best = (state.best_test_loss, state.best_test_acc)
        if new is not None:
            item["chunk"] = {
                "start": state.written,
                "stop": epoch,
                "elapsed": elapsed,
                "data": pack_history(new, names),
            }
            fields["epoch"] = epoch
            best = _numbers(new, fields, best, state.written)
        if checkpoint is not None and (checkpoint is not state.checkpoint or final):
            item["checkpoint"] = {
                "epoch": checkpoint.epoch,
                "final": final,
                "updated": time.time(),
                "data": encode_checkpoint(checkpoint),
            }
            item["film"] = new_frames(checkpoint, state.filmed, final)

        def after() -> None:
            state.failing_since = run.unstored = None
            state.names, state.findings, state.checkpoint = names, findings, checkpoint
            state.lr_changes = lr_changes
            state.best_test_loss, state.best_test_acc = best
            state.filmed.update(frame["epoch"] for frame in item.get("film", ()))
            if new is not None:
                state.written = epoch
                state.marks.append((epoch, elapsed))

        return item, after


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _latest(column: np.ndarray) -> float | None:
    return _finite(column[-1]) if len(column) else None


def _numbers(
    new: dict[str, np.ndarray], fields: dict[str, Any], best: tuple[float, float], start: int
) -> tuple[float, float]:
    """The latest and best losses/accuracies of a run, given its new epochs (epochs
    ``start + 1 ...``); the best test loss's epoch too when it is among them."""
    best_loss, best_acc = best
    for name in ("train_loss", "test_loss", "train_acc", "test_acc"):
        if name in new:
            fields[name] = _latest(new[name])
    with np.errstate(all="ignore"):
        if "test_loss" in new and np.isfinite(new["test_loss"]).any():
            lowest = int(np.nanargmin(new["test_loss"]))
            if float(new["test_loss"][lowest]) < best_loss:
                best_loss = float(new["test_loss"][lowest])
                fields["best_test_loss"] = _finite(best_loss)
                fields["best_epoch"] = start + lowest + 1
        if "test_acc" in new and np.isfinite(new["test_acc"]).any():
            best_acc = max(best_acc, float(np.nanmax(new["test_acc"])))
            fields["best_test_acc"] = _finite(best_acc)
    return best_loss, best_acc


def _warn_unstored(state: _Tracked, reason: str) -> None:
    """Say on the run (`Run.unstored`, a warning of its verdict) that its writes fail."""
    if state.failing_since is None:
        state.failing_since = time.time()
    since = time.strftime("%H:%M:%S UTC", time.gmtime(state.failing_since))
    where = "is kept" if state.run.control.ended else "trains on"
    state.run.unstored = (
        f"this run's history cannot be written to the database since {since} ({reason}): it "
        f"{where} in memory; it will be written once the database can be"
    )


class Recorder:
    """See the module docstring. `close()` flushes and stops the writer thread."""

    def __init__(
        self,
        store: RunStore,
        interval: float = WRITE_INTERVAL,
        stale_after: float = STALE_AFTER,
        unfinished_only: bool = False,
        sole_owner: bool = False,
    ) -> None:
        self.store = store
        self.unfinished_only = unfinished_only  # see `RunStore.write` (a scaled worker's)
        self.interval = interval
        self.stale_after = stale_after
        self.owner = uuid.uuid4().hex
        self._tracked: dict[str, _Tracked] = {}
        self._write_lock = threading.Lock()  # one flush at a time (the thread or an end hook)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._recovered = 0.0
        # the only process on its store (an SQLite file): nothing it finds unfinished at start
        # is trained by anyone, so it is interrupted now, not once its heartbeat is stale
        self.recover(0.0 if sole_owner else None)

    # -------------------------------------------------------------- tracking

    def track(self, run: Any, continued_from: str | None = None, insert: bool = True) -> None:
        """Store a new run's row (unless not to `insert`: a row stored elsewhere, a scaled
        worker's run) and record it from now on (its end is written at once). Raises
        `StorageUnavailable` (nothing stored, nothing tracked) if the row cannot be written."""
        if insert:
            self._insert(run, continued_from)
        with self._write_lock:
            self._tracked[run.id] = _Tracked(run)
        run.on_end.append(self._ended)
        self._ensure_thread()

    def _insert(self, run: Any, continued_from: str | None) -> None:
        """Store the run's row; raises `StorageUnavailable` if it cannot be."""
        now = time.time()
        try:
            self.store.insert_run(
                id=run.id,
                task=run.task.id,
                config=run.config,
                status=run.status,
                created=run.created,
                updated=now,
                owner=self.owner,
                epochs=run.epochs,
                columns=list(run.history.names),
                notes="",
                warnings=[],
                continued_from=continued_from,
                creator=run.creator,
            )
        except StorageUnavailable as error:
            log.warning("run %s refused: %s", run.id, error)
            raise

    def forget(self, run_id: str) -> None:
        """Stop recording a run (it is being deleted)."""
        with self._write_lock:
            self._tracked.pop(run_id, None)

    def stored_epochs(self, run_id: str) -> int | None:
        """Epochs of a run written so far (None once it is no longer tracked: its end was
        written)."""
        state = self._tracked.get(run_id)
        return None if state is None else state.written

    def marks(self, run_id: str) -> list[tuple[int, float]] | None:
        """``(epoch, training seconds)`` at each write of a tracked run (None if untracked)."""
        with self._write_lock:
            state = self._tracked.get(run_id)
            return None if state is None else list(state.marks)

    def seconds(self, run: Any, length: int) -> np.ndarray:
        """Training seconds at the end of each of a live run's first `length` epochs."""
        marks = [mark for mark in self.marks(run.id) or [] if mark[0] <= length]
        marks.append((length, run.control.elapsed()))
        return interpolate_seconds(marks, length)

    def recover_soon(self) -> None:
        """`recover`, at most once a second (the runs list asks on every request)."""
        if time.monotonic() - self._recovered >= 1.0:
            self.recover()

    def recover(self, stale_after: float | None = None) -> int:
        """Mark runs of dead processes ``interrupted`` (see the module docstring): those with
        no heartbeat for `stale_after` s (default the recorder's)."""
        self._recovered = time.monotonic()
        try:
            stale = self.stale_after if stale_after is None else stale_after
            return self.store.recover(self.owner, stale)
        except Exception:
            log.exception("could not look for interrupted runs")
            return 0

    # -------------------------------------------------------------- writing

    def flush(self) -> None:
        """Write what is new of every tracked run now (one transaction)."""
        with self._write_lock:
            states = list(self._tracked.values())
            self._write(states, final=False)

    def _ended(self, run: Any) -> None:
        """The run's end hook: write its final state synchronously (once written, the run is
        no longer tracked; until then the writer thread tries again)."""
        with self._write_lock:
            state = self._tracked.get(run.id)
            if state is not None:
                self._write([state], final=True)

    def _write(self, states: list[_Tracked], final: bool) -> bool:
        """Collect and write; on success mark it written (and forget the runs whose final state
        it wrote), on failure warn on each run. Call under the write lock."""
        if not states:
            return True
        collected = [state.collect(final) for state in states]
        try:
            self.store.write([item for item, _after in collected], self.unfinished_only)
        except Exception as error:
            log.exception("could not write runs to the database (retrying)")
            reason = error.reason if isinstance(error, StorageUnavailable) else str(error)
            for state in states:
                _warn_unstored(state, reason)
            return False
        for item, after in collected:
            after()
            if "ended" in item["fields"]:  # its final state is stored
                self._tracked.pop(item["id"], None)
        return True

    # -------------------------------------------------------------- the writer thread

    def _ensure_thread(self) -> None:
        with self._thread_lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._loop, name="run-recorder", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
                if time.monotonic() - self._recovered >= RECOVER_EVERY:
                    self.recover()
            except Exception:  # the writer must outlive any one bad write
                log.exception("the run recorder failed a tick")

    def close(self) -> None:
        """Write what is left and stop the writer thread."""
        self._stop.set()
        with self._thread_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10)
        self.flush()
