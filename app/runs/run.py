"""A run's record: its config and task, its `RunControl`, the per-epoch history and the latest
view of the model, shared between the run loop (writer), the broadcaster and the REST API
(readers) under the run's lock.

A queued run holds only its config: its data and history are built when it gets its first
compute slot (`start`), so queued runs cost next to nothing; the wire form of its data
(`payloads`) is built then too, or earlier if someone watches it while it waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from app.data.encoding import history_json, round_float
from app.data.features import network_sizes
from app.data.tasks import Task, TaskData, build_data
from app.runs.control import ComputeSlots, RunControl
from app.runs.payloads import EncodedView, RunPayloads
from app.training.diagnosis import Diagnosis, Signals, UnitHealth, sentences
from app.training.inside import Inside
from app.training.session import (
    Checkpoint,
    ClassView,
    TrainingSession,
    View,
    history_columns,
)

log = logging.getLogger(__name__)


class History:
    """Per-epoch numbers of a run in preallocated float32 columns (no per-epoch dicts):
    the losses, the accuracies (classification) and then any `extra` columns (e.g. ``lr``)."""

    def __init__(self, epochs: int, accuracy: bool, extra: list[str] | tuple = ()) -> None:
        self.names = ["train_loss", "test_loss"] + (["train_acc", "test_acc"] if accuracy else [])
        self.names += list(extra)
        self.columns = {name: np.full(epochs, np.nan, dtype=np.float32) for name in self.names}
        self.length = 0

    def append(self, record: dict[str, Any]) -> None:
        """Store one epoch record of ``nn.train`` (missing or None values become NaN -> null)."""
        for name in self.names:
            value = record.get(name)
            self.columns[name][self.length] = np.nan if value is None else value
        self.length += 1

    def reset(self, names: list[str]) -> None:
        """An empty history of these columns (a run followed from elsewhere)."""
        self.names = list(names)
        self.columns = {name: np.zeros(0, np.float32) for name in self.names}
        self.length = 0

    def put(self, start: int, rows: dict[str, np.ndarray], count: int) -> bool:
        """Epochs ``start+1 .. start+count`` (`rows`: a column per name): those beyond the
        history are appended (growing the columns as needed), those it has are skipped; False
        (nothing taken) if they start after its end (a gap)."""
        if start > self.length:
            return False
        skip, length = self.length - start, self.length
        if count <= skip:
            return True
        added = count - skip
        for name in self.names:
            column = self.columns[name]
            if len(column) < length + added:
                room = np.full(max(length + added, 2 * len(column), 64), np.nan, np.float32)
                room[:length] = column[:length]
                self.columns[name] = column = room
            column[length : length + added] = rows[name][skip:count]
        self.length = length + added
        return True

    def last(self, name: str) -> float | None:
        """The latest value of a column (rounded, None when absent)."""
        if self.length == 0 or name not in self.columns:
            return None
        return round_float(self.columns[name][self.length - 1])

    def copy(self, start: int, stop: int, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """Copies of epochs ``start+1 .. stop`` of the columns `names` (default: all; cheap:
        call under the run's lock)."""
        return {name: self.columns[name][start:stop].copy() for name in names or self.names}


class RunData:
    """A run's data in this process and their wire form (`payloads`), built on demand: the
    part of `Run` that builds them (from the run's task, config, sizes and checkpoint)."""

    def __init__(self, data: TaskData | None) -> None:
        self.payloads: RunPayloads | None = None  # see `payloads_now`
        # its data in this process (`data`): drawn once, until its session takes it over
        self._data: TaskData | None = data
        self._build_lock = threading.RLock()
        # A run trained elsewhere (stored, or a scaled worker's): its data and view are rebuilt
        # on demand (`payloads_now`), again once `stale_payloads` (a worker's new slice).
        self.restored = False
        self.stale_payloads = False

    def payloads_now(self) -> RunPayloads | None:
        """The wire form of the run's data, built now if needed (None if it cannot be built).
        A `restored` run's data is rebuilt from its config (it is deterministic) and its view
        drawn from its checkpoint, unless a relayed view is there."""
        if self.restored:
            return self._restored_payloads()
        with self._build_lock:
            if (self.payloads is None or self.stale_payloads) and not self.control.ended:
                try:
                    data = self.data()
                except Exception:  # the run fails when it starts, with the reason
                    return None
                self.payloads, self.stale_payloads = RunPayloads(self.task, data, self.sizes), False
            return self.payloads

    def data(self) -> TaskData:
        """The run's data in this process, drawn once (the spec's, else built now) and shared by
        its session, payloads and checkpoint views; raises what `build_data` raises."""
        with self._build_lock:
            if self._data is None:
                self._data = build_data(self.task, self.config)
            elsewhere = self.restored or self.stale_payloads  # trained elsewhere: a new slice?
            chosen = self.config.get("slice_features") if elsewhere else None
            if chosen is not None and tuple(chosen) != self._data.slice_features:
                self._data.reslice(tuple(chosen))
            return self._data

    def _restored_payloads(self) -> RunPayloads | None:
        with self._build_lock:
            if self.payloads is not None and not self.stale_payloads:
                return self.payloads
            self.stale_payloads = False
            relayed = isinstance(self.view, EncodedView)  # then no view from the checkpoint
            built = data_and_view(self, None if relayed else self.checkpoint)
            if built is None:
                return None
            data, view = built
            self.payloads = RunPayloads(self.task, data, self.sizes)
        if view is not None:
            adopt_view(self, view)
        return self.payloads

    def session(self) -> TrainingSession:
        """The run's training session, on the run's `data` (its own from then on)."""
        return TrainingSession(self.task, self.config, self.data(), self.initial_state)


class RunVerdict:
    """What a run's numbers say: the diagnosis's findings, the best epoch, the latest confusion
    matrix; the part of `Run` that reads its history and view for them (under its lock)."""

    def __init__(self) -> None:
        self.diagnosis = Diagnosis()
        # what the diagnosis found (`app.training.diagnosis.Finding.json` each), replaced
        self.findings: list[dict[str, Any]] = []
        self.stopped_early: str | None = None  # the reason, once early stopping ended training
        # a warning while the run's writes to the database fail (`app.storage.recorder`), else None
        self.unstored: str | None = None

    def diagnose(self, units: list[UnitHealth]) -> None:
        """Refresh `findings` from the history and the hidden units' health
        (`app.training.diagnosis`)."""
        wanted = ("train_loss", "test_loss", "train_acc", "test_acc", "lr", "update_ratio")
        with self.lock:
            names = [name for name in wanted if name in self.history.names]
            columns = self.history.copy(0, self.history.length, names)
        classes = len(self.task.classes) if self.classification else 0
        signals = Signals(columns, self.epochs, classes, units, self.config["loss"],
                          self.config["optimizer"],
                          stopped_early=self.stopped_early is not None)  # fmt: skip
        found = self.diagnosis.update(signals)
        self.findings = [finding.json() for finding in found]

    def verdict(self) -> dict[str, Any]:
        """What the diagnosis says (`app.training.diagnosis`) and the best epoch, as every answer
        about the run carries them: ``{warnings, observations, findings, best_epoch}``; while its
        writes to the database fail, that warning first (`unstored`)."""
        unstored = self.unstored
        return {
            "warnings": ([unstored] if unstored else []) + sentences(self.findings, "warning"),
            "observations": sentences(self.findings, "observation"),
            "findings": self.findings,
            "best_epoch": self.best_epoch(),
        }

    def best_epoch(self) -> int | None:
        """The epoch of the lowest test loss (the first on a tie); None before a finite one."""
        with self.lock:
            column = self.history.columns.get("test_loss")
            losses = column[: self.history.length] if column is not None else None
        if losses is None or not np.isfinite(losses).any():
            return None
        with np.errstate(invalid="ignore"):
            return int(np.nanargmin(losses)) + 1

    def confusion(self) -> list[list[int]] | None:
        """The latest confusion matrix of the test set (rows: true class), or None."""
        view = self.view
        if isinstance(view, EncodedView):  # as relayed
            return view.parts.get("confusion")
        prediction = view.prediction if view is not None else None
        return prediction.confusion.tolist() if isinstance(prediction, ClassView) else None


class Run(RunData, RunVerdict):
    """One training run; see the module docstring. Fields written after `start` are guarded
    by ``control.lock`` (one lock per run). Its data and their wire form are `RunData`'s, what
    its numbers say `RunVerdict`'s."""

    def __init__(
        self, run_id: str, task: Task, config: dict[str, Any], data: TaskData | None = None
    ) -> None:
        RunData.__init__(self, data)
        RunVerdict.__init__(self)
        self.id = run_id
        self.task = task
        self.spec = MappingProxyType(config)  # as created: never written (see `config`)
        self.epochs: int = config["epochs"]
        self.created, self.creator = time.time(), None  # creator: app/web/owners.py
        self.classification = task.kind == "classification"
        self.control = RunControl(settings=config)  # owns the live settings
        self.lock = self.control.lock
        self.history = History(0, self.classification, history_columns(config, self.classification))
        self.epoch = 0  # completed epochs
        # the learning rate from the start and each live change: {epoch (completed when it
        # came), lr}, replaced whole (`note_lr`); the runs list shows it (app/storage)
        self.lr_changes: list[dict[str, Any]] = [{"epoch": 0, "lr": config.get("lr")}]
        self.sizes = network_sizes(task, config)
        self.view: View | None = None  # replaced, never mutated
        self.inside: Inside | None = None  # the latest look inside (views may come without)
        self.inside_version = 0  # bumped with every new look inside
        self.view_version = 0
        self.progress: dict[str, int] | None = None  # the epoch in progress
        self.layout = 0  # bumped when the plotted grid changes: watchers need a new snapshot
        self.thread: Any = None
        self.slots: ComputeSlots | None = None  # set by the manager: for `queue_position`
        self.checkpoint: Checkpoint | None = None  # weights + scalers, every 1-10 s and at the end
        # what handing the last checkpoint on took (s): a training process's pipe pickles it,
        # film and all; the run loop counts it in a checkpoint's cost (`ViewClock`)
        self.checkpoint_carry = 0.0
        self.initial_state: dict[str, np.ndarray] | None = None  # weights to start from
        self.on_end: list[Callable[[Run], None]] = []  # called once the status is terminal
        self.closed = False  # True once the `on_end` hooks ran (e.g. its final state is stored)
        self.news = threading.Event()  # set when the run loop starts, publishes or relayouts
        self.on_view: list[Callable[[], None]] = []  # called after each new view (a watcher's)
        # some client streams it now: the broadcaster's (embedded), or in scaled mode some web
        # process's (`app.transports.relay`); a paused run nobody watches ends (runner.Unwatched)
        self.watched = False
        # the training session (or its process) while the run loop holds it, else None: what
        # `app.backprop` asks for the weights and optimizer state of this moment
        self.live: Any = None
        self.summary: dict[str, Any] | None = None  # its stored row, if read from storage
        # training seconds at the end of each of the first n epochs (None: live, ask the recorder)
        self.timing: Callable[[int], np.ndarray] | None = None
        # 1-based place in line while queued (None: not waiting); the manager's
        self.position_of: Callable[[str], int | None] | None = None

    @property
    def config(self) -> dict[str, Any]:
        """The spec with the live settings in force (``control.settings``): a new dict."""
        return self.control.settings.over(self.spec)

    @property
    def status(self) -> str:
        """The current status (see `app.runs.control`)."""
        return self.control.status

    def restore(self, summary: dict[str, Any], history: Any, checkpoint: Any) -> None:
        """Make this a run read back from storage: its stored `summary` (row), `history`
        (`storage.StoredHistory`) and `checkpoint`."""
        self.restored, self.summary, self.created = True, summary, summary["created"]
        self.creator = summary.get("creator")
        self.control.mirror(summary["status"], summary["reason"], summary["elapsed"] or 0.0,
                            exact=True)  # fmt: skip
        with self.lock:
            self.history.reset(history.names)
            self.history.put(0, history.columns, history.length)
            self.epoch = history.length
        seconds = history.seconds
        self.timing = lambda length: seconds[:length]
        self.checkpoint = checkpoint
        self.findings = summary["findings"]
        self.lr_changes = summary.get("lr_changes") or self.lr_changes
        self.closed = True  # nothing of it is left to store

    def note_lr(self, changes: dict[str, Any], epoch: int) -> None:
        """The run loop took live `changes` after `epoch` completed epochs: note a new lr."""
        if "lr" in changes and changes["lr"] != self.lr_changes[-1]["lr"]:
            self.lr_changes = [*self.lr_changes, {"epoch": epoch, "lr": changes["lr"]}]

    def queue_position(self) -> int | None:
        """1-based place in line (for a compute slot, or a worker) while ``queued``, or None."""
        if self.control.status != "queued":
            return None
        if self.position_of is not None:
            return self.position_of(self.id)
        return None if self.slots is None else self.slots.position(self.id)

    def start(self, session: TrainingSession, inside: bool = False) -> None:
        """The session is built: keep the wire form of its data and the first view."""
        view = session.view(inside)
        with self._build_lock:
            if self.payloads is None:
                self.payloads = RunPayloads(self.task, session.data, self.sizes)
            self._data = None  # the session's from now on (and freed with it)
        with self.lock:
            self.history = History(self.epochs, self.classification, session.history_columns())
            self.view, self.view_version = view, self.view_version + 1
            self.inside, self.inside_version = view.inside, self.inside_version + 1
            self.progress = session.progress()
        self.news.set()
        self.viewed()

    def relayout(self, session: TrainingSession, view: View) -> None:
        """The session's views are drawn on a new grid (a new slice): new payloads and view."""
        payloads = RunPayloads(self.task, session.data, self.sizes)
        with self._build_lock:
            self.payloads = payloads
        self.control.adopt({"domain": [list(pair) for pair in session.data.domain]})
        with self.lock:
            self.view, self.view_version = view, self.view_version + 1
            if view.inside is not None:
                self.inside, self.inside_version = view.inside, self.inside_version + 1
            self.layout += 1
        self.news.set()
        self.viewed()

    def publish(
        self, view: View | None, progress: dict[str, int] | None, records: list[dict] = ()
    ) -> None:
        """A slice's epoch `records` (appended), a fresh view of the model and/or the progress
        of the epoch in progress, all at once (a watcher never sees the epochs without the
        view that came with them)."""
        with self.lock:
            self._append(records)
            if view is not None:
                self.view, self.view_version = view, self.view_version + 1
                if view.inside is not None:
                    self.inside, self.inside_version = view.inside, self.inside_version + 1
            self.progress = progress
        self.news.set()
        if view is not None:
            self.viewed()

    def viewed(self) -> None:
        """Call the `on_view` hooks (outside the lock)."""
        for hook in list(self.on_view):
            hook()

    def _append(self, records: list[dict[str, Any]]) -> None:
        """Append epoch records to the history (the caller holds the lock)."""
        for record in records:
            self.history.append(record)
            self.stopped_early = record.get("early_stop", self.stopped_early)
        self.epoch = self.history.length

    def ended(self) -> None:
        """The run reached its terminal status: call the `on_end` hooks (errors are logged)."""
        for hook in self.on_end:
            try:
                hook(self)
            except Exception:  # a hook (e.g. storage) must not hide the end of a run
                log.exception("an end-of-run hook of run %s failed", self.id)
        self.closed = True

    def add_diverged_epoch(self, record: dict[str, Any] | None) -> None:
        """The epoch that diverged is the run's last: its record (`nn.DivergenceError.record`,
        as the session completed it) joins the history; its non-finite losses go out as null."""
        with self.lock:
            if record is not None and record.get("epoch") == self.history.length + 1:
                self._append([record])

    def last(self, name: str) -> float | None:
        """The latest value of a history column (None when absent)."""
        with self.lock:
            return self.history.last(name)

    def history_json(self, start: int, stop: int) -> dict[str, list]:
        """The history of epochs ``start+1 .. stop`` as sent on the wire."""
        with self.lock:
            columns = self.history.copy(start, stop)
        return history_json(columns, start)


def data_and_view(run: Run, checkpoint: Any) -> tuple[Any, Any] | None:
    """A stored run's data (`Run.data`: rebuilt once, it is deterministic from the config)
    and, with a `checkpoint`, the view of its weights with a look inside (its neuron maps:
    a finished run opened by link draws them), else None; None if the data cannot be built
    (e.g. an uploaded dataset that is gone)."""
    try:
        data = run.data()
        if checkpoint is None:
            return data, None
        session = TrainingSession(run.task, run.config, data, checkpoint.state)
        return session.data, session.view(inside=True)
    except Exception:
        return None


def adopt_view(run: Run, view: Any) -> None:
    """A stored run's view drawn from its checkpoint becomes the run's (with its look inside),
    unless a relayed view (scaled mode) is there."""
    with run.lock:
        if isinstance(run.view, EncodedView):
            return
        run.view, run.view_version = view, run.view_version + 1
        if view.inside is not None:
            run.inside, run.inside_version = view.inside, run.inside_version + 1
