"""Rendered updates per second of the dashboard in headless Chromium.

Starts `python -m app` on a free port, opens the dashboard, trains a 1-D run (sin), a 50x50
surface run (saddle) and a classifier (moons: 50x50 decision regions over 1600 points), and counts
the animation frames that actually drew new fit data (the page's ``window.studio.stats.dataDraws``)
over a few seconds of each, at 1440 x 900, full speed, looks inside on. Targets: >= 27/s for
1-D, >= 20/s for the regions, >= 10/s for the surface, and the page takes frames at >= 90 % of
the rate a light client (Socket.IO by hand, benchmarks/streaming.py) gets from the same run.
Prints each view's updates per second and main-thread milliseconds per update (the page's
``window.studio.stats.views``, Performance API measures).

    python benchmarks/browser.py [--seconds 5] [--screenshot docs/screenshot.png]
                                 [--classification-screenshot docs/classification.png]

`--screenshot` also writes the README picture: an egg-crate (sin x·cos y) run part-way through
training; `--classification-screenshot` a two-moons run whose boundary is still bending.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # streaming.RawWatcher, the light client
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TARGETS = {"sin": 27.0, "moons": 20.0, "saddle": 10.0}
KEEP_UP = 0.9  # the page handles frames at >= 90 % of the light client's rate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    """`python -m app` in a child process; returns once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tasks", timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the app did not start")


def post(url: str) -> None:
    request = urllib.request.Request(url, data=b"", method="POST")
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except OSError:
        pass


def view_figures(before: dict[str, Any], after: dict[str, Any], elapsed: float) -> dict[str, Any]:
    """Per view (the page's `stats.views`): updates per second and main-thread ms per update
    over the window."""
    figures = {}
    for name, end in after.get("views", {}).items():
        start = before.get("views", {}).get(name, {"updates": 0, "ms": 0.0})
        updates = end["updates"] - start["updates"]
        figures[name] = {
            "updates_per_s": updates / elapsed,
            "ms_per_update": (end["ms"] - start["ms"]) / max(updates, 1),
        }
    return figures


def measure(page: Any, base: str, path: str, seconds: float) -> dict[str, Any]:
    """Train the run at `path` and count fit redraws with new data over `seconds`, beside a light
    client (Socket.IO by hand, acknowledging every frame at once) watching the same run."""
    from streaming import RawWatcher

    page.goto(base + path)
    page.wait_for_function("window.studio && window.studio.state.task !== null")
    page.click("#train")
    page.wait_for_function(
        "window.studio.state.haveSnapshot && window.studio.state.status === 'running'"
        " && window.studio.stats.messages > 5",
        timeout=30_000,
    )
    run_id = page.evaluate("window.studio.state.runId")
    light = RawWatcher(base, run_id)
    page.wait_for_timeout(500)  # the light client's snapshot is in, its frames flow
    read = "({...window.studio.stats, views: structuredClone(window.studio.stats.views),"
    read += (
        " epoch: Number(document.getElementById('status').dataset.epoch), now: performance.now()})"
    )
    before = page.evaluate(read)
    light_before = light.frames
    page.wait_for_timeout(seconds * 1000)  # the measurement window itself
    after = page.evaluate(read)
    light_frames = light.frames - light_before
    post(f"{base}/api/runs/{run_id}/stop")
    light.done.set()
    light.ws.close()
    elapsed = (after["now"] - before["now"]) / 1000
    draws = after["dataDraws"] - before["dataDraws"]
    renders = after["renders"] - before["renders"]
    return {
        "updates_per_s": draws / elapsed,
        "frames_received_per_s": (after["messages"] - before["messages"]) / elapsed,
        "light_client_frames_per_s": light_frames / elapsed,
        "ms_per_render": (after["renderMs"] - before["renderMs"]) / max(renders, 1),
        "epochs_per_s": (after["epoch"] - before["epoch"]) / elapsed,
        "views": view_figures(before, after, elapsed),
    }


def screenshot(page: Any, base: str, path: Path) -> None:
    """An egg-crate run part-way through training, for the README."""
    page.goto(base + "/fit/sincos?hidden=32,32,32&epochs=1000&noise=0.05&lr=0.005")
    page.wait_for_function("window.studio && window.studio.state.task !== null")
    page.click("#train")
    page.wait_for_function(
        "Number(document.getElementById('status').dataset.epoch) >= 60", timeout=90_000
    )
    page.mouse.move(0, 0)
    page.wait_for_function("window.studio.stats.renders > 0 && !window.studio.fitView.busy")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    run_id = page.evaluate("window.studio.state.runId")
    post(f"{base}/api/runs/{run_id}/stop")


def classification_screenshot(page: Any, base: str, path: Path) -> None:
    """Two moons part-way through training, the boundary still bending.

    Moons trains in a fraction of a second here, so the picture uses a learning rate small
    enough to stretch the interesting part (test accuracy climbing past 94 %) over a few seconds.
    """
    page.goto(base + "/fit/moons?lr=0.00003&epochs=3000")
    page.wait_for_function("window.studio && window.studio.state.task !== null")
    page.click("#train")
    page.wait_for_function(
        "(() => { const test = window.studio.accuracyChart.history.test;"
        " return test.length > 0 && test[test.length - 1] >= 94; })()",
        timeout=90_000,
    )
    page.mouse.move(0, 0)
    page.wait_for_function("window.studio.stats.renders > 0 && !window.studio.fitView.busy")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    run_id = page.evaluate("window.studio.state.runId")
    post(f"{base}/api/runs/{run_id}/stop")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measurement window per run")
    parser.add_argument("--screenshot", type=Path, help="also write a README screenshot here")
    parser.add_argument(
        "--classification-screenshot", type=Path, help="also write a moons screenshot here"
    )
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict[str, float]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            for task in TARGETS:  # full-speed runs, looks inside on (the server's default)
                path = f"/fit/{task}?epochs=100000&speed=full"
                results[task] = measure(page, base, path, args.seconds)
            if args.screenshot:
                screenshot(page, base, args.screenshot)
            if args.classification_screenshot:
                classification_screenshot(page, base, args.classification_screenshot)
            browser.close()
    finally:
        server.terminate()  # a graceful end: open sockets may keep it up to its drain time
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()

    ok = True
    for name, figures in results.items():
        target = TARGETS[name]
        keeps_up = (
            figures["frames_received_per_s"] >= KEEP_UP * figures["light_client_frames_per_s"]
        )
        passed = figures["updates_per_s"] >= target and keeps_up
        ok &= passed
        print(
            f"{name:7s} {figures['updates_per_s']:5.1f} rendered updates/s (target >= {target:g})"
            f"  frames in {figures['frames_received_per_s']:5.1f}/s"
            f" (light client {figures['light_client_frames_per_s']:5.1f}/s)"
            f"  {figures['ms_per_render']:5.1f} ms/render"
            f"  {figures['epochs_per_s']:7.1f} epochs/s  {'ok' if passed else 'BELOW TARGET'}"
        )
        for view, numbers in sorted(figures["views"].items()):
            print(
                f"    {view:9s} {numbers['updates_per_s']:5.1f} updates/s"
                f"  {numbers['ms_per_update']:6.2f} ms main thread per update"
            )
    print(json.dumps(results))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
