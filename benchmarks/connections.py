"""What abandoned connections cost the server (issue 24, point 8), and that it gets it back.

Run: ``.venv/bin/python benchmarks/connections.py [--watchers 400] [--websockets 3000]``
(about 2-3 minutes). Prints:

1. **Abandoned polling watchers** — the server's resident memory (VmRSS of the ``python -m app``
   process) before, at its peak and 5, 30, 60 and 90 s after `--watchers` long-polling Socket.IO
   clients each asked to watch a live run and then never polled again. Targets (300 watchers):
   peak at most +150 MB, back within 40 MB of the start within 90 s.
2. **Closed websockets** — the server's thread count before, and 1 and 5 s after `--websockets`
   websocket connections were opened (Socket.IO connect) and closed one after the other.
   Target (1,000 connections): at most 50 more threads 5 s after the last close.

The server runs as a separate process (`streaming.Server`), so its numbers are its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
import websocket  # noqa: E402  (websocket-client)
from streaming import Server  # noqa: E402


def abandoned_watcher(url: str, run_id: str) -> None:
    """A long-polling Socket.IO client that connects, watches `run_id` and never polls again."""
    session = requests.Session()
    base = f"{url}/socket.io/?EIO=4&transport=polling"
    opened = session.get(base, timeout=10).text
    sid = json.loads(opened[opened.index("{") :])["sid"]
    session.post(f"{base}&sid={sid}", data="40", timeout=10)
    session.get(f"{base}&sid={sid}", timeout=10)  # the connect answer
    watch = json.dumps(["watch", {"run_id": run_id}])
    session.post(f"{base}&sid={sid}", data=f"42{watch}", timeout=10)
    session.close()


def closed_websocket(url: str) -> None:
    """A websocket Socket.IO connection opened, connected and closed at once."""
    address = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    connection = websocket.create_connection(address, timeout=10, skip_utf8_validation=True)
    connection.recv()  # Engine.IO open
    connection.send("40")
    connection.recv()  # Socket.IO connect answer
    connection.close()


def measure_watchers(count: int) -> dict[str, float]:
    """Memory of a server whose `count` polling watchers of a live run were abandoned."""
    server = Server(1, "--database-url", "none")
    try:
        # slow motion: frames flow at the full rate while the run's own history stays small
        # (a full-speed run's history grows the server by ~170 MB in 90 s by itself)
        live = {"task": "sin", "epochs": 100_000, "samples": 2000, "epochs_per_second": 20}
        run_id = server.start_run(live)
        time.sleep(2)  # the run is training, its frames flowing
        start = server.rss_mb()
        peak = start
        for _ in range(count):
            abandoned_watcher(server.url, run_id)
            peak = max(peak, server.rss_mb())
        figures = {"start": start}
        began = time.monotonic()
        for mark in (5, 30, 60, 90):
            while time.monotonic() - began < mark:
                peak = max(peak, server.rss_mb())
                time.sleep(0.25)
            figures[f"after {mark} s"] = server.rss_mb()
        figures["peak"] = peak
        return figures
    finally:
        server.close()


def measure_websockets(count: int) -> dict[str, float]:
    """Threads of a server after `count` websocket connections were opened and closed."""
    server = Server(1, "--database-url", "none")
    try:
        start = server.threads()
        for _ in range(count):
            closed_websocket(server.url)
        figures = {"start": start}
        began = time.monotonic()
        for mark in (1, 5):
            time.sleep(max(0.0, began + mark - time.monotonic()))
            figures[f"after {mark} s"] = server.threads()
        return figures
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=400)
    parser.add_argument("--websockets", type=int, default=3000)
    args = parser.parse_args()
    memory = measure_watchers(args.watchers)
    print(f"{args.watchers} abandoned polling watchers of a live run (server VmRSS, MB):")
    print("  " + ", ".join(f"{name} {value:.0f}" for name, value in memory.items()))
    print(f"  peak +{memory['peak'] - memory['start']:.0f} MB, "
          f"after 90 s +{memory['after 90 s'] - memory['start']:.0f} MB")  # fmt: skip
    threads = measure_websockets(args.websockets)
    print(f"{args.websockets} websockets opened and closed (server threads):")
    print("  " + ", ".join(f"{name} {value:.0f}" for name, value in threads.items()))


if __name__ == "__main__":
    main()
