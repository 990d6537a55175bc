"""Scaled mode's live stream: workers emit what their runs do through Flask-SocketIO's Redis
message queue; every web process takes it in and streams it to its own clients.

The worker side: `relay_emitter` is a write-only ``flask_socketio.SocketIO(message_queue=...)``
(Flask-SocketIO's way to emit from an external process). A `RunRelay` thread per training run
sends, at most every `RELAY_INTERVAL` seconds when something changed (else every
`KEEPALIVE_SECONDS`), one ``run`` event to the namespace `RELAY_NAMESPACE` (no browser connects
there: the web processes do not accept it), room = the run's id::

    {"run_id", "status", "reason", "epoch", "start", "names", "rows", "progress", "elapsed",
     "findings", "layout", "slice_features", "domain", "step", "steps_done", "lr_changes",
     "view"?, "inside"?}

``rows`` holds the history epochs ``start+1 .. epoch`` that were not sent yet or are not stored
in the database yet (`app.data.encoding.history_text`: the store's packed float32 columns, as
base64; exact, non-finite values included): a receiver
skips what it has (``start`` below its length), and one that just read the database can always
follow, since the rows it lacks are in the next message; a gap (``start`` above its length)
means lost messages. ``view`` (when the view changed) is `RunPayloads.view_json` of the
run's view and ``inside`` (when there is a new look inside) `payloads.inside_json`, already
encoded as a web process would encode them; both are left out while no web process streams the
run to a client (its ``watched`` key, `app.transports.redis_control`), and the first message after
a web process starts to has them. ``step`` is the step in progress (``[unit, left]`` or null) and
``steps_done`` counts the steps that ended (`RunControl.steps_done`), so a web process answers a
step as embedded mode does. ``layout`` counts the worker's new grids (a ``slice_features``
change), after which a web process rebuilds its data and sends its watchers a new snapshot.
The run's `news` event wakes the thread when the run loop publishes, so a message leaves right
after an epoch (or a slice) unless one left less than `RELAY_INTERVAL` ago.

The same message is embedded mode's event on a training process's pipe (`app.transports.pipe`,
``encode=False``: the view and look inside as they are, always). `MessageFeed` applies a message
to the receiving process's `Run`, whichever transport brought it.

The web side: `RelayManager` is the client manager of a scaled web process's ``SocketIO``: the
ordinary `socketio.RedisManager`, except that events of `RELAY_NAMESPACE` are handed to its
`sink` (`app.transports.scaled.ScaledRunManager`, which feeds the `RemoteRun` it serves) instead of
clients, and that an event for one of its own clients is not published to the other processes.
A relayed view is kept as a `app.runs.payloads.EncodedView`, which the ordinary `Broadcaster` sends
as it is; `decode_inside` turns a relayed look inside back into an `Inside`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import socketio
from flask_socketio import SocketIO

from app.data.encoding import history_from_text, history_text
from app.runs.control import TERMINAL
from app.runs.payloads import EncodedView, inside_json
from app.runs.run import Run
from app.training.inside import Histogram, Inside, LayerStats

log = logging.getLogger(__name__)

RELAY_NAMESPACE = "/relay"
RELAY_EVENT = "run"
CHANNEL = "flask-socketio"  # Flask-SocketIO's default channel, on both sides
RELAY_INTERVAL = 0.05  # at most 20 messages a second per run
IDLE_WAIT = 0.25  # the relay thread looks for a status change at least this often
# a run with no news (paused) still sends a message this often: web processes then know that
# its relay is alive (and keep its relayed view rather than redraw an older checkpoint's)
KEEPALIVE_SECONDS = 1.0


# ------------------------------------------------------------------ the worker side


def relay_emitter(redis_url: str) -> Any:
    """A write-only Flask-SocketIO server on the Redis message queue (emits only)."""
    return SocketIO(message_queue=redis_url, channel=CHANNEL)


class RunRelay:
    """Sends a training run's news through the message queue (see the module docstring):
    a thread from `start` to `stop`; `stop` sends what is left (the end) first."""

    def __init__(self, emitter: Any, run: Run, interval: float = RELAY_INTERVAL,
                 stored: Callable[[], int | None] | None = None, encode: bool = True,
                 keepalive: float = KEEPALIVE_SECONDS) -> None:  # fmt: skip
        self.emitter = emitter
        self.run = run
        self.stored = stored  # epochs of the run stored in the database (None: all of them)
        self.interval = interval
        # the view and look inside encoded for the wire, and only while watched (Redis); else
        # (a pipe, which pickles them) as they are, always: the server encodes them
        self.encode = encode
        self.keepalive = keepalive  # a message at least this often (s), news or not
        self.wake = run.news  # set by the run loop whenever it publishes
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"emit-{run.id}", daemon=True)
        self.sent_epoch = 0
        self.sent_view = 0
        self.sent_inside = 0
        self._sent_state: tuple = ()
        self._sent_at = 0.0
        self._sent_status: tuple[str, str | None] = ("running", None)
        self.sent = 0  # messages sent (for tests and logs)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def stop(self) -> None:
        """Send the last news (the run's end), then stop the thread."""
        self._done.set()
        self.wake.set()
        self._thread.join(timeout=5)
        self.send(final=True)

    def _loop(self) -> None:
        last = 0.0
        while not self._done.is_set():
            self.wake.wait(min(IDLE_WAIT, self.keepalive))
            self.wake.clear()
            pause = last + self.interval - time.monotonic()
            if pause > 0 and self._done.wait(pause):
                return
            self.send()
            last = time.monotonic()

    def send(self, final: bool = False) -> bool:
        """Emit what changed since the last message; False if nothing did (or it failed)."""
        try:
            message = self.message(final)
            if message is None:
                return False
            self.emitter.emit(RELAY_EVENT, message, namespace=RELAY_NAMESPACE, to=self.run.id)
            self.sent += 1
            return True
        except Exception:  # Redis away: the database still gets everything (the catch-up)
            log.warning("run %s: relay message not sent", self.run.id, exc_info=True)
            return False

    def message(self, final: bool = False) -> dict[str, Any] | None:
        """The next message, or None when nothing changed; marks its contents sent. Only the
        `final` one (sent once the recorder stored the end) says that the run ended."""
        run, control = self.run, self.run.control
        elapsed = control.elapsed()  # takes the run's lock itself
        stored = None if self.stored is None else self.stored()
        with run.lock:
            status, reason, length = control.status, control.reason, run.history.length
            if status in TERMINAL and not final:
                status, reason = self._sent_status
            start = min(self.sent_epoch, length, length if stored is None else stored)
            columns, names = run.history.copy(start, length), list(run.history.names)
            view, view_version = run.view, run.view_version
            inside, inside_version = run.inside, run.inside_version
            progress, layout, payloads = run.progress, run.layout, run.payloads
            settings, lr_changes = control.settings.values, run.lr_changes  # (read-only)
        step, steps_done = control.step_state(), control.steps_done
        state = (length, status, reason, view_version, inside_version, progress, layout, step,
                 steps_done)  # fmt: skip
        now = time.monotonic()
        if state == self._sent_state and now - self._sent_at < self.keepalive:
            return None
        self._sent_at = now
        message = {
            "run_id": run.id, "status": status, "reason": reason, "epoch": length,
            "start": start, "names": names, "rows": history_text(columns, names),
            "progress": progress, "elapsed": elapsed, "findings": list(run.findings),
            "layout": layout, "slice_features": settings.get("slice_features"),
            "domain": settings.get("domain"), "step": step, "steps_done": steps_done,
            "lr_changes": lr_changes,
        }  # fmt: skip
        self.sent_epoch, self._sent_state, self._sent_status = length, state, (status, reason)
        if self.encode and not run.watched:  # nobody would see them: the next watcher will
            self.sent_view = self.sent_inside = -1
            return message
        if view_version != self.sent_view and (payloads if self.encode else view) is not None:
            message["view"] = payloads.view_json(view) if self.encode else view
            self.sent_view = view_version
        if inside_version != self.sent_inside and inside is not None:
            message["inside"] = inside_json(inside) if self.encode else inside
            self.sent_inside = inside_version
        return message


# ------------------------------------------------------------------ the receiving side


class MessageFeed:
    """What applies a training process's messages (`RunRelay.message`, whichever transport
    brought them: the message queue, a training process's pipe) to this process's `Run` of it:
    new contiguous rows, progress, status (`RunControl.mirror`), step state, view, look inside,
    findings, the learning rates, a new grid. The one home of that for both transports."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.relayed_at: float | None = None  # monotonic time of the last message taken
        self.end_relayed = False  # a message said the run ended
        self.worker_layout: int | None = None  # the trainer's grid (`Run.layout`) last told
        self.step: list | None = None  # the trainer's step in progress, as last told
        self.steps_done = 0  # steps the trainer ended, as last told

    def relayed(self, message: dict[str, Any]) -> bool:
        """Take one message; True if it left a gap (rows after this run's end: the caller
        catches up) or says the run ended (then its status is left to the caller: the database
        confirms a relayed end, a pipe's last message is it)."""
        run = self.run
        with run.lock:
            control = run.control
            if control.ended:
                return False
            self.relayed_at = time.monotonic()
            gap = self._put_relayed_rows(message)
            self._relayout(message)
            viewed = message.get("view") is not None
            if viewed:
                view = message["view"]
                run.view = EncodedView(view) if isinstance(view, dict) else view
                run.view_version += 1
            if message.get("inside") is not None:
                inside = message["inside"]
                run.inside = decode_inside(inside) if isinstance(inside, dict) else inside
                run.inside_version += 1
            run.findings = message.get("findings") or []
            run.lr_changes = message.get("lr_changes") or run.lr_changes
            control.mirror(None, None, float(message["elapsed"]))  # the training seconds alone
            if not gap:  # else its status and progress go with epochs this process lacks yet
                run.progress = message.get("progress")
                self.step, self.steps_done = message.get("step"), message.get("steps_done", 0)
            if ended(message):
                self.end_relayed = True
            elif not gap:
                control.mirror(message["status"], message["reason"], float(message["elapsed"]))
        run.news.set()
        if viewed:
            run.viewed()
        return gap or self.end_relayed

    def _relayout(self, message: dict[str, Any]) -> None:
        """The trainer draws on a new grid (``slice_features``): new data and snapshots here."""
        layout, run = message.get("layout"), self.run
        if layout == self.worker_layout:
            return
        if self.worker_layout is not None:
            told = {"slice_features": message.get("slice_features")}
            if message.get("domain") is not None:
                told["domain"] = message["domain"]
            run.control.adopt(told)
            run.stale_payloads = True  # rebuilt on the new grid by the watchers' new snapshots
            run.layout += 1
        self.worker_layout = layout

    def _put_relayed_rows(self, message: dict[str, Any]) -> bool:
        """Append the message's rows that are new and contiguous; True on a gap."""
        names, start, history = message["names"], int(message["start"]), self.run.history
        if names != history.names:
            if history.length:
                return False  # not this run's columns: the database has the rows
            history.reset(names)
        rows = history_from_text(message["rows"], names) if start <= history.length else {}
        if not history.put(start, rows, len(rows[names[0]]) if names and rows else 0):
            return True
        self.run.epoch = history.length
        self._mark(history.length, float(message["elapsed"]))
        return False

    def _mark(self, epoch: int, elapsed: float) -> None:
        """The training seconds at an epoch (a feed that keeps them overrides this)."""


# ------------------------------------------------------------------ the web side


def _floats(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _histogram(encoded: dict[str, list]) -> Histogram:
    return Histogram.from_json(encoded)  # with its non-finite and zero counts


def decode_inside(encoded: dict[str, Any] | None) -> Inside | None:
    """A relayed look inside (`inside_json`) as an `Inside` (`inside_json` gives it back)."""
    if encoded is None:
        return None
    return Inside(
        axes=[_floats(axis) for axis in encoded["axes"]],
        neurons=[_floats(maps) for maps in encoded["neurons"]],
        indices=[np.asarray(shown, dtype=np.int64) for shown in encoded["indices"]],
        bias=[_floats(bias) for bias in encoded["bias"]],
        mean=[_floats(mean) for mean in encoded["mean"]],
        output=_floats(encoded["output"]),
        weights=[_floats(weights) for weights in encoded["weights"]],
        layers=[
            LayerStats(
                weights=_histogram(layer["weights"]),
                grads=_histogram(layer["grads"]),
                grad_norm=layer["grad_norm"],
                dead=layer["dead"],
                saturated=layer["saturated"],
            )
            for layer in encoded["layers"]
        ],
    )


class RelayManager(socketio.RedisManager):
    """A scaled web process's client manager (see the module docstring)."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, channel=CHANNEL, **options)
        self.sink: Callable[[dict[str, Any]], None] | None = None

    def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("namespace") != RELAY_NAMESPACE:
            super()._handle_emit(message)
            return
        sink, data = self.sink, message.get("data")
        if sink is None or message.get("event") != RELAY_EVENT or not isinstance(data, list):
            return
        for item in data:
            if isinstance(item, dict):
                sink(item)

    def emit(self, event: str, data: Any, namespace: str | None = None, room: Any = None,
             skip_sid: Any = None, callback: Any = None, to: Any = None,
             **kwargs: Any) -> Any:  # fmt: skip
        """`PubSubManager.emit`, except that an event for one of this process's own clients
        (a ``done``, an ``error``) goes to it directly, not through Redis to every process."""
        room = to or room
        if isinstance(room, str) and self.is_connected(room, namespace or "/"):
            kwargs["ignore_queue"] = True
        return super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid,
                            callback=callback, **kwargs)  # fmt: skip


def socketio_options(config: Any) -> dict[str, Any]:
    """Extra ``SocketIO(...)`` options of `create_app`: in scaled mode (a Redis URL in the app
    config or the environment) the `RelayManager` on that Redis; none in embedded mode."""
    redis_url = config.get("REDIS_URL") or os.environ.get("REDIS_URL") or None
    return {} if redis_url is None else {"client_manager": RelayManager(redis_url)}


def ended(message: dict[str, Any]) -> bool:
    """True if a relay message says its run ended."""
    return message.get("status") in TERMINAL
