"""The run manager: trains networks in background tasks and streams them to watching clients.

Threads and who touches what:

- one *training* task per run iterates ``nn.train`` and, between epochs, appends the epoch to the
  run's history (preallocated float32 arrays), and at most every ``frame_interval`` seconds stores
  a fresh prediction on the grid and the shown weights (new arrays, never mutated afterwards).
  Pause waits on an event; stop simply stops asking for epochs. At most ``max_active_runs`` runs
  hold a training slot; the others wait, in order, as ``queued``. A paced run (config
  ``epochs_per_second``) waits between epochs on its `interrupt` event with a timeout, so a pause
  or stop cuts the wait short.
- one *emitter* task per run sends ``frame`` events at most every ``frame_interval`` seconds. Each
  watching client has its own cursor (the last epoch it got) and gets its next frame only after it
  acknowledged the previous one (or after ``ack_timeout``), so a slow client gets a bigger history
  chunk later instead of a growing queue. When the run ends, every client gets a final frame that
  brings it up to the last epoch, then ``done``.
- Socket.IO handlers (`watch`) build a ``snapshot`` from a copy of the state taken under the run's
  lock.

Classification runs train on standardised inputs with integer labels (cross-entropy) or one-hot
targets (MSE) and stream, instead of a surface, the predicted class and its confidence on the grid
plus the number of misclassified test points (see `ClassView`).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import network as nn
from network.datasets import Standardizer

from .encoding import round_array, round_float
from .tasks import DATA_POINTS_SHOWN, TASKS, Task, TaskData, build_data

log = logging.getLogger(__name__)

TERMINAL = frozenset({"finished", "stopped", "diverged", "failed"})
NEURONS_SHOWN = 12  # per layer in the `network` view
MAX_ENDED_RUNS = 200  # ended runs kept for GET/watch; older ones are forgotten
CONTROL_WAIT = 2.0  # seconds pause/stop wait for the training task to act before answering
IDLE_TICK = 0.25  # seconds between emitter passes while a run is queued or paused


class History:
    """Per-epoch numbers of a run in preallocated float32 columns (no per-epoch dicts)."""

    def __init__(self, epochs: int, accuracy: bool) -> None:
        self.names = ["train_loss", "test_loss"] + (["train_acc", "test_acc"] if accuracy else [])
        self.columns = {name: np.full(epochs, np.nan, dtype=np.float32) for name in self.names}
        self.length = 0

    def append(self, record: dict[str, Any]) -> None:
        """Store one epoch record of ``nn.train`` (missing or None values become NaN -> null)."""
        for name in self.names:
            value = record.get(name)
            self.columns[name][self.length] = np.nan if value is None else value
        self.length += 1

    def last(self, name: str) -> float | None:
        """The latest value of a column (rounded, None when absent)."""
        if self.length == 0 or name not in self.columns:
            return None
        return round_float(self.columns[name][self.length - 1])

    def copy(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Copies of epochs ``start+1 .. stop`` (cheap: call under the run's lock)."""
        return {name: self.columns[name][start:stop].copy() for name in self.names}

    @staticmethod
    def to_json(start: int, columns: dict[str, np.ndarray]) -> dict[str, list]:
        """A copied chunk as ``{epoch: [...], train_loss: [...], ...}`` (epochs are 1-based)."""
        length = len(next(iter(columns.values()))) if columns else 0
        chunk: dict[str, list] = {"epoch": list(range(start + 1, start + length + 1))}
        chunk.update({name: round_array(values) for name, values in columns.items()})
        return chunk


CONFIDENCE_DIGITS = 4  # significant digits of the confidence grid (colour intensity only)


def class_probabilities(outputs: np.ndarray, loss: str) -> np.ndarray:
    """Per-class probabilities from the network's outputs (rows sum to 1).

    Cross-entropy nets output logits: softmax. MSE nets are trained towards one-hot targets, so
    their outputs already estimate the class indicators: clipped to [0, 1] and normalised to sum
    1 (uniform where every output is ≤ 0). Softmax of such outputs would squash a confident
    [1, 0] to 0.73, so the heatmap would never show a sure region.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if loss == "cross_entropy":
        shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    clipped = np.clip(outputs, 0.0, 1.0)
    total = clipped.sum(axis=1, keepdims=True)
    uniform = np.full_like(clipped, 1.0 / outputs.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, clipped / np.where(total > 0, total, 1.0), uniform)


@dataclass(frozen=True)
class ClassView:
    """A classification run's latest prediction (built whole, never mutated afterwards).

    `classes` / `confidence` are on the grid (flat, grid order): the argmax class (the class the
    net predicts, as in its accuracy) and that class's probability per `class_probabilities`.
    `test_predicted` holds the predicted labels of the shown test points (``shown_rows["test"]``);
    `misclassified` counts the wrong predictions over the whole test set.
    """

    classes: np.ndarray
    confidence: np.ndarray
    test_predicted: np.ndarray
    misclassified: int


@dataclass(eq=False)
class Client:
    """One watching Socket.IO client of one run: its cursor and flow-control state."""

    sid: str
    sent_epoch: int = 0
    sent_status: str = ""
    sent_view: int = -1  # version of the prediction it last got
    awaiting_since: float | None = None  # monotonic time of the unacknowledged frame
    frame_token: int = 0
    gone: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class Run:
    """One training run: config, data, status, history and the latest view of the model."""

    def __init__(self, run_id: str, task: Task, config: dict[str, Any]) -> None:
        self.id = run_id
        self.task = task
        self.config = config
        self.epochs: int = config["epochs"]
        self.created = time.time()
        self.classification = task.kind == "classification"
        self.data: TaskData = build_data(task, config)
        if self.classification:
            config["domain"] = self.data.domain  # widened to hold every point, if needed
        self.shown_rows = {
            "train": self._shown_rows(len(self.data.x_train)),
            "test": self._shown_rows(len(self.data.x_test)),
        }
        self.shown_data = self._shown_data()
        self.axes_json = [round_array(axis) for axis in self.data.grid_axes]  # sent every frame

        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)  # notified on status changes
        self.status = "queued"
        self.reason: str | None = None
        self.epoch = 0
        self.history = History(self.epochs, accuracy=self.classification)
        # on the grid, task units (regression) or a ClassView; replaced, never mutated
        self.prediction: np.ndarray | ClassView | None = None
        self.weights: list[np.ndarray] | None = None  # shown corner of each weight matrix
        self.view_version = 0
        self.sizes = [task.inputs, *config["hidden"], task.outputs]
        self._elapsed_before = 0.0
        self._running_since: float | None = None

        self.resume_event = threading.Event()  # cleared while a pause is requested
        self.resume_event.set()
        self.interrupt = threading.Event()  # set by pause/stop: cuts a pacing wait short
        self.active = threading.Event()  # set while running or ended: the emitter has work
        self.stop_requested = False
        self.clients: dict[str, Client] = {}
        self.closed = False  # final frames sent; later watchers get snapshot + done directly
        self.threads: list[threading.Thread] = []

    # ----------------------------------------------------------------- state (call under lock)

    def elapsed(self) -> float:
        """Seconds spent training so far (not counting time queued or paused)."""
        running = time.perf_counter() - self._running_since if self._running_since else 0.0
        return self._elapsed_before + running

    def set_status(self, status: str, reason: str | None = None) -> None:
        """Move to `status` (caller holds the lock); keeps `elapsed` and the events consistent."""
        now = time.perf_counter()
        if self._running_since is not None:
            self._elapsed_before += now - self._running_since
            self._running_since = None
        if status == "running":
            self._running_since = now
        self.status = status
        if reason is not None:
            self.reason = reason
        if status == "running" or status in TERMINAL:
            self.active.set()
        else:
            self.active.clear()
        self.changed.notify_all()

    def status_json(self) -> dict[str, Any]:
        """The REST status (``GET /api/runs/<id>``)."""
        with self.lock:
            answer = {
                "id": self.id,
                "task": self.task.id,
                "status": self.status,
                "epoch": self.epoch,
                "epochs": self.epochs,
                "train_loss": self.history.last("train_loss"),
                "test_loss": self.history.last("test_loss"),
                "elapsed": round_float(self.elapsed()),
                "reason": self.reason,
                "config": self.config,
                "task_info": self.task.to_json(),
            }
            if "train_acc" in self.history.names:
                answer["train_acc"] = self.history.last("train_acc")
                answer["test_acc"] = self.history.last("test_acc")
        return answer

    # ----------------------------------------------------------------- views for the wire

    @staticmethod
    def _shown_rows(count: int) -> np.ndarray:
        """Rows of a data part shown in the plots: at most DATA_POINTS_SHOWN, evenly picked."""
        return np.unique(np.linspace(0, count - 1, min(count, DATA_POINTS_SHOWN)).astype(int))

    def _shown_data(self) -> dict[str, np.ndarray]:
        """Train and test points for the plots (rows of `shown_rows`).

        Kept as small float32 arrays (inputs and target, or label, side by side); lists are built
        per snapshot, so an ended run costs little memory.
        """
        shown = {}
        for part, X, Y in (
            ("train", self.data.x_train, self.data.y_train),
            ("test", self.data.x_test, self.data.y_test),
        ):
            rows = self.shown_rows[part]
            shown[part] = np.column_stack([X[rows], Y[rows]]).astype(np.float32)
        return shown

    def data_json(self) -> dict[str, dict[str, list]]:
        """The shown points as ``{train: {x, y}, test: {x, y}}`` (1-D), ``{x, y, z}`` (2-D) or
        ``{x, y, label}`` (classification, labels as ints)."""
        if self.classification:
            return {
                part: {
                    "x": round_array(points[:, 0]),
                    "y": round_array(points[:, 1]),
                    "label": points[:, 2].astype(np.int64).tolist(),
                }
                for part, points in self.shown_data.items()
            }
        names = ("x", "y") if self.task.inputs == 1 else ("x", "y", "z")
        return {
            part: {name: round_array(points[:, column]) for column, name in enumerate(names)}
            for part, points in self.shown_data.items()
        }

    def target_json(self) -> dict[str, Any]:
        """The grid with the target: ``{x, y}`` (1-D), ``{x, y, z}`` (2-D), or only the grid axes
        where there is no target function: ``{x, y}`` for classification and 2-D uploaded data,
        ``{x}`` for 1-D uploaded data."""
        if self.classification or self.data.grid_target is None:
            return dict(zip(("x", "y"), self.axes_json, strict=False))
        return self.grid_json(self.data.grid_target)

    def grid_json(self, values: np.ndarray | ClassView | None) -> dict[str, Any] | None:
        """Values on the grid as ``{x, y}`` (1-D) or ``{x, y, z}`` (2-D), or None.

        A `ClassView` becomes ``{x, y, z: [[class index]], confidence: [[0..1]]}``.
        """
        if values is None:
            return None
        axes = self.axes_json
        shape = self.data.grid_shape()
        if isinstance(values, ClassView):
            return {
                "x": axes[0],
                "y": axes[1],
                "z": values.classes.reshape(shape).tolist(),
                "confidence": round_array(values.confidence.reshape(shape), CONFIDENCE_DIGITS),
            }
        values = np.asarray(values).reshape(shape)
        if len(axes) == 1:
            return {"x": axes[0], "y": round_array(values)}
        return {"x": axes[0], "y": axes[1], "z": round_array(values)}

    def test_points_json(self, view: np.ndarray | ClassView | None) -> dict[str, Any]:
        """Classification only: ``{misclassified, test_predicted}`` of a view (None before one)."""
        if not isinstance(view, ClassView):
            return {"misclassified": None, "test_predicted": None}
        return {
            "misclassified": view.misclassified,
            "test_predicted": view.test_predicted.tolist(),
        }

    def network_json(self, weights: list[np.ndarray] | None) -> dict[str, Any]:
        """``{sizes, shown, weights}``: the first neurons of each layer and their weights."""
        shown = [min(size, NEURONS_SHOWN) for size in self.sizes]
        return {
            "sizes": self.sizes,
            "shown": shown,
            "weights": [round_array(w) for w in weights] if weights is not None else None,
        }

    def release_training_data(self) -> None:
        """After the end keep only what snapshots need (the grid, its target, shown points).

        A dataset task lets go of the uploaded rows too (the store may still hold them).
        """
        self.data = self.data.without_training_data()
        if self.task.dataset is not None:
            self.task = dataclasses.replace(self.task, dataset=None)


class RunManager:
    """Creates runs, schedules them onto at most `max_active_runs` slots and streams them."""

    def __init__(
        self,
        socketio: Any,
        max_active_runs: int = 4,
        frame_interval: float = 0.05,
        ack_timeout: float = 2.0,
    ) -> None:
        self.socketio = socketio
        self.max_active_runs = max(1, max_active_runs)
        self.frame_interval = frame_interval
        self.ack_timeout = ack_timeout
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()  # guards _runs and _watching
        self._watching: dict[str, set[str]] = {}  # sid -> run ids it watches
        self._slots = threading.Condition()  # guards _active_count and _queue
        self._active_count = 0
        self._queue: deque[Run] = deque()
        self._shut_down = False

    # ----------------------------------------------------------------- REST-facing API

    def create(self, config: dict[str, Any], task: Task | None = None) -> Run:
        """Start a run of a validated config (see `validation.validate_run`).

        `task` is the task `validate_run` resolved (needed for ``custom`` and ``dataset:<id>``);
        by default the registry's task of ``config["task"]``. Building the run's data may raise
        `ExpressionError` (a custom target not finite somewhere); then no run is created.
        """
        run = Run(uuid.uuid4().hex[:12], task or TASKS[config["task"]], config)
        with self._lock:
            if self._shut_down:
                raise RuntimeError("the run manager is shut down")
            self._runs[run.id] = run
            self._forget_old_runs()
        run.threads.append(self.socketio.start_background_task(self._execute, run))
        run.threads.append(self.socketio.start_background_task(self._stream, run))
        return run

    def get(self, run_id: Any) -> Run | None:
        """The run with this id, or None."""
        if not isinstance(run_id, str):
            return None
        with self._lock:
            return self._runs.get(run_id)

    def runs(self) -> list[Run]:
        """All known runs, oldest first."""
        with self._lock:
            return list(self._runs.values())

    def pause(self, run: Run) -> str:
        """Ask the run to pause after its current epoch; wait (briefly) until it has."""
        with run.lock:
            if run.status in TERMINAL:
                return run.status
            run.resume_event.clear()
            run.interrupt.set()
            run.changed.wait_for(lambda: run.status != "running", timeout=CONTROL_WAIT)
            return run.status

    def resume(self, run: Run) -> str:
        """Let a paused run go on (a queued run then starts training when it gets a slot)."""
        with run.lock:
            if run.status in TERMINAL:
                return run.status
            run.resume_event.set()
            run.changed.wait_for(lambda: run.status != "paused", timeout=CONTROL_WAIT)
            return run.status

    def stop(self, run: Run) -> str:
        """End the run as `stopped` within one epoch; wait (briefly) until it has ended."""
        with run.lock:
            if run.status in TERMINAL:
                return run.status
            run.stop_requested = True
            run.resume_event.set()
            run.interrupt.set()
        with self._slots:
            self._slots.notify_all()  # wakes it if it is queued
        with run.lock:
            run.changed.wait_for(lambda: run.status in TERMINAL, timeout=CONTROL_WAIT)
            return run.status

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every run and wait for all their tasks to end (used by tests and at exit)."""
        with self._lock:
            self._shut_down = True
            runs = list(self._runs.values())
        for run in runs:
            self.stop(run)
        deadline = time.monotonic() + timeout
        for run in runs:
            for thread in run.threads:
                thread.join(max(0.0, deadline - time.monotonic()))

    def _forget_old_runs(self) -> None:
        ended = [run for run in self._runs.values() if run.status in TERMINAL and run.closed]
        for run in ended[: max(0, len(ended) - MAX_ENDED_RUNS)]:
            del self._runs[run.id]

    # ----------------------------------------------------------------- training task

    def _acquire_slot(self, run: Run) -> bool:
        """Wait, in order, for a training slot; False if the run was stopped while queued."""
        with self._slots:
            self._queue.append(run)
            while True:
                if run.stop_requested:
                    self._queue.remove(run)
                    self._slots.notify_all()
                    return False
                if self._active_count < self.max_active_runs and self._queue[0] is run:
                    self._queue.popleft()
                    self._active_count += 1
                    self._slots.notify_all()
                    return True
                self._slots.wait()

    def _release_slot(self) -> None:
        with self._slots:
            self._active_count -= 1
            self._slots.notify_all()

    def _execute(self, run: Run) -> None:
        """The training task of a run: queue, train, and always end in a terminal status."""
        try:
            if not self._acquire_slot(run):
                with run.lock:
                    run.set_status("stopped", "stopped while queued")
                return
            try:
                self._train(run)
            finally:
                self._release_slot()
        except nn.DivergenceError as error:
            epoch = getattr(error, "epoch", None)
            loss = getattr(error, "loss", None)
            with run.lock:
                if isinstance(epoch, int) and run.epoch < epoch <= run.epochs:
                    # the epoch that diverged is the run's last: its losses go out as null
                    while run.history.length < epoch:
                        run.history.append({"train_loss": loss})
                    run.epoch = epoch
                run.set_status(
                    "diverged",
                    f"diverged at epoch {epoch}: loss {loss} (try a smaller learning rate)",
                )
        except Exception as error:  # a bad run must never take the server down
            log.exception("run %s failed", run.id)
            with run.lock:
                run.set_status("failed", f"{type(error).__name__}: {error}")
        finally:
            with run.lock:
                if run.status not in TERMINAL:  # e.g. BaseException in the loop
                    run.set_status("failed", "training ended unexpectedly")
                run.release_training_data()

    def _train(self, run: Run) -> None:
        config = run.config
        data = run.data
        x_scaler = Standardizer().fit(data.x_train)
        model = nn.mlp(run.sizes, activation=config["activation"], seed=config["seed"])
        optimizer_options = {"lr": config["lr"], "weight_decay": config["weight_decay"]}
        if config["optimizer"] == "sgd":
            optimizer_options["momentum"] = config["momentum"]
        optimizer = nn.get_optimizer(config["optimizer"], model.parameters(), **optimizer_options)
        grid_inputs = x_scaler.transform(data.grid_x)
        test_inputs = x_scaler.transform(data.x_test)
        if run.classification:
            # labels for cross-entropy; one-hot rows for MSE (accuracy then has to be asked for)
            encode = (
                (lambda labels: labels)
                if config["loss"] == "cross_entropy"
                else (lambda labels: np.eye(run.task.outputs, dtype=np.float32)[labels])
            )
            train_targets, test_targets = encode(data.y_train), encode(data.y_test)
            test_labels = data.y_test
            shown_test = run.shown_rows["test"]
        else:
            y_scaler = Standardizer().fit(data.y_train)
            train_targets = y_scaler.transform(data.y_train)
            test_targets = y_scaler.transform(data.y_test)
        epochs = nn.train(
            model,
            nn.get_loss(config["loss"]),
            optimizer,
            x_scaler.transform(data.x_train),
            train_targets,
            epochs=config["epochs"],
            batch_size=config["batch_size"],
            validation=(test_inputs, test_targets),
            seed=config["seed"],
            accuracy=True if run.classification else None,
        )

        def predict() -> np.ndarray | ClassView:
            if not run.classification:
                return y_scaler.inverse_transform(model.predict(grid_inputs))
            outputs = model.predict(grid_inputs)
            probabilities = class_probabilities(outputs, config["loss"])
            classes = outputs.argmax(axis=1)  # the class the accuracy counts, as in nn.train
            test_predicted = model.predict(test_inputs).argmax(axis=1)
            return ClassView(
                classes=classes,
                confidence=probabilities[np.arange(len(classes)), classes],
                test_predicted=test_predicted[shown_test],
                misclassified=int(np.count_nonzero(test_predicted != test_labels)),
            )

        def view() -> tuple[np.ndarray | ClassView, list[np.ndarray]]:
            weights = [
                layer.weight.data[:NEURONS_SHOWN, :NEURONS_SHOWN].copy()
                for layer in model.linear_layers()
            ]
            return predict(), weights

        with run.lock:
            run.weights = view()[1]
            run.view_version += 1
        if not self._wait_if_paused(run):
            return self._end_stopped(run)
        with run.lock:
            run.set_status("running")
        next_view = 0.0
        pace = config.get("epochs_per_second")
        epoch_interval = 1.0 / pace if pace else 0.0
        next_epoch_due = time.monotonic() + epoch_interval
        try:
            for record in epochs:
                now = time.perf_counter()
                fresh_view = view() if now >= next_view else None
                with run.lock:
                    run.history.append(record)
                    run.epoch = record["epoch"]
                    if fresh_view is not None:
                        run.prediction, run.weights = fresh_view
                        run.view_version += 1
                if fresh_view is not None:
                    next_view = now + self.frame_interval
                if epoch_interval and record["epoch"] < run.epochs:
                    next_epoch_due = self._pace(run, next_epoch_due, epoch_interval)
                if not run.resume_event.is_set() or run.stop_requested:
                    if not self._wait_if_paused(run):
                        break
                    next_epoch_due = time.monotonic() + epoch_interval  # after a pause
        finally:
            epochs.close()
        final_view = view()
        with run.lock:
            run.prediction, run.weights = final_view
            run.view_version += 1
            if run.stop_requested:
                run.set_status("stopped", f"stopped at epoch {run.epoch}")
            else:
                run.set_status("finished")

    @staticmethod
    def _pace(run: Run, due: float, interval: float) -> float:
        """Wait until `due` (monotonic) unless a pause or stop interrupts; return the next due.

        A run that fell behind (slow epochs) does not catch up in a burst: the next epoch is due
        one interval from now.
        """
        run.interrupt.clear()  # a request after this point is seen by the flags or the wait
        delay = due - time.monotonic()
        if delay <= 0:
            return time.monotonic() + interval
        if run.resume_event.is_set() and not run.stop_requested:
            run.interrupt.wait(delay)
        return due + interval

    def _wait_if_paused(self, run: Run) -> bool:
        """Park between epochs while paused (no CPU); False if the run should stop."""
        if run.resume_event.is_set() or run.stop_requested:
            return not run.stop_requested
        with run.lock:
            run.set_status("paused")
        run.resume_event.wait()
        with run.lock:
            if run.stop_requested:
                return False
            run.set_status("running")
        return True

    def _end_stopped(self, run: Run) -> None:
        with run.lock:
            run.set_status("stopped", f"stopped at epoch {run.epoch}")

    # ----------------------------------------------------------------- streaming

    def watch(self, run: Run, sid: str) -> None:
        """Send `sid` a snapshot of the run and stream frames to it from then on."""
        client = Client(sid)
        client.lock.acquire()  # no frame may overtake the snapshot
        try:
            with run.lock:
                ended = run.closed
                state = self._copy_state(run, start=0)
                client.sent_epoch = state["epoch"]
                client.sent_status = state["status"]
                client.sent_view = state["view_version"]
                if not ended:
                    previous = run.clients.get(sid)
                    if previous is not None:
                        previous.gone = True
                    run.clients[sid] = client
            if not ended:
                with self._lock:
                    self._watching.setdefault(sid, set()).add(run.id)
            snapshot = {
                "run_id": run.id,
                "status": state["status"],
                "epoch": state["epoch"],
                "epochs": run.epochs,
                "elapsed": round_float(state["elapsed"]),
                "config": run.config,
                "task": run.task.to_json(),
                "history": History.to_json(0, state["history"]),
                "target": run.target_json(),
                "data": run.data_json(),
                "prediction": run.grid_json(state["prediction"]),
                "network": run.network_json(state["weights"]),
                "reason": state["reason"],
            }
            if run.classification:
                snapshot.update(run.test_points_json(state["prediction"]))
            self.socketio.emit("snapshot", snapshot, to=sid)
            if ended:
                self.socketio.emit("done", self._done_payload(run), to=sid)
        finally:
            client.lock.release()

    def unwatch(self, run: Run, sid: str) -> None:
        """Stop streaming `run` to `sid`."""
        with run.lock:
            client = run.clients.pop(sid, None)
        if client is not None:
            client.gone = True
        with self._lock:
            self._watching.get(sid, set()).discard(run.id)

    def disconnect(self, sid: str) -> None:
        """Forget a client that went away."""
        with self._lock:
            run_ids = self._watching.pop(sid, set())
            runs = [self._runs[run_id] for run_id in run_ids if run_id in self._runs]
        for run in runs:
            self.unwatch(run, sid)

    def _copy_state(self, run: Run, start: int) -> dict[str, Any]:
        """A copy of what a frame or snapshot needs (caller holds the run's lock)."""
        return {
            "status": run.status,
            "epoch": run.epoch,
            "elapsed": run.elapsed(),
            "reason": run.reason,
            "history": run.history.copy(start, run.epoch),
            "prediction": run.prediction,  # replaced, never mutated: a reference is a copy
            "weights": run.weights,
            "view_version": run.view_version,
        }

    def _done_payload(self, run: Run) -> dict[str, Any]:
        payload = {"run_id": run.id, "status": run.status, "reason": run.reason, "epoch": run.epoch}
        if run.classification:  # the final accuracies (None if no epoch ran)
            with run.lock:
                payload["train_acc"] = run.history.last("train_acc")
                payload["test_acc"] = run.history.last("test_acc")
        return payload

    def _stream(self, run: Run) -> None:
        """The emitter task of a run: frames while it lives, then a final frame and `done`."""
        try:
            while not run.closed:
                if not run.active.wait(IDLE_TICK):
                    self._send_frames(run, final=False)  # e.g. tell clients about "paused"
                    continue
                ended = run.status in TERMINAL
                if not ended:
                    ended = self._wait_ended(run, self.frame_interval)
                if ended:
                    with run.lock:
                        run.closed = True
                    self._send_frames(run, final=True)
                else:
                    self._send_frames(run, final=False)
        except Exception:  # never let streaming errors kill the process; the run goes on
            log.exception("streaming of run %s failed", run.id)
            with run.lock:
                run.closed = True
        finally:
            with run.lock:
                clients = list(run.clients.values())
                run.clients.clear()
            with self._lock:
                for client in clients:
                    self._watching.get(client.sid, set()).discard(run.id)

    @staticmethod
    def _wait_ended(run: Run, timeout: float) -> bool:
        with run.lock:
            return run.changed.wait_for(lambda: run.status in TERMINAL, timeout=timeout)

    def _send_frames(self, run: Run, final: bool) -> None:
        """One pass over the run's clients: each ready client gets what is new for it."""
        with run.lock:
            clients = list(run.clients.values())
            status, epoch, view_version = run.status, run.epoch, run.view_version
        if not clients:
            return
        now = time.monotonic()
        shared: dict[str, Any] = {}  # prediction/network rounded once per pass
        chunks: dict[int, dict[str, list]] = {}  # history chunk per client cursor
        for client in clients:
            with client.lock:
                if client.gone:
                    continue
                waiting = (
                    client.awaiting_since is not None
                    and now - client.awaiting_since < self.ack_timeout
                )
                news = (
                    client.sent_epoch != epoch
                    or client.sent_status != status
                    or client.sent_view != view_version
                )
                if not final and (waiting or not news):
                    continue
                if not shared:
                    with run.lock:
                        state = self._copy_state(run, start=0)
                        state["history"] = None
                    status, epoch = state["status"], state["epoch"]
                    view_version = state["view_version"]
                    shared = {
                        "elapsed": round_float(state["elapsed"]),
                        "prediction": run.grid_json(state["prediction"]),
                        "network": run.network_json(state["weights"]),
                    }
                    if run.classification:
                        shared.update(run.test_points_json(state["prediction"]))
                start = min(client.sent_epoch, epoch)
                if start not in chunks:
                    with run.lock:
                        columns = run.history.copy(start, epoch)
                    chunks[start] = History.to_json(start, columns)
                frame = {
                    "run_id": run.id,
                    "status": status,
                    "epoch": epoch,
                    "epochs": run.epochs,
                    "elapsed": shared["elapsed"],
                    "history": chunks[start],
                    "prediction": shared["prediction"],
                    "network": shared["network"],
                }
                if run.classification:
                    frame["misclassified"] = shared["misclassified"]
                    frame["test_predicted"] = shared["test_predicted"]
                client.sent_epoch, client.sent_status = epoch, status
                client.sent_view = view_version
                client.frame_token += 1
                client.awaiting_since = now
                self.socketio.emit(
                    "frame", frame, to=client.sid, callback=self._ack_callback(client)
                )
                if final:
                    self.socketio.emit("done", self._done_payload(run), to=client.sid)

    @staticmethod
    def _ack_callback(client: Client) -> Any:
        token = client.frame_token

        def acknowledged(*_args: Any) -> None:
            if client.frame_token == token:
                client.awaiting_since = None

        return acknowledged
