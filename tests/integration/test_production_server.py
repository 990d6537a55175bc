"""The production server and the graceful end (issue 31, point 1): `python -m app` serves with
gunicorn (pages, API, a websocket client streaming a run), `--dev` with Werkzeug; SIGTERM to the
command's process ends a training run ``interrupted`` with its history and weights stored, its
watcher gets ``done``, the process and its worker exit; SIGTERM to `python -m app.cluster` leaves
none of the processes and servers it started behind.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import requests
from server_helpers import Watcher, run_status, start_run, wait_status, wait_until

from app.storage.store import RunStore
from app.transports.cluster import free_port

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]


def _environment() -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("DATABASE_URL", "REDIS_URL", "BACKPROP_DATA_DIR")}  # fmt: skip
    return {**environment, "PYTHONPATH": str(ROOT)}


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc's children lists)."""
    found, pending = set(), [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:  # gone meanwhile
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended


class Command:
    """A command of the app started in a subprocess; its output lines are collected."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, *args], cwd=cwd, env=_environment(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


class Server(Command):
    """`python -m app --port P --database-url sqlite:///...` (plus `flags`)."""

    def __init__(self, folder: Path, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = f"sqlite:///{folder / 'runs.sqlite3'}"
        super().__init__("-m", "app", "--port", str(self.port), "--database-url", self.database,
                         *flags, cwd=folder)  # fmt: skip
        wait_until(self.answers, 60, "the server to answer")

    def answers(self) -> bool:
        assert self.process.poll() is None, self.output()
        try:
            return requests.get(f"{self.url}/api/tasks", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False


@pytest.fixture(params=["gunicorn", "dev"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path, *(["--dev"] if request.param == "dev" else []))
    try:
        yield running
    finally:
        running.end()


def test_production_server_is_gunicorn_and_dev_is_werkzeug(server: Server) -> None:
    answer = requests.get(f"{server.url}/api/tasks", timeout=10)
    dev = "--dev" in server.process.args
    assert ("gunicorn" in answer.headers.get("Server", "").lower()) != dev, answer.headers
    if not dev:
        assert descendants(server.process.pid), "gunicorn serves from a worker process"


def test_serves_pages_api_and_streams_over_a_websocket(server: Server) -> None:
    assert requests.get(f"{server.url}/", timeout=10).status_code == 200
    assert requests.get(f"{server.url}/runs", timeout=10).status_code == 200
    assert requests.get(f"{server.url}/static/js/main.js", timeout=10).status_code == 200
    watcher = Watcher(server.url)  # the websocket transport only: it fails if no upgrade
    try:
        assert watcher.client.transport() == "websocket"
        run_id = start_run(server, task="sin", samples=100, epochs=200)
        watcher.watch(run_id)
        done = watcher.wait_done(run_id, timeout=60)
        assert done["status"] == "finished"
        assert watcher.history(run_id)["epoch"] == list(range(1, 201))
    finally:
        watcher.disconnect()


def test_sigterm_interrupts_runs_keeps_their_history_and_exits(server: Server) -> None:
    watcher = Watcher(server.url)
    run_id = start_run(server, task="sin", samples=200, epochs=100_000, epochs_per_second=50)
    watcher.watch(run_id)
    watcher.wait_for(lambda w: any(frame["epoch"] >= 3 for frame in w.of("frame", run_id)))
    below = descendants(server.process.pid)
    server.process.send_signal(signal.SIGTERM)  # the command's own process, not its group
    assert server.process.wait(60) == 0, server.output()
    assert "SIGKILL" not in server.output()  # gunicorn did not have to kill its worker
    done = watcher.wait_done(run_id, timeout=30)
    assert done["status"] == "interrupted", done
    assert not [pid for pid in below if alive(pid)], "the worker or a training process is left"

    store = RunStore(server.database)
    summary = store.summary(run_id)
    assert summary["status"] == "interrupted"
    assert "server shut down" in summary["reason"]
    epochs = summary["epoch"]
    assert epochs >= 3
    history = store.history(run_id, summary["columns"])
    assert history.length == epochs and not np.isnan(history.columns["train_loss"]).any()
    checkpoint = store.checkpoint(run_id)
    assert checkpoint is not None and checkpoint.epoch == epochs  # the weights, continuable
    watcher.disconnect()


def test_no_new_runs_while_shutting_down(live_server) -> None:
    live_server.app.extensions["runs"].shutdown(interrupt=True)
    answer = requests.post(f"{live_server.url}/api/runs", json={"task": "sin"}, timeout=10)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "shutting down" in answer.json()["error"]


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.skipif(not shutil.which("redis-server") and not os.environ.get("REQUIRE_REDIS"),
                    reason="redis-server is not installed")  # fmt: skip
def test_sigterm_to_the_cluster_leaves_nothing_behind(tmp_path: Path) -> None:
    cluster = Command("-m", "app.cluster", "--web", "1", "--workers", "1", cwd=tmp_path)
    try:
        wait_until(lambda: "training; Ctrl-C" in cluster.output() or cluster.process.poll(),
                   120, "the cluster to start")  # fmt: skip
        text = cluster.output()
        assert cluster.process.poll() is None, text
        ports = [int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", text)]
        assert len(ports) == 3, text  # redis, PostgreSQL, the web process
        web = SimpleNamespace(url=re.search(r"web process on (\S+)", text).group(1))
        wait_status(web, start_run(web, task="sin", samples=50, epochs=20), "finished", 60)
        below = descendants(cluster.process.pid)
        cluster.process.send_signal(signal.SIGTERM)
        assert cluster.process.wait(60) == 0, cluster.output()
        assert not [pid for pid in below if alive(pid)], cluster.output()
        assert all(_refused(port) for port in ports)  # PostgreSQL runs detached: by its port
    finally:
        cluster.end()


@pytest.mark.skipif(not shutil.which("redis-server") and not os.environ.get("REQUIRE_REDIS"),
                    reason="redis-server is not installed")  # fmt: skip
def test_sigterm_to_a_worker_interrupts_its_run(tmp_path: Path) -> None:
    from app.transports.cluster import Cluster

    cluster = Cluster(webs=1, workers=1, log_dir=str(tmp_path))
    try:
        web = SimpleNamespace(url=cluster.urls[0])
        run_id = start_run(web, task="sin", samples=100, epochs=100_000, epochs_per_second=20)
        wait_until(lambda: run_status(web, run_id)["epoch"] >= 3, 60, "the run to train")
        worker = cluster.workers[0]
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
        status = wait_status(web, run_id, "interrupted", 30)
        assert "server shut down" in status["reason"] and status["epoch"] >= 3
    finally:
        cluster.stop()
