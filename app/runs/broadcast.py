"""The broadcaster: who watches which run, and the ``snapshot`` / ``frame`` / ``done`` events.

Every event goes to one client (``to=sid``), never to a room. A client gets a ``snapshot`` when
it watches (built in the handler's thread), then frames from one broadcaster thread. The thread
ticks over the watched runs as soon as one of them has a new view (or a client acknowledges a
frame after a newer view came), else every half `frame_interval`: so a frame leaves as soon as
its prediction is made, and a client that keeps up gets every view (up to one per
`frame_interval`, as the run loop makes them), each frame a fresh prediction; news without a new
view (epochs, progress, status) waits a little longer (1.5 `frame_interval`) for one. Each
client has its own cursor (the last epoch it got) and gets its next frame only after it
acknowledged the previous one (or after `ack_timeout`), so a slow client gets a bigger history
chunk later instead of a growing queue.
The parts of a frame shared by every client of a run (prediction, network) are encoded once per
view. When a run ends, each client gets a last frame up to the final epoch, then ``done``, and is
let go.

The thread runs only while someone watches (it ends when the last client leaves), so an idle
server has no streaming thread.

What one connection can cost is bounded: each frame's JSON is encoded once per history chunk
and the same text goes to every watcher at that cursor (the shared parts, prediction and network,
once per view); at most one snapshot of a run is in flight per connection (until the client
acknowledges it: a ``watch`` repeated meanwhile is answered by one fresh snapshot after the ack);
a snapshot of a run longer than `MAX_SNAPSHOT_POINTS` epochs carries every k-th epoch (and
``history_every: k`` says so; frames then go on epoch by epoch); and everything is sent through
`app.web.wire.Outbox`, which drops a connection whose unsent bytes pass its cap.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import orjson

from app.data.encoding import history_json, round_float
from app.runs.control import TERMINAL
from app.runs.payloads import done_json, inside_json
from app.runs.run import Run

log = logging.getLogger(__name__)

MAX_SNAPSHOT_POINTS = 20_000  # a longer history is thinned to every k-th epoch in a snapshot
ENDED_SNAPSHOTS_KEPT = 4  # encoded snapshots of ended runs kept for the next watcher
# frames one run sends per second across its watchers: 20 each up to 15 watchers, then fewer
# each (60 watchers: 5 a second each), so a crowd does not take the interpreter from training
MAX_RUN_FRAMES = 300
# looks inside (the largest part of a frame) one run sends per second across its watchers: each
# gets the latest at most every INSIDE_INTERVAL s, or fewer with many watchers
INSIDE_INTERVAL, MAX_RUN_INSIDES = 0.1, 30


def to_json(value: Any) -> str:
    """Compact JSON text of a wire payload (numbers already rounded by `app.data.encoding`).

    orjson writes float lists ~10x faster than ``json`` (frames are mostly floats, and their
    encoding competes with training for the interpreter); numpy scalars and arrays are written
    as numbers, and a NaN that slipped through as ``null``, never as a bare ``NaN``.
    """
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()


def snapshot_history(run: Run, epoch: int) -> tuple[dict[str, list], int]:
    """The history of epochs 1..`epoch` for a snapshot and its stride: whole (stride 1) up to
    `MAX_SNAPSHOT_POINTS` epochs, else every k-th epoch and the last one."""
    if epoch <= MAX_SNAPSHOT_POINTS:
        return run.history_json(0, epoch), 1
    every = math.ceil(epoch / MAX_SNAPSHOT_POINTS)
    with run.lock:
        columns = run.history.copy(0, epoch)
    keep = np.arange(every - 1, epoch, every)
    if keep[-1] != epoch - 1:
        keep = np.append(keep, epoch - 1)
    thinned = {name: values[keep] for name, values in columns.items()}
    return history_json(thinned, epochs=keep + 1), every


@dataclass(eq=False)
class Client:
    """One watching Socket.IO client of one run: its cursor and flow-control state."""

    sid: str
    sent_epoch: int = 0
    sent_status: str = ""
    sent_view: int = -1  # view version it last got
    sent_position: int | None = None  # place in the queue it was last told
    sent_layout: int = 0  # the run's layout its snapshot had (a new one needs a new snapshot)
    sent_progress: dict | None = None  # the epoch's progress it was last told
    sent_at: float = 0.0  # monotonic time of its last frame
    sent_inside: int = 0  # the run's inside version it last got
    inside_at: float = 0.0  # monotonic time it last got one
    ready: bool = False  # its snapshot went out: frames may follow
    seq: int = 0  # frames sent since its snapshot (each frame carries its number: gaps show)
    awaiting_since: float | None = None  # monotonic time of the unacknowledged frame
    frame_token: int = 0

    def due(self, now: float, news: tuple, spacing: float, slack: float,
            ack_timeout: float) -> bool:  # fmt: skip
        """True if the run ended, or if this client is ready, not waiting for an ack (for up to
        `ack_timeout` s) and has `news`: a new view once its last frame is `spacing` - `slack`
        s old, other news (epochs, progress, status) once it is `spacing` + `slack` s old."""
        if not self.ready:  # its snapshot is on the way; served on a later tick
            return False
        if news[1] in TERMINAL:
            return True
        since = self.awaiting_since
        if since is not None and now - since < ack_timeout:
            return False
        current = (
            self.sent_epoch, self.sent_status, self.sent_view, self.sent_position,
            self.sent_progress,
        )  # fmt: skip
        if current == news:
            return False
        wait = spacing - slack if news[2] != self.sent_view else spacing + slack
        return now - self.sent_at >= wait

    def frame(self, text: str, epoch: int, status: str, view: int,
              now: float) -> tuple[str, Callable[..., None]]:  # fmt: skip
        """This client's copy of a frame (`text` numbered with its `seq`) and the callback of
        its ack; moves its cursor to `epoch`, `status` and `view`, awaiting the ack from `now`."""
        self.sent_epoch, self.sent_status, self.sent_view = epoch, status, view
        self.seq += 1
        self.frame_token += 1
        self.awaiting_since = self.sent_at = now
        token = self.frame_token

        def acknowledged(*_args: Any) -> None:
            if self.frame_token == token:
                self.awaiting_since = None

        return f'{text[:-1]},"seq":{self.seq}}}', acknowledged


class FrameParts:
    """The parts of a run's frames shared by all its watchers, each encoded once: the view
    (per view version) and the look inside (per inside version)."""

    def __init__(self) -> None:
        self._view: dict[str, tuple[int, str]] = {}  # run id -> (view version, JSON members)
        self._inside: dict[str, tuple[int, str]] = {}  # run id -> (inside version, JSON member)

    def view_text(self, run: Run, version: int) -> str:
        """The view parts of the run's frames as JSON members (no braces)."""
        cached = self._view.get(run.id)
        if cached is not None and cached[0] == version:
            return cached[1]
        with run.lock:
            payloads, view, version = run.payloads, run.view, run.view_version
        text = to_json(view_parts(run, payloads, view))[1:-1]
        self._view[run.id] = (version, text)
        return text

    def inside_text(self, run: Run, version: int) -> str:
        """``,"inside":{...}`` of the run's latest look inside."""
        cached = self._inside.get(run.id)
        if cached is not None and cached[0] == version:
            return cached[1]
        with run.lock:
            inside, version = run.inside, run.inside_version
        text = "," + to_json({"inside": inside_json(inside)})[1:-1]
        self._inside[run.id] = (version, text)
        return text

    def forget(self, run_id: str) -> None:
        """Drop a run's cached parts (nobody watches it any more)."""
        self._view.pop(run_id, None)
        self._inside.pop(run_id, None)


class Snapshots:
    """The ``snapshot`` JSON of runs for their watchers; an ended run's is encoded once and
    kept (the last `ENDED_SNAPSHOTS_KEPT` of them) for the next watcher."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ended: OrderedDict[str, str] = OrderedDict()  # run id -> ended run's snapshot

    def text(self, run: Run, client: Client) -> tuple[str, bool]:
        """The run's snapshot as JSON (setting `client`'s cursor) and whether the run ended."""
        with self._lock:
            cached = self._ended.get(run.id)
        if cached is not None:
            return cached, True
        snapshot, ended = snapshot_of(run, client)
        text = to_json(snapshot)
        if ended:
            with self._lock:
                self._ended[run.id] = text
                while len(self._ended) > ENDED_SNAPSHOTS_KEPT:
                    self._ended.popitem(last=False)
        return text, ended


class Outbox(Protocol):
    """Where a `Broadcaster` sends its events: `app.web.wire.Outbox` (bounded, the app's), or
    `EmitOutbox` (plain ``socketio.emit``)."""

    def send_text(self, sid: str, event: str, json_text: str, callback: Any = None) -> bool:
        """Send `event` with payload `json_text` to client `sid`; False if it is gone."""
        ...

    def connected(self, sid: str) -> bool:
        """Whether client `sid` is still connected."""
        ...

    def release(self, sid: str) -> None:
        """Forget client `sid` (it disconnected)."""
        ...


class EmitOutbox:
    """The `Outbox` interface over plain ``socketio.emit`` (no bounds): for a `Broadcaster`
    built without a real Socket.IO server (unit tests with a fake one)."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio

    def send_text(self, sid: str, event: str, json_text: str, callback: Any = None) -> bool:
        """Emit `event` with the decoded `json_text`."""
        self.socketio.emit(event, json.loads(json_text), to=sid, callback=callback)
        return True

    def connected(self, _sid: str) -> bool:
        """Always True: a plain emitter cannot tell."""
        return True

    def release(self, _sid: str) -> None:
        """Nothing to release."""


class Broadcaster:
    """Streams runs to the clients that watch them; see the module docstring."""

    def __init__(self, socketio: Any, frame_interval: float = 0.05, ack_timeout: float = 2.0,
                 outbox: Outbox | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.socketio = socketio
        self.clock = clock  # seconds: frame and look-inside rates, ack timeouts
        self.frame_interval = frame_interval
        self.ack_timeout = ack_timeout
        self.outbox: Outbox = outbox or EmitOutbox(socketio)  # create_app sets one
        self._lock = threading.Lock()  # guards everything below
        self._watchers: dict[str, dict[str, Client]] = {}  # run id -> sid -> client
        self._runs: dict[str, Run] = {}
        self._thread: Any = None
        self._parts = FrameParts()
        self._in_flight: set[tuple[str, str]] = set()  # (sid, run id): snapshot not acked yet
        self._woken = threading.Event()  # set by a new view of a watched run (or an ack late)
        self._again: set[tuple[str, str]] = set()  # watched again while in flight
        self._snapshots = Snapshots()

    # ----------------------------------------------------------------- clients

    def watch(self, run: Run, sid: str) -> None:
        """Send `sid` a snapshot of the run and stream frames to it from then on.

        While an earlier snapshot of the run to `sid` is unacknowledged, this only notes that
        a fresh one is wanted (sent when the ack comes). Raises if streaming cannot start.
        """
        key = (sid, run.id)
        with self._lock:
            if key in self._in_flight:
                self._again.add(key)
                return
            self._in_flight.add(key)
        try:
            self._send_snapshot(run, sid, key)
        except Exception:
            with self._lock:
                self._in_flight.discard(key)
            self.unwatch(run.id, sid)
            raise

    def _send_snapshot(self, run: Run, sid: str, key: tuple[str, str]) -> None:
        client = Client(sid)
        text, ended = self._snapshots.text(run, client)
        if not ended:
            with self._lock:
                self._watchers.setdefault(run.id, {})[sid] = client  # replaces an older one
                if self._runs.get(run.id) is not run:  # (a run read back again is another)
                    self._forget_run(run.id)
                    self._runs[run.id] = run
                    run.on_view.append(self.wake)
                run.watched = True
                self._ensure_thread()

        def acknowledged(*_args: Any) -> None:
            self._snapshot_acked(run, key)

        if not self.outbox.send_text(sid, "snapshot", text, acknowledged):
            self.disconnect(sid)
            return
        if ended:
            self.socketio.emit("done", done_json(run), to=sid)
        client.ready = True

    def _snapshot_acked(self, run: Run, key: tuple[str, str]) -> None:
        with self._lock:
            self._in_flight.discard(key)
            again = key in self._again
            self._again.discard(key)
        if again and self.outbox.connected(key[0]):
            try:
                self.watch(run, key[0])
            except Exception:  # the client asked again; it will again if it still wants to
                log.exception("a repeated watch of run %s failed", run.id)

    def unwatch(self, run_id: str, sid: str) -> None:
        """Stop streaming a run to `sid`."""
        with self._lock:
            self._watchers.get(run_id, {}).pop(sid, None)
            self._again.discard((sid, run_id))
            self._note_watched()

    def disconnect(self, sid: str) -> None:
        """Forget a client that went away."""
        with self._lock:
            for clients in self._watchers.values():
                clients.pop(sid, None)
            self._in_flight = {key for key in self._in_flight if key[0] != sid}
            self._again = {key for key in self._again if key[0] != sid}
            self._note_watched()

    def _note_watched(self) -> None:
        """Tell each streamed run whether anyone still watches it (`Run.watched`: a paused run
        nobody watches ends after a while, `app.runs.runner.Unwatched`); caller holds the lock."""
        for run_id, run in self._runs.items():
            run.watched = bool(self._watchers.get(run_id))

    def streamed(self) -> list[str]:
        """Ids of the runs at least one client watches now."""
        with self._lock:
            return [run_id for run_id, clients in self._watchers.items() if clients]

    def watching(self, sid: str) -> list[str]:
        """Ids of the runs `sid` watches."""
        with self._lock:
            return [run_id for run_id, clients in self._watchers.items() if sid in clients]

    # ----------------------------------------------------------------- the thread

    def _ensure_thread(self) -> None:
        """Start the broadcaster thread if it is not running (caller holds the lock)."""
        if self._thread is None:
            self._thread = self.socketio.start_background_task(self._loop)

    def wake(self, *_args: Any) -> None:
        """Tick now (a watched run has a new view, or a client acknowledged a frame late)."""
        self._woken.set()

    def _loop(self) -> None:
        try:
            while self.tick():
                self._woken.wait(self.frame_interval / 2)
                self._woken.clear()  # before the tick: what woke it is seen by the tick
        except Exception:  # never let streaming errors kill the process; runs go on
            log.exception("the broadcaster failed")
            with self._lock:
                self._thread = None

    def tick(self) -> bool:
        """One pass over every watched run (the thread's, see the module docstring; tests call
        it in virtual time); False once nobody watches (the thread then ends)."""
        with self._lock:
            for run_id in [key for key, clients in self._watchers.items() if not clients]:
                self._forget(run_id)
            work = [
                (self._runs[run_id], list(clients.values()))
                for run_id, clients in self._watchers.items()
            ]
            if not work:
                self._thread = None
                for run_id in list(self._runs):
                    self._forget(run_id)
                self._watchers.clear()
                self._parts = FrameParts()
                return False
        for run, clients in work:
            self._tick(run, clients)
        return True

    def _tick(self, run: Run, clients: list[Client]) -> None:
        """One pass over a run's clients: each ready client gets what is new for it."""
        with run.lock:
            status, epoch = run.control.status, run.epoch
            version, progress = run.view_version, run.progress
            inside_version = run.inside_version if run.inside is not None else 0
        final = status in TERMINAL
        position = run.queue_position()
        now = self.clock()
        for client in [c for c in clients if c.ready and c.sent_layout != run.layout]:
            client.ready = False  # its new snapshot replaces it
            self.watch(run, client.sid)
        news = (epoch, status, version, position, progress)  # progress: frames inside long epochs
        # a run sends at most MAX_RUN_FRAMES frames a second in all: its watchers share them
        spacing = max(self.frame_interval, len(clients) / MAX_RUN_FRAMES)
        slack = self.frame_interval / 2  # a view a little early still goes; other news waits
        due = [c for c in clients if c.due(now, news, spacing, slack, self.ack_timeout)]
        if not due:
            return
        common = frame_common(run, status, epoch, progress, position)
        shared = self._parts.view_text(run, version)
        inside_every = max(INSIDE_INTERVAL, len(clients) / MAX_RUN_INSIDES)
        frames: dict[tuple[int, bool], str] = {}  # (history start, inside?) -> the frame's JSON
        for client in due:
            start = min(client.sent_epoch, epoch)
            inside = client.sent_inside != inside_version and (
                final or now - client.inside_at >= inside_every
            )
            if (start, inside) not in frames:
                head = to_json({**common, "history": run.history_json(start, epoch)})
                extra = self._parts.inside_text(run, inside_version) if inside else ""
                frames[start, inside] = f"{head[:-1]},{shared}{extra}}}"
            if inside:
                client.sent_inside, client.inside_at = inside_version, now
            client.sent_position, client.sent_progress = position, progress
            text, acknowledged = client.frame(frames[start, inside], epoch, status, version, now)
            if not self.outbox.send_text(client.sid, "frame", text,
                                         _then(acknowledged, self._woken_by(run, version))):
                self._let_go(run.id, client)
                continue
            if final:
                self.socketio.emit("done", done_json(run), to=client.sid)
                self._let_go(run.id, client)

    def _woken_by(self, run: Run, version: int) -> Callable[..., None]:
        """The ack of a frame with view `version` wakes the thread if a newer view came meanwhile
        (a client slower than the views gets the latest at once)."""

        def wake(*_args: Any) -> None:
            if run.view_version != version:
                self.wake()

        return wake

    def _let_go(self, run_id: str, client: Client) -> None:
        """`client` got the run's `done` (or is gone): forget it (and the run once nobody is
        left)."""
        with self._lock:
            clients = self._watchers.get(run_id, {})
            if clients.get(client.sid) is client:
                del clients[client.sid]
            if not clients:
                self._forget(run_id)

    def _forget(self, run_id: str) -> None:
        """Nobody watches the run any more: drop it and its parts (the caller holds the lock)."""
        self._watchers.pop(run_id, None)
        self._forget_run(run_id)
        self._parts.forget(run_id)

    def _forget_run(self, run_id: str) -> None:
        """Stop following the run's views (the caller holds the lock)."""
        run = self._runs.pop(run_id, None)
        if run is not None:
            run.watched = False
        if run is not None and self.wake in run.on_view:
            run.on_view.remove(self.wake)


def _then(first: Callable[..., None], second: Callable[..., None]) -> Callable[..., None]:
    """A callback that calls `first`, then `second`, with the same arguments."""

    def both(*args: Any) -> None:
        first(*args)
        second(*args)

    return both


def frame_common(run: Run, status: str, epoch: int, progress: dict | None,
                 position: int | None) -> dict[str, Any]:  # fmt: skip
    """What every frame of a run at `epoch` carries whatever the watcher's cursor (its history
    and the view are added per cursor and per view)."""
    return {
        "run_id": run.id,
        "status": status,
        "epoch": epoch,
        "epochs": run.epochs,
        "elapsed": round_float(run.control.elapsed()),
        "progress": progress,
        "queue_position": position,
        **run.verdict(),
    }


def view_parts(run: Run, payloads: Any, view: Any) -> dict[str, Any]:
    """The encoded view of a run (see `RunPayloads.view_json`; before its data exists only
    ``prediction: null`` and the network's sizes)."""
    if payloads is None:
        parts = {"prediction": None, "network": {"sizes": run.sizes, "weights": None}}
        if run.classification:
            parts.update(misclassified=None, test_predicted=None, confusion=None)
        return parts
    return payloads.view_json(view)


def snapshot_of(run: Run, client: Client | None = None) -> tuple[dict[str, Any], bool]:
    """The ``snapshot`` of a run (and whether it had ended); sets `client`'s cursor."""
    payloads = run.payloads_now()
    with run.lock:
        status, epoch = run.control.status, run.epoch
        view, version, progress = run.view, run.view_version, run.progress
        layout, inside, inside_version = run.layout, run.inside, run.inside_version
    history, every = snapshot_history(run, epoch)  # epochs are only ever appended
    if client is not None:
        client.sent_epoch, client.sent_status, client.sent_view = epoch, status, version
        client.sent_layout, client.sent_inside = layout, inside_version
    snapshot = {
        "run_id": run.id,
        "status": status,
        "epoch": epoch,
        "epochs": run.epochs,
        "elapsed": round_float(run.control.elapsed()),
        "config": run.config,
        "task": run.task.to_json(),
        "history": history,
        "history_every": every,
        "progress": progress,
        "queue_position": run.queue_position(),
        "reason": run.control.reason,
        **run.verdict(),
        **view_parts(run, payloads, view),
    }
    if payloads is not None:
        snapshot["target"] = payloads.target_json()
        snapshot["data"] = payloads.data_json()
        snapshot["inside"] = inside_json(inside)  # the latest, even if this view has none
        if run.task.image_shape is not None:
            snapshot["images"] = payloads.images_json()
    else:  # its data cannot be built: the run fails as it starts
        snapshot["target"] = snapshot["data"] = None
    return snapshot, status in TERMINAL
