"""Scaled mode under load, against the embedded server on the same load.

Run: ``.venv/bin/python benchmarks/scaleout.py`` (about 2 minutes; needs redis-server and
PostgreSQL's server binaries). Prints, for scaled mode (two web processes, `--workers` workers,
redis-server and PostgreSQL on loopback, `app.transports.cluster`) and for one embedded ``python -m
app``:

1. **Streaming** — N Socket.IO clients (24, 48; in scaled mode half on each web process) watch
   8 paced runs (``sin``, 150 epochs at 25 epochs/s, 3 clients or more per run). Per client:
   epochs lost or repeated (every epoch 1..150 must arrive exactly once over snapshot + frames;
   the order the client handled them in is counted apart: python-socketio's client handles each
   event in its own thread, so on a loaded machine two frames may be handled out of order),
   ``done`` events (exactly one). Frame latency: a frame's arrival time minus the time its newest
   epoch was trained. The training time of epoch e is ``T0 + (e - 1) / 25`` (the pacer's
   schedule), with ``T0 = ended - elapsed`` from the run's stored row (the wall time it started
   running; every process is on this machine's clock).
2. **Throughput** — 16 unpaced runs (``sin``, 2000 epochs, 200 samples) created at once: runs per
   second, and per worker (embedded: per compute slot, MAX_ACTIVE_RUNS=4).

Scaled mode runs with 2 and then 4 workers (``--workers 2 4``); the embedded server streams with
8 compute slots (a paced run then never waits for a slot, so ``ended - elapsed`` is its start)
and measures throughput with the default 4.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import socketio  # noqa: E402

from app.transports.cluster import Cluster, Postgres, free_port, wait_for  # noqa: E402

RUNS, EPOCHS, PACE = 8, 150, 25
PACED = {"task": "sin", "samples": 200, "epochs": EPOCHS, "epochs_per_second": PACE}


class Client:
    """A Socket.IO client watching one run; records every epoch and frame arrival times."""

    def __init__(self, url: str, run_id: str) -> None:
        self.run_id = run_id
        self.epochs: list[int] = []
        self.arrivals: list[tuple[float, int]] = []  # (wall time, newest epoch of the frame)
        self.done = 0
        self.finished = threading.Event()
        self.sio = socketio.Client(websocket_extra_options={"skip_utf8_validation": True})
        self.sio.on("snapshot", self._snapshot)
        self.sio.on("frame", self._frame)
        self.sio.on("done", self._done)
        self.sio.connect(url, transports=["websocket"], wait_timeout=10)
        self.sio.emit("watch", {"run_id": run_id})

    def _snapshot(self, data: dict) -> None:
        self.epochs += data["history"]["epoch"]

    def _frame(self, data: dict) -> None:
        now = time.time()
        epochs = data["history"]["epoch"]
        self.epochs += epochs
        if epochs:
            self.arrivals.append((now, epochs[-1]))

    def _done(self, _data: dict) -> None:
        self.done += 1
        self.finished.set()

    def close(self) -> None:
        self.sio.disconnect()


def create(url: str, config: dict) -> str:
    answer = requests.post(f"{url}/api/runs", json=config, timeout=30)
    answer.raise_for_status()
    return answer.json()["id"]


def started_at(url: str, run_ids: list[str]) -> dict[str, float]:
    """Each run's wall time of starting to run: ended - elapsed (stored row)."""
    rows = {row["id"]: row for row in requests.get(f"{url}/api/runs", timeout=30).json()}
    return {run_id: rows[run_id]["ended"] - rows[run_id]["elapsed"] for run_id in run_ids}


def streaming(urls: list[str], clients_count: int) -> dict[str, Any]:
    """The streaming load (see the module docstring) against these web processes."""
    run_ids = [create(urls[n % len(urls)], {**PACED, "seed": n}) for n in range(RUNS)]
    clients = [
        Client(urls[n % len(urls)], run_ids[n % RUNS]) for n in range(clients_count)
    ]
    for client in clients:
        client.finished.wait(120)
    time.sleep(1.0)  # anything after done would show as a second done
    wait_for(lambda: all(s is not None for s in started_at(urls[0], run_ids).values()), 30, "rows")
    start = started_at(urls[0], run_ids)
    latencies, bad, unordered, dones = [], 0, 0, []
    for client in clients:
        # exactly once; the order may differ (python-socketio runs each handler in a thread)
        bad += sorted(client.epochs) != list(range(1, EPOCHS + 1))
        unordered += client.epochs != sorted(client.epochs)
        dones.append(client.done)
        t0 = start[client.run_id]
        latencies += [now - (t0 + (epoch - 1) / PACE) for now, epoch in client.arrivals]
        client.close()
    latencies.sort()
    return {
        "clients": clients_count,
        "clients with lost/repeated epochs": bad,
        "clients that handled epochs out of order": unordered,
        "done per client": sorted(set(dones)),
        "frames": len(latencies),
        "p50 ms": round(1000 * latencies[len(latencies) // 2]),
        "p99 ms": round(1000 * latencies[int(len(latencies) * 0.99)]),
    }


def throughput(urls: list[str], trainers: int) -> dict[str, Any]:
    """16 unpaced runs at once: runs per second, and per trainer (worker or slot)."""
    begun = time.monotonic()
    config = {"task": "sin", "samples": 200, "epochs": 2000}
    run_ids = [create(urls[n % len(urls)], {**config, "seed": n}) for n in range(16)]

    def all_ended() -> bool:
        rows = requests.get(f"{urls[0]}/api/runs", params={"status": "ended"}, timeout=30).json()
        return {row["id"] for row in rows} >= set(run_ids)

    wait_for(all_ended, 300, "the runs to end")
    seconds = time.monotonic() - begun
    return {"runs/s": round(16 / seconds, 2), "runs/s per trainer": round(16 / seconds / trainers,
                                                                        2)}  # fmt: skip


def embedded(database: str, slots: int) -> subprocess.Popen:
    """One embedded `python -m app` (training threads in the process, `slots` at once)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--port", str(port), "--database-url", database,
         "--max-active-runs", str(slots)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: requests.get(f"{url}/api/tasks", timeout=2).ok, 60, url)
    process.url = url  # type: ignore[attr-defined]
    return process


def run_embedded() -> None:
    """The same load on one embedded server: 8 slots for the streaming (no paced run ever waits
    for a slot, so ``ended - elapsed`` is its start), the default 4 for the throughput."""
    for slots in (8, 4):
        with tempfile.TemporaryDirectory() as folder:
            server = embedded(f"sqlite:///{folder}/runs.sqlite3", slots)
            try:
                if slots == 8:
                    for count in (24, 48):
                        print("embedded", streaming([server.url], count), flush=True)
                else:
                    print("embedded, 4 slots", throughput([server.url], 4), flush=True)
            finally:
                server.kill()
                server.wait()


def run_scaled(workers: int) -> None:
    """The load on two web processes and `workers` workers."""
    postgres = Postgres()
    try:
        cluster = Cluster(2, workers, database=postgres.url)
        try:
            for count in (24, 48):
                print(f"scaled, {workers} workers", streaming(cluster.urls, count), flush=True)
            print(f"scaled, {workers} workers", throughput(cluster.urls, workers), flush=True)
        finally:
            cluster.stop()
    finally:
        postgres.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4],
                        help="workers in scaled mode (each count is one round)")  # fmt: skip
    parser.add_argument("--only", choices=("scaled", "embedded"), default=None)
    args = parser.parse_args()
    if args.only != "embedded":
        for workers in args.workers:
            run_scaled(workers)
    if args.only != "scaled":
        run_embedded()


if __name__ == "__main__":
    main()
