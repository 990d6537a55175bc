"""What streaming costs the training, and whether the server's memory stays flat.

Run: ``.venv/bin/python benchmarks/streaming.py`` (about 2-3 minutes). Prints, in one run:

1. **Speed** — epochs/s of ``nn.train`` alone (this process) vs the same run (task ``sin``,
   ``hidden=[32, 32]``, defaults otherwise) inside the server with one watching Socket.IO client,
   with the looks inside the network off and on, and the frames/s that client received. Targets:
   ≤ 5 % slowdown (median) with them off, ≤ 10 % with them on, ≥ 18 frames/s.
2. **Many watchers** — one ``peaks`` run's epochs/s with 0, 15, 30 and 60 Socket.IO clients
   watching it (each frame is encoded once and the same text goes to every watcher). Target: at
   60 watchers ≥ 70 % of the speed with none.
3. **Memory** — the server's resident memory (VmRSS of the ``python -m app`` process) before,
   during (peak) and after three rounds of 8 concurrent 20,000-epoch runs with 4 watchers each.
   Target: growth during a round ≤ 100 MB, no growth from round to round (ended runs are read
   back from the database on demand: memory keeps only the last few).

The server always runs as a separate process (``python -m app --port <free port>``), so its
numbers are not mixed with the clients'.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import socketio  # noqa: E402
import websocket  # noqa: E402  (websocket-client, a python-socketio client dependency)

import network as nn  # noqa: E402
from app.data.tasks import TASKS, build_data  # noqa: E402
from app.runs.validation import validate_config  # noqa: E402
from network.datasets import Standardizer  # noqa: E402

SPEED_CONFIG = {"task": "sin", "hidden": [32, 32], "epochs": 4000}
WATCHED_CONFIG = {"task": "peaks", "epochs": 100_000}  # stopped once measured
WATCHER_COUNTS = (0, 15, 30, 60)
MEMORY_CONFIG = {"task": "sin", "hidden": [8], "epochs": 20_000, "samples": 20}


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``python -m app`` in a subprocess, on a free loopback port."""

    def __init__(self, max_active_runs: int = 4, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # --dev: one process (Werkzeug), whose memory, threads and children are measured
        command = [sys.executable, "-m", "app", "--port", str(self.port), "--dev"]
        command += ["--max-active-runs", str(max_active_runs), *extra]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{self.url}/api/tasks", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.05)

    def rss_mb(self) -> float:
        """Resident memory of the server process, from /proc/<pid>/status."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/task"))

    def children(self) -> list[int]:
        """The server's child processes (one training process per running run)."""
        pids: list[int] = []
        for task in os.listdir(f"/proc/{self.process.pid}/task"):
            try:
                text = Path(f"/proc/{self.process.pid}/task/{task}/children").read_text()
            except OSError:  # the thread ended meanwhile
                continue
            pids += [int(pid) for pid in text.split()]
        return pids

    def children_pss_mb(self) -> float:
        """The training processes' proportional set size (shared pages split among the
        processes sharing them, so forked copy-on-write pages are not counted twice)."""
        total = 0.0
        for pid in self.children():
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) / 1024
            except OSError:  # it ended meanwhile
                continue
        return total

    def start_run(self, config: dict[str, Any]) -> str:
        response = requests.post(f"{self.url}/api/runs", json=config, timeout=10)
        response.raise_for_status()
        return response.json()["id"]

    def status(self, run_id: str) -> dict[str, Any]:
        return requests.get(f"{self.url}/api/runs/{run_id}", timeout=10).json()

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Watcher:
    """A Socket.IO client watching one run; counts frames and waits for `done`."""

    def __init__(self, url: str, run_id: str) -> None:
        self.frames = 0
        self.done = threading.Event()
        self.client = socketio.Client(websocket_extra_options={"skip_utf8_validation": True})
        self.client.on("frame", self._frame)
        self.client.on("done", lambda _data: self.done.set())
        self.client.connect(url, transports=["websocket"], wait_timeout=10)
        self.client.emit("watch", {"run_id": run_id})

    def _frame(self, _data: Any) -> None:
        self.frames += 1

    def close(self) -> None:
        ws = self.client.eio.ws
        if ws is not None:  # skip websocket-client's 3 s wait for the close handshake
            close = ws.close
            ws.close = lambda *args, **kwargs: close(timeout=0.2)
        self.client.disconnect()


class RawWatcher:
    """A light watcher for the many-watchers measure: Engine.IO/Socket.IO by hand over one
    websocket, acknowledging frames from their packet header without decoding their JSON, so 60
    of them in this process do not starve the server of CPU (python-socketio clients decode
    every frame: at 60 of them that is a core's worth of JSON on this 2-core machine)."""

    def __init__(self, url: str, run_id: str) -> None:
        self.frames = 0
        self.done = threading.Event()
        # websocket-client checks the UTF-8 of every text frame in pure Python unless told not to:
        # at 300 frames a second that alone took a core of this 2-core machine from the server
        self.ws = websocket.create_connection(
            url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
            timeout=10,
            skip_utf8_validation=True,
        )
        self.ws.recv()  # Engine.IO open
        self.ws.send("40")
        self.ws.recv()  # Socket.IO connected
        self.ws.send("42" + json.dumps(["watch", {"run_id": run_id}]))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while not self.done.is_set():
                message = self.ws.recv()
                if message == "2":
                    self.ws.send("3")  # pong
                elif message.startswith("42"):
                    self._event(message)
        except (websocket.WebSocketException, OSError):
            self.done.set()

    def _event(self, message: str) -> None:
        bracket = message.index("[")
        ack = message[2:bracket]
        head = message[bracket : bracket + 12]
        if ack:
            self.ws.send(f"43{ack}[]")
        if head.startswith('["frame"'):
            self.frames += 1
        elif head.startswith('["done"'):
            self.done.set()

    def close(self) -> None:
        self.done.set()
        try:
            self.ws.close(timeout=0.2)
        except (websocket.WebSocketException, OSError):
            pass


def train_alone(config: dict[str, Any]) -> float:
    """epochs/s of ``nn.train`` on the same data, model and optimizer as the server builds."""
    config = validate_config(config)
    task = TASKS[config["task"]]
    data = build_data(task, config)
    x_scaler, y_scaler = Standardizer().fit(data.x_train), Standardizer().fit(data.y_train)
    model = nn.mlp([task.inputs, *config["hidden"], 1], activation=config["activation"],
                   seed=config["seed"])  # fmt: skip
    optimizer = nn.get_optimizer(config["optimizer"], model.parameters(), lr=config["lr"])
    epochs = nn.train(
        model,
        nn.get_loss(config["loss"]),
        optimizer,
        x_scaler.transform(data.x_train),
        y_scaler.transform(data.y_train),
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        validation=(x_scaler.transform(data.x_test), y_scaler.transform(data.y_test)),
        seed=config["seed"],
    )
    start = time.perf_counter()
    for _record in epochs:
        pass
    return config["epochs"] / (time.perf_counter() - start)


def train_in_server(server: Server, config: dict[str, Any]) -> tuple[float, float]:
    """(epochs/s, frames/s received) of one run in the server with one watching client."""
    run_id = server.start_run(config)
    # the light client (acks every frame, decodes none): on this 2-core machine a client that
    # decodes every frame's JSON competes with the server for the second core, and a server
    # thread descheduled while it holds the interpreter lock stalls the training thread too
    watcher = RawWatcher(server.url, run_id)
    if not watcher.done.wait(120):
        raise RuntimeError("the run did not end")
    status = server.status(run_id)
    watcher.close()
    if status["status"] != "finished":
        raise RuntimeError(f"run ended {status['status']}: {status['reason']}")
    return status["epoch"] / status["elapsed"], watcher.frames / status["elapsed"]


# --------------------------------------------------------------------------- benchmarks


def speed(repeats: int) -> None:
    """``nn.train`` alone vs the same run served (with one watcher) with the looks inside the
    network off and on. This VM's speed drifts by several per cent from one second to the next,
    so each served run is compared with the alone runs just before and just after it (their
    mean): alone, off, alone, on, alone, off, ... The median of those slowdowns is reported."""
    print(f"Speed: {SPEED_CONFIG} (adam lr 0.01, 500 samples, batch 32; the database on, as "
          "`make run` serves)")  # fmt: skip
    servers = {"off": Server(4, "--inside-interval", "0"), "on": Server(4)}
    alone: list[float] = [train_alone(SPEED_CONFIG)]
    served: dict[str, list[float]] = {"off": [], "on": []}
    slowdowns: dict[str, list[float]] = {"off": [], "on": []}
    frames: dict[str, list[float]] = {"off": [], "on": []}
    try:
        for _ in range(repeats):
            for name, server in servers.items():
                epochs_per_second, frames_per_second = train_in_server(server, SPEED_CONFIG)
                alone.append(train_alone(SPEED_CONFIG))
                served[name].append(epochs_per_second)
                frames[name].append(frames_per_second)
                slowdowns[name].append(100 * (1 - 2 * epochs_per_second / sum(alone[-2:])))
    finally:
        for server in servers.values():
            server.close()
    print(f"  nn.train alone              : best {max(alone):7.0f} epochs/s, "
          f"median {statistics.median(alone):7.0f}")  # fmt: skip
    for name, target in (("off", 5), ("on", 10)):
        print(f"  served, inside views {name:3s}    : best {max(served[name]):7.0f} epochs/s, "
              f"median {statistics.median(served[name]):7.0f}; slowdown median "
              f"{statistics.median(slowdowns[name]):5.1f} % (target ≤ {target} %; per repeat "
              f"{', '.join(f'{d:.1f}' for d in slowdowns[name])}); "
              f"{statistics.median(frames[name]):5.1f} frames/s (target ≥ 18)")  # fmt: skip


def memory(rounds: int, runs: int, watchers: int) -> None:
    print(f"\nMemory: {rounds} rounds of {runs} concurrent runs x {watchers} watchers, "
          f"{MEMORY_CONFIG}")  # fmt: skip
    server = Server(max_active_runs=runs)
    try:
        time.sleep(0.5)
        before = server.rss_mb()
        print(f"  server RSS before     : {before:6.1f} MB ({server.threads()} threads)")
        afters = []
        for round_number in range(1, rounds + 1):
            start_rss = server.rss_mb()
            threads = server.threads()
            print(f"  round {round_number} starts at {start_rss:6.1f} MB, {threads} threads")
            started = time.perf_counter()
            run_ids = [server.start_run(MEMORY_CONFIG) for _ in range(runs)]
            clients = [Watcher(server.url, run_id) for run_id in run_ids for _ in range(watchers)]
            peak, peak_threads, peak_children, most_children = start_rss, 0, 0.0, 0
            while not all(client.done.is_set() for client in clients):
                peak = max(peak, server.rss_mb())
                peak_threads = max(peak_threads, server.threads())
                peak_children = max(peak_children, server.children_pss_mb())
                most_children = max(most_children, len(server.children()))
                time.sleep(0.2)
                if time.perf_counter() - started > 300:
                    raise RuntimeError("round took too long")
            seconds = time.perf_counter() - started
            frames = sum(client.frames for client in clients)
            statuses = {server.status(run_id)["status"] for run_id in run_ids}
            for client in clients:
                client.close()
            time.sleep(1.0)  # let connection threads wind down (Engine.IO ping timers take 25 s)
            after = server.rss_mb()
            afters.append(after)
            print(f"  round {round_number}: during peak {peak:6.1f} MB "
                  f"(+{peak - start_rss:5.1f} MB over the round's start, {peak_threads} threads), "
                  f"after {after:6.1f} MB "
                  f"({server.threads()} threads); {seconds:5.1f} s, {frames} frames, "
                  f"runs {sorted(statuses)}; training processes: at most {most_children} at "
                  f"once, {peak_children:5.1f} MB PSS at the peak, "
                  f"{len(server.children())} left after")  # fmt: skip
        print(f"  round-to-round growth : {afters[-1] - afters[0]:+.1f} MB (after round {rounds} "
              f"vs after round 1); total vs before {afters[-1] - before:+.1f} MB (target: no "
              "growth; with a database, memory keeps only the last 8 ended runs)")  # fmt: skip
        if rounds >= 3:
            # round 1 (and often 2) also warm up the allocator's per-thread arenas and fill the
            # ended runs kept in memory
            per_round = (afters[-1] - afters[1]) / (rounds - 2)
            print(f"  growth per round after round 2: {per_round:+.2f} MB/round")
    finally:
        server.close()


def epochs_per_second(server: Server, run_id: str, seconds: float) -> float:
    """The run's training speed over `seconds` of wall time (from its status)."""
    first = server.status(run_id)
    time.sleep(seconds)
    last = server.status(run_id)
    return (last["epoch"] - first["epoch"]) / max(last["elapsed"] - first["elapsed"], 1e-9)


def many_watchers(seconds: float, *server_args: str) -> None:
    print(f"\nOne run, many watchers: {WATCHED_CONFIG}, epochs/s over {seconds:g} s with every "
          "watcher connected (target at 60: >= 70 % of solo)")  # fmt: skip
    server = Server(4, *server_args)
    try:
        solo = None
        for count in WATCHER_COUNTS:
            run_id = server.start_run(WATCHED_CONFIG)
            clients = [RawWatcher(server.url, run_id) for _ in range(count)]
            deadline = time.monotonic() + 30
            while any(client.frames == 0 for client in clients) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # all streaming
            speed = epochs_per_second(server, run_id, seconds)
            frames = [client.frames for client in clients]
            requests.post(f"{server.url}/api/runs/{run_id}/stop", timeout=10)
            for client in clients:
                client.close()
            solo = solo or speed
            received = f", {statistics.median(frames):.0f} frames each (median)" if frames else ""
            print(f"  {count:3d} watchers: {speed:7.0f} epochs/s, {100 * speed / solo:5.1f} % of "
                  f"solo{received}")  # fmt: skip
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9, help="speed measurements (default 9)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=8, help="concurrent runs per round")
    parser.add_argument("--watchers", type=int, default=4, help="clients per run")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--watch-seconds", type=float, default=5.0,
                        help="measuring window of the many-watchers benchmark (default 5)")
    parser.add_argument("--only-watchers", action="store_true",
                        help="run only the many-watchers benchmark")
    args = parser.parse_args()
    many_watchers(args.watch_seconds)
    if args.only_watchers:
        return
    speed(args.repeats)
    if not args.skip_memory:
        memory(args.rounds, args.runs, args.watchers)


if __name__ == "__main__":
    main()
