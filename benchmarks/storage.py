"""What storing runs costs the training, and how many bytes an epoch takes in the database.

Run: ``.venv/bin/python benchmarks/storage.py`` (about a minute; PostgreSQL is measured when its
server binaries are installed, on a throwaway cluster). For each database — none
(``--database-url none``), SQLite (a file, WAL) and PostgreSQL — it serves ``python -m app`` in a
subprocess, trains the same run (task ``sin``, ``hidden=[32, 32]``, 4000 epochs) several times,
interleaved with the database off, and prints:

- **epochs/s** of the served run (epochs / the run's training seconds), the median of the
  repeats, and the slowdown against no database. Target: < 5 %.
- **writer share**: the time the recorder's writer spends per write (a second's worth of
  epochs, at the served run's pace, plus a checkpoint every 10th write), measured in this process
  — time the server spends beside the training (runs train in processes of their own; with
  ``--training-threads`` it is time the training thread loses under the GIL), so it bounds the
  slowdown even when the machine is too noisy for the epochs/s comparison to resolve 5 %.
- **bytes per epoch** stored: the history chunks' payload (zlib-compressed float32 columns), and
  for SQLite the growth of the database file per epoch over all runs (rows, indexes,
  checkpoints included).

- **the film** (replay, issue 28; ``--film-only`` prints only this): bytes per run of the
  stored frames for the default sin and moons runs and a 784-50-50-10 net, and what keeping the
  film costs the training process: the time of `Film.offer` (every epoch; a weights copy at the
  planned ones) and of pickling the checkpoints that carry the frames to the server, as a share
  of the training time, beside an interleaved A/B of training with and without the film.
  Target: ≤ 2 %.

A separate file from benchmarks/streaming.py (which measures streaming to watchers) so the two
can change independently.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402
import requests  # noqa: E402

from app.storage.store import RunStore  # noqa: E402
from app.training.film import encode_frame  # noqa: E402

CONFIG = {"task": "sin", "hidden": [32, 32], "epochs": 4000}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``python -m app --database-url URL`` on a free loopback port."""

    def __init__(self, database: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", port, "--database-url", database],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/tasks", timeout=2).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):  # gunicorn's worker is booting
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def train(self) -> tuple[str, float]:
        """One run to its end: (id, epochs per second of training)."""
        run_id = requests.post(f"{self.url}/api/runs", json=CONFIG, timeout=10).json()["id"]
        while True:
            status = requests.get(f"{self.url}/api/runs/{run_id}", timeout=10).json()
            if status["status"] not in ("queued", "running"):
                return run_id, status["epoch"] / status["elapsed"]
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def measure(databases: dict[str, str], repeats: int) -> float:
    servers = {name: Server(url) for name, url in databases.items()}
    speeds: dict[str, list[float]] = {name: [] for name in databases}
    runs: dict[str, list[str]] = {name: [] for name in databases}
    try:
        for name in databases:
            servers[name].train()  # warm-up (imports, first allocations)
        for _ in range(repeats):  # interleaved, so drifts of the machine hit all alike
            for name, server in servers.items():
                run_id, speed = server.train()
                speeds[name].append(speed)
                runs[name].append(run_id)
    finally:
        for server in servers.values():
            server.stop()
    base = statistics.median(speeds["none"])
    print(f"{'database':<12} {'epochs/s':>10} {'slowdown':>9} {'payload B/epoch':>16}")
    for name, url in databases.items():
        median = statistics.median(speeds[name])
        payload = ""
        if url != "none":
            store = RunStore(url)
            stored = sum(store.stored_bytes(run_id) for run_id in runs[name])
            payload = f"{stored / (CONFIG['epochs'] * len(runs[name])):.1f}"
            store.close()
        print(f"{name:<12} {median:>10.0f} {100 * (1 - median / base):>8.1f}% {payload:>16}")
    return max(statistics.median(values) for values in speeds.values())


def writer_share(url: str, epochs_per_second: float, writes: int = 30) -> float:
    """Seconds the recorder spends per second of training (see the module docstring)."""
    from app.data.tasks import settle_config
    from app.runs.run import History, Run
    from app.runs.validation import validate_run
    from app.storage.recorder import Recorder
    from app.training.session import TrainingSession

    config, task = validate_run({**CONFIG, "epochs": 100_000}, None)
    run = Run("bench" + str(time.time_ns()), task, settle_config(task, config))
    session = TrainingSession(task, run.config)
    store = RunStore(url)
    recorder = Recorder(store, interval=3600)
    recorder.track(run)
    run.history = History(run.epochs, False, session.history_columns())
    per_write = max(1, int(epochs_per_second))
    record = {"train_loss": 0.1, "test_loss": 0.2, "test_r2": 0.9, "lr": 0.01, "batch_size": 32,
              "l1": 0.0, "weight_decay": 0.0}  # fmt: skip
    spent = 0.0
    for write in range(writes):
        records = []
        for _ in range(per_write):
            record["train_loss"] *= 0.9999
            records.append(dict(record))
        run.publish(None, None, records)
        if write % 10 == 0:
            run.checkpoint = session.checkpoint()
        started = time.perf_counter()
        recorder.flush()
        spent += time.perf_counter() - started
    store.close()
    return spent / writes


def _session(overrides: dict) -> Any:
    from app.config.validation import validate_run

    from app.data.tasks import settle_config
    from app.training.session import TrainingSession

    config, task = validate_run(overrides, None)
    return TrainingSession(task, settle_config(task, config))


def _train_timed(overrides: dict, film: bool) -> tuple[float, float, Any]:
    """Train a run to its end in this process: (training seconds, seconds in `Film.offer`, the
    session). Without `film`, the session keeps no frame (an empty plan)."""
    from app.training.film import Film

    session = _session(overrides)
    if not film:
        session.film = Film([])
    offered = [0.0]
    offer = session.film.offer

    def timed_offer(epoch: int, model: Any) -> None:
        began = time.perf_counter()
        offer(epoch, model)
        offered[0] += time.perf_counter() - began

    session.film.offer = timed_offer
    began = time.perf_counter()
    epochs = session.config["epochs"]
    while session.epoch < epochs:  # as the run loop trains: slices, each epoch's record kept
        session.train_slice(None, time.perf_counter() + 3600, epochs, True)
    return time.perf_counter() - began, offered[0], session


def _film_bytes(session: Any) -> tuple[int, int]:
    """(frames, bytes) of a finished session's film as stored (`app.storage.film.new_frames`)."""
    from app.storage.film import new_frames

    frames = new_frames(session.checkpoint(), set(), final=True)
    return len(frames), sum(len(frame["data"]) for frame in frames)


def film_figures(repeats: int) -> None:
    """Print the film's bytes per run and its training cost (see the module docstring)."""
    import pickle

    import network as nn
    from app.training.film import Film, plan

    cases = {"sin (default)": {"task": "sin"}, "moons (default)": {"task": "moons"}}
    print(f"{'run':<26} {'frames':>6} {'bytes/run':>11} {'film work':>10} {'A/B slowdown':>13}")
    for name, overrides in cases.items():
        _train_timed(overrides, True)  # warm-up
        with_film, without, shares = [], [], []
        for _ in range(repeats):  # interleaved, so drifts of the machine hit both alike
            seconds, offered, session = _train_timed(overrides, True)
            checkpoint = session.checkpoint()
            began = time.perf_counter()
            pickle.dumps(checkpoint)  # the final checkpoint carries the frames to the server
            pickled = time.perf_counter() - began
            with_film.append(seconds)
            shares.append((offered + pickled) / seconds)
            without.append(_train_timed(overrides, False)[0])
        frames, size = _film_bytes(session)
        slowdown = statistics.median(with_film) / statistics.median(without) - 1
        print(f"{name:<26} {frames:>6} {size:>11,} {100 * statistics.median(shares):>9.2f}% "
              f"{100 * slowdown:>12.1f}%")
    sizes = [784, 50, 50, 10]
    model = nn.mlp(sizes, activation="relu", seed=0)
    for epochs in (30, 100):
        chosen = plan(sizes, epochs)
        film = Film(chosen.epochs)
        for epoch in chosen.epochs:
            for parameter in model.parameters():  # training moves the weights a little
                parameter.data += np.float32(0.01) * parameter.data
            film.offer(epoch, model)
        frames, scaler = film.copy(), (np.zeros(784, np.float32), np.ones(784, np.float32))
        size = sum(len(encode_frame(frames.state(epoch), scaler, None))
                   for epoch in frames.epochs())
        began = time.perf_counter()
        pickle.dumps(film.copy())
        pickled = time.perf_counter() - began
        print(f"{'784-50-50-10, ' + str(epochs) + ' epochs':<26} {len(chosen.epochs):>6} "
              f"{size:>11,}   (pickling its film: {1000 * pickled:.1f} ms a checkpoint)")
        if chosen.note:
            print(f"  status: {chosen.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--film-only", action="store_true", help="only the film's figures")
    args = parser.parse_args()
    film_figures(args.repeats)
    if args.film_only:
        return
    folder = Path(tempfile.mkdtemp(prefix="bpst-bench-"))
    sqlite_path = folder / "runs.sqlite3"
    databases = {"none": "none", "sqlite": f"sqlite:///{sqlite_path}"}
    try:
        import postgres_helpers

        databases["postgresql"] = postgres_helpers.cluster().new_database()
    except BaseException as error:  # pytest's skip is a BaseException
        print(f"(PostgreSQL not measured: {error})")
    speed = measure(databases, args.repeats)
    for name, url in databases.items():
        if url != "none":
            share = writer_share(url, speed)
            print(f"{name}: the writer spends {1000 * share:.2f} ms per second of training "
                  f"({100 * share:.2f} % at {speed:.0f} epochs/s)")
    size = os.path.getsize(sqlite_path) + sum(
        os.path.getsize(p) for p in folder.glob("runs.sqlite3-*") if p.is_file()
    )
    epochs = CONFIG["epochs"] * (args.repeats + 1)
    print(f"SQLite file (incl. WAL) per epoch, all included: {size / epochs:.1f} B")


if __name__ == "__main__":
    main()
