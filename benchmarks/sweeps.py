"""Sweep throughput: runs per second for one sweep of 24 short runs, in scaled mode with 1, 2
and 4 workers and embedded with 1 to 4 compute slots, the same sweep each time.

Run: ``.venv/bin/python benchmarks/sweeps.py`` (a few minutes; needs redis-server and
PostgreSQL's server binaries for scaled mode, ``--embedded-only`` skips it). The sweep: ``sin``,
200 samples, 400 epochs at full speed, hidden ``[8] [32] [16, 16]`` × lr ``0.01 0.03`` × 4
seeds = 24 runs. Timed from the POST to the sweep's ``finished`` (polled every 50 ms), so the
scheduler's starts, the workers' queue and the database writes count, as a user sees them.
Scaled mode: one web process (sweep parallelism 8), redis-server and PostgreSQL on loopback
(`app.transports.cluster`); embedded: ``python -m app`` on SQLite, sweep parallelism = slots.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from app.transports.cluster import Cluster, Postgres, free_port, wait_for  # noqa: E402

SWEEP = {"base": {"task": "sin", "samples": 200, "epochs": 400},
         "vary": {"hidden": [[8], [32], [16, 16]], "lr": [0.01, 0.03]}, "seeds": 4}  # fmt: skip
RUNS = 24


def one_sweep(url: str) -> dict[str, float]:
    """Run the sweep on the server at `url`; runs per second and seconds."""
    begun = time.monotonic()
    answer = requests.post(f"{url}/api/sweeps", json=SWEEP, timeout=60)
    answer.raise_for_status()
    sweep_id = answer.json()["id"]
    assert answer.json()["runs"] == RUNS

    def finished() -> bool:
        state = requests.get(f"{url}/api/sweeps/{sweep_id}", timeout=30).json()
        return state["status"] == "finished"

    wait_for(finished, 600, "the sweep to finish")
    seconds = time.monotonic() - begun
    return {"runs/s": round(RUNS / seconds, 2), "seconds": round(seconds, 1)}


def embedded(database: str, slots: int) -> subprocess.Popen:
    """One embedded `python -m app` with `slots` compute slots."""
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


def run_embedded(slots_list: list[int]) -> None:
    for slots in slots_list:
        with tempfile.TemporaryDirectory() as folder:
            server = embedded(f"sqlite:///{folder}/runs.sqlite3", slots)
            try:
                print(f"embedded, {slots} slot(s)", one_sweep(server.url), flush=True)
            finally:
                server.kill()
                server.wait()


def run_scaled(workers_list: list[int]) -> None:
    postgres = Postgres()
    try:
        for workers in workers_list:
            cluster = Cluster(1, workers, database=postgres.url)
            try:
                print(f"scaled, {workers} worker(s)", one_sweep(cluster.urls[0]), flush=True)
            finally:
                cluster.stop()
    finally:
        postgres.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--embedded-only", action="store_true")
    args = parser.parse_args()
    run_embedded(args.slots)
    if not args.embedded_only:
        run_scaled(args.workers)


if __name__ == "__main__":
    main()
