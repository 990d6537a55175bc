"""The broadcaster: who watches which run, and the ``snapshot`` / ``frame`` / ``done`` events.

Every event goes to one client (``to=sid``), never to a room. A client gets a ``snapshot`` when
it watches (built in the handler's thread), then frames from one broadcaster thread that ticks
every `frame_interval` seconds over the watched runs. Each client has its own cursor (the last
epoch it got) and gets its next frame only after it acknowledged the previous one (or after
`ack_timeout`), so a slow client gets a bigger history chunk later instead of a growing queue.
The parts of a frame shared by every client of a run (prediction, network) are encoded once per
view. When a run ends, each client gets a last frame up to the final epoch, then ``done``, and is
let go.

The thread runs only while someone watches (it ends when the last client leaves), so an idle
server has no streaming thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from .control import TERMINAL
from .encoding import round_float
from .runs import Run

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Client:
    """One watching Socket.IO client of one run: its cursor and flow-control state."""

    sid: str
    sent_epoch: int = 0
    sent_status: str = ""
    sent_view: int = -1  # view version it last got
    sent_position: int | None = None  # place in the queue it was last told
    ready: bool = False  # its snapshot went out: frames may follow
    awaiting_since: float | None = None  # monotonic time of the unacknowledged frame
    frame_token: int = 0


class Broadcaster:
    """Streams runs to the clients that watch them; see the module docstring."""

    def __init__(self, socketio: Any, frame_interval: float = 0.05, ack_timeout: float = 2.0):
        self.socketio = socketio
        self.frame_interval = frame_interval
        self.ack_timeout = ack_timeout
        self._lock = threading.Lock()  # guards everything below
        self._watchers: dict[str, dict[str, Client]] = {}  # run id -> sid -> client
        self._runs: dict[str, Run] = {}
        self._thread: Any = None
        self._shared: dict[str, tuple[int, dict]] = {}  # run id -> (view version, parts)

    # ----------------------------------------------------------------- clients

    def watch(self, run: Run, sid: str) -> None:
        """Send `sid` a snapshot of the run and stream frames to it from then on."""
        client = Client(sid)
        snapshot, ended = self.snapshot(run, client)
        if not ended:
            with self._lock:
                self._watchers.setdefault(run.id, {})[sid] = client  # replaces an older one
                self._runs[run.id] = run
                self._ensure_thread()
        self.socketio.emit("snapshot", snapshot, to=sid)
        if ended:
            self.socketio.emit("done", run.done_json(), to=sid)
        client.ready = True

    def unwatch(self, run_id: str, sid: str) -> None:
        """Stop streaming a run to `sid`."""
        with self._lock:
            self._watchers.get(run_id, {}).pop(sid, None)

    def disconnect(self, sid: str) -> None:
        """Forget a client that went away."""
        with self._lock:
            for clients in self._watchers.values():
                clients.pop(sid, None)

    def watching(self, sid: str) -> list[str]:
        """Ids of the runs `sid` watches."""
        with self._lock:
            return [run_id for run_id, clients in self._watchers.items() if sid in clients]

    # ----------------------------------------------------------------- payloads

    def snapshot(self, run: Run, client: Client | None = None) -> tuple[dict[str, Any], bool]:
        """The ``snapshot`` of a run (and whether it had ended); sets `client`'s cursor."""
        payloads = run.payloads_now()
        with run.lock:
            status, epoch = run.control.status, run.epoch
            view, version, progress = run.view, run.view_version, run.progress
        history = run.history_json(0, epoch)  # epochs are only ever appended
        if client is not None:
            client.sent_epoch, client.sent_status, client.sent_view = epoch, status, version
        snapshot = {
            "run_id": run.id,
            "status": status,
            "epoch": epoch,
            "epochs": run.epochs,
            "elapsed": round_float(run.control.elapsed()),
            "config": run.config,
            "task": run.task.to_json(),
            "history": history,
            "progress": progress,
            "queue_position": run.queue_position(),
            "reason": run.control.reason,
            "warnings": run.warnings,
            **self._view_parts(run, payloads, view),
        }
        if payloads is not None:
            snapshot["target"] = payloads.target_json()
            snapshot["data"] = payloads.data_json()
        else:  # its data cannot be built: the run fails as it starts
            snapshot["target"] = snapshot["data"] = None
        return snapshot, status in TERMINAL

    @staticmethod
    def _view_parts(run: Run, payloads: Any, view: Any) -> dict[str, Any]:
        """``prediction``, ``network`` (and class view fields) of a view, encoded."""
        if payloads is None:
            parts = {"prediction": None, "network": {"sizes": run.sizes, "weights": None}}
            if run.classification:
                parts.update(misclassified=None, test_predicted=None)
            return parts
        prediction = view.prediction if view is not None else None
        parts = {
            "prediction": payloads.grid_json(prediction),
            "network": payloads.network_json(view.weights if view is not None else None),
        }
        if run.classification:
            parts.update(payloads.test_points_json(prediction))
        return parts

    def _shared_parts(self, run: Run, version: int) -> dict[str, Any]:
        """The view parts of the run's frames, encoded once per view version."""
        cached = self._shared.get(run.id)
        if cached is not None and cached[0] == version:
            return cached[1]
        with run.lock:
            payloads, view, version = run.payloads, run.view, run.view_version
        parts = self._view_parts(run, payloads, view)
        self._shared[run.id] = (version, parts)
        return parts

    # ----------------------------------------------------------------- the thread

    def _ensure_thread(self) -> None:
        """Start the broadcaster thread if it is not running (caller holds the lock)."""
        if self._thread is None:
            self._thread = self.socketio.start_background_task(self._loop)

    def _loop(self) -> None:
        try:
            while True:
                with self._lock:
                    for run_id in [key for key, clients in self._watchers.items() if not clients]:
                        del self._watchers[run_id]
                        self._runs.pop(run_id, None)
                        self._shared.pop(run_id, None)
                    work = [
                        (self._runs[run_id], list(clients.values()))
                        for run_id, clients in self._watchers.items()
                    ]
                    if not work:
                        self._thread = None
                        self._watchers.clear()
                        self._runs.clear()
                        self._shared.clear()
                        return
                for run, clients in work:
                    self._tick(run, clients)
                time.sleep(self.frame_interval)
        except Exception:  # never let streaming errors kill the process; runs go on
            log.exception("the broadcaster failed")
            with self._lock:
                self._thread = None

    def _tick(self, run: Run, clients: list[Client]) -> None:
        """One pass over a run's clients: each ready client gets what is new for it."""
        with run.lock:
            status, epoch = run.control.status, run.epoch
            version, progress = run.view_version, run.progress
        final = status in TERMINAL
        position = run.queue_position()
        now = time.monotonic()
        chunks: dict[int, dict[str, list]] = {}
        for client in clients:
            if not client.ready:  # its snapshot is on the way; served on a later tick
                continue
            waiting = (
                client.awaiting_since is not None and now - client.awaiting_since < self.ack_timeout
            )
            news = (
                client.sent_epoch, client.sent_status, client.sent_view, client.sent_position
            ) != (epoch, status, version, position)  # fmt: skip
            if not final and (waiting or not news):
                continue
            start = min(client.sent_epoch, epoch)
            if start not in chunks:
                chunks[start] = run.history_json(start, epoch)
            frame = {
                "run_id": run.id,
                "status": status,
                "epoch": epoch,
                "epochs": run.epochs,
                "elapsed": round_float(run.control.elapsed()),
                "history": chunks[start],
                "progress": progress,
                "queue_position": position,
                "warnings": run.warnings,
                **self._shared_parts(run, version),
            }
            client.sent_position = position
            self._send_frame(client, frame, epoch, status, version, now)
            if final:
                self.socketio.emit("done", run.done_json(), to=client.sid)
                self._let_go(run.id, client)

    def _let_go(self, run_id: str, client: Client) -> None:
        """`client` got the run's `done`: forget it (and the run once nobody is left)."""
        with self._lock:
            clients = self._watchers.get(run_id, {})
            if clients.get(client.sid) is client:
                del clients[client.sid]
            if not clients:
                self._watchers.pop(run_id, None)
                self._runs.pop(run_id, None)
                self._shared.pop(run_id, None)

    def _send_frame(self, client: Client, frame: dict, epoch: int, status: str, view: int,
                    now: float) -> None:  # fmt: skip
        client.sent_epoch, client.sent_status, client.sent_view = epoch, status, view
        client.frame_token += 1
        client.awaiting_since = now
        token = client.frame_token

        def acknowledged(*_args: Any) -> None:
            if client.frame_token == token:
                client.awaiting_since = None

        self.socketio.emit("frame", frame, to=client.sid, callback=acknowledged)
