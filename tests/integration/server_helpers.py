"""Helpers for the server tests: REST shortcuts and a recording Socket.IO client."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import requests
import socketio
from waiting import wait_until  # noqa: F401  (the server tests import it from here)

# Fast but meaningful runs: sin with a small net converges in well under a second of training.
FAST = {"samples": 200, "epochs": 300}


def start_run(live: Any, **config: Any) -> str:
    """POST a run config; return the new run's id."""
    response = requests.post(f"{live.url}/api/runs", json=config, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def run_status(live: Any, run_id: str) -> dict[str, Any]:
    response = requests.get(f"{live.url}/api/runs/{run_id}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def train_another_run(live: Any) -> None:
    """Train a short run to its end: time passes on the server (e.g. for a paused run to show
    it trains no further) with no sleep in the test."""
    wait_status(live, start_run(live, task="sin", samples=50, epochs=200), "finished")


def wait_status(live: Any, run_id: str, statuses: set[str] | str, timeout: float = 90.0) -> dict:
    """Wait until the run's status is one of `statuses`; return the status document."""
    wanted = {statuses} if isinstance(statuses, str) else statuses

    def reached() -> dict | None:
        status = run_status(live, run_id)
        return status if status["status"] in wanted else None

    return wait_until(reached, timeout, f"run {run_id} to be {sorted(wanted)}")


def finite_everywhere(value: Any) -> bool:
    """True if no float anywhere in a decoded JSON value is NaN or infinite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_everywhere(item) for item in value.values())
    if isinstance(value, list):
        return all(finite_everywhere(item) for item in value)
    return True


class Watcher:
    """A python-socketio client on the websocket transport that records every event it gets.

    `frame_delay` makes it a slow client: its frame handler sleeps that long before returning
    (the ack goes out when the handler returns). python-socketio runs each handler in its own
    thread, so events are recorded on entry and histories are merged by epoch.
    """

    EVENTS = ("snapshot", "frame", "done", "error")

    def __init__(self, url: str, frame_delay: float = 0.0, auth: dict | None = None) -> None:
        self.events: list[tuple[str, Any]] = []
        self.condition = threading.Condition()
        self.frame_delay = frame_delay
        self.client = socketio.Client(
            reconnection=False, websocket_extra_options={"skip_utf8_validation": True}
        )
        for name in self.EVENTS:
            self.client.on(name, self._recorder(name))
        self.client.connect(url, transports=["websocket"], wait_timeout=10, auth=auth)

    def _recorder(self, name: str) -> Callable[[Any], None]:
        def record(data: Any) -> None:
            with self.condition:
                self.events.append((name, data))
                self.condition.notify_all()
            if name == "frame" and self.frame_delay:
                time.sleep(self.frame_delay)

        return record

    def watch(self, run_id: str) -> None:
        self.client.emit("watch", {"run_id": run_id})

    def unwatch(self, run_id: str) -> None:
        self.client.emit("unwatch", {"run_id": run_id})

    def disconnect(self) -> None:
        """Disconnect cleanly, without websocket-client's 3 s wait for the close handshake."""
        if self.client.connected:
            ws = self.client.eio.ws
            if ws is not None:
                close = ws.close
                ws.close = lambda *args, **kwargs: close(timeout=0.2)
            self.client.disconnect()

    def of(self, name: str, run_id: str | None = None) -> list[Any]:
        """Payloads of one event kind (for one run), in arrival order."""
        with self.condition:
            return [
                data
                for event, data in self.events
                if event == name and (run_id is None or data.get("run_id") == run_id)
            ]

    def wait_for(self, condition: Callable[[Watcher], Any], timeout: float = 30.0) -> None:
        with self.condition:
            if not self.condition.wait_for(lambda: condition(self), timeout):
                raise AssertionError(f"timed out; events so far: {self.summary()}")

    def wait_done(self, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for `done`, then for the snapshot and frames sent before it to be recorded.

        Each handler runs in its own thread, so under load `done` can be recorded before the
        snapshot or the final frame that the server sent ahead of it.
        """
        self.wait_for(lambda w: w.of("done", run_id), timeout)
        done = self.of("done", run_id)[0]
        self.wait_for(lambda w: w._caught_up(run_id, done.get("epoch") or 0), timeout)
        return done

    def latest(self, run_id: str) -> dict[str, Any]:
        """The snapshot or frame of the run with the highest epoch (a frame on a tie).

        A short run can end before `watch` is handled: then the snapshot alone carries the
        final prediction and no frame follows.
        """
        updates = self.of("snapshot", run_id) + self.of("frame", run_id)
        return max(reversed(updates), key=lambda update: update["epoch"])

    def _caught_up(self, run_id: str, epoch: int) -> bool:
        """The snapshot and every frame sent before `done` are recorded: the epochs reach the
        done's, and no frame is still on its way (each frame carries its number since its
        snapshot, `seq`: the numbers recorded are whole runs 1..n, one per snapshot; a frame
        handled late in its thread leaves a hole, even when the last one is in)."""
        snapshots = self.of("snapshot", run_id)
        if not snapshots:
            return False
        frames = self.of("frame", run_id)
        chunks = [snapshot["history"] for snapshot in snapshots] + [f["history"] for f in frames]
        if max((e for chunk in chunks for e in chunk["epoch"]), default=0) < epoch:
            return False
        seqs = Counter(frame["seq"] for frame in frames if "seq" in frame)
        return all(seqs[seq - 1] >= count for seq, count in seqs.items() if seq > 1)

    def history(self, run_id: str) -> dict[str, list]:
        """The last snapshot's history plus every later frame's points, ordered by epoch.

        Fails if any epoch arrived twice (each point must be sent to a client exactly once).
        """
        with self.condition:
            events = [(e, d) for e, d in self.events if d.get("run_id") == run_id]
        snapshots = [i for i, (event, _) in enumerate(events) if event == "snapshot"]
        last_snapshot = snapshots[-1]
        snapshot_history = events[last_snapshot][1]["history"]
        chunks = [snapshot_history]
        chunks += [
            data["history"] for event, data in events[last_snapshot + 1 :] if event == "frame"
        ]
        # handler threads may record a frame sent after the snapshot ahead of it: such a frame
        # starts past the snapshot's last epoch (older frames of an earlier watch cannot)
        snapshot_end = max(snapshot_history["epoch"], default=0)
        previous = snapshots[-2] + 1 if len(snapshots) > 1 else 0
        chunks += [
            data["history"]
            for event, data in events[previous:last_snapshot]
            if event == "frame" and data["history"]["epoch"][:1] > [snapshot_end]
        ]
        points: dict[int, dict[str, Any]] = {}
        for chunk in chunks:
            for index, epoch in enumerate(chunk["epoch"]):
                assert epoch not in points, f"epoch {epoch} sent twice"
                points[epoch] = {name: values[index] for name, values in chunk.items()}
        names = list(chunks[0])
        ordered = [points[epoch] for epoch in sorted(points)]
        return {name: [point[name] for point in ordered] for name in names}

    def summary(self) -> str:
        with self.condition:
            recent = self.events[-8:]
        return ", ".join(f"{event}:{data.get('status', '')}" for event, data in recent)
