"""kill -9 of a real `python -m app` server mid-run, then a restart on the same database (SQLite
and PostgreSQL): every run is listed, finished ones whole, the running one ``interrupted`` with
its history up to about the last second, and it can be continued from its last saved weights."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from server_helpers import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import postgres_helpers  # noqa: E402

from app.storage.store import RunStore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`python -m app` in a subprocess on a free port."""

    def __init__(self, database: str, *flags: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(self.port), "--database-url", database,
             *flags],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._up, timeout=60, what="the server to answer")

    def _up(self) -> bool:
        assert self.process.poll() is None, "the server exited"
        try:
            return requests.get(f"{self.url}/api/tasks", timeout=2).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # gunicorn: its worker is booting
            return False

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(f"{self.url}{path}", params=params, timeout=30)

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return requests.post(f"{self.url}{path}", json=body, timeout=30)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    return postgres_helpers.database_url()


def test_kill_9_mid_run_then_restart_lists_every_run(database):
    first = Server(database)
    try:
        finished = first.post("/api/runs", {"task": "sin", "epochs": 200, "samples": 200}).json()
        wait_until(lambda: first.get(f"/api/runs/{finished['id']}").json()["status"] == "finished")
        finished_csv = first.get(f"/api/runs/{finished['id']}/history", format="csv").text
        running = first.post("/api/runs", {"task": "sin", "epochs": 100_000, "samples": 4000})
        running_id = running.json()["id"]
        store = RunStore(database)
        # trained a while, and the recorder has written some history and a checkpoint
        wait_until(
            lambda: (store.summary(running_id)["epoch"] or 0) >= 3
            and store.checkpoint(running_id) is not None,
            timeout=30,
        )
        stored_epoch = store.summary(running_id)["epoch"]
        first.kill()
    finally:
        first.stop()
    store.close()
    if database.startswith("sqlite"):
        path = database[len("sqlite:///") :]
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    second = Server(database)
    try:
        def statuses() -> dict[str, str]:
            return {run["id"]: run["status"] for run in second.get("/api/runs").json()}

        wait_until(lambda: statuses().get(running_id) == "interrupted", timeout=20)
        assert statuses()[finished["id"]] == "finished"
        assert second.get(f"/api/runs/{finished['id']}/history", format="csv").text == finished_csv
        interrupted = second.get(f"/api/runs/{running_id}").json()
        assert interrupted["status"] == "interrupted" and interrupted["epoch"] >= stored_epoch
        history = second.get(f"/api/runs/{running_id}/history").json()
        assert len(history["epoch"]) == interrupted["epoch"]
        assert second.get(f"/api/runs/{running_id}/model").status_code == 200

        continued = second.post(f"/api/runs/{running_id}/continue", {"epochs": 3})
        assert continued.status_code == 201, continued.text
        new_id = continued.json()["id"]
        wait_until(lambda: second.get(f"/api/runs/{new_id}").json()["status"] == "finished")
        first_losses = history["train_loss"]
        new_losses = second.get(f"/api/runs/{new_id}/history").json()["train_loss"]
        assert new_losses[0] < first_losses[0]  # it started from trained weights

        deleted = requests.delete(f"{second.url}/api/runs/{running_id}", timeout=10)
        assert deleted.status_code == 200
        assert running_id not in statuses()
    finally:
        second.stop()


def test_a_restart_shows_interrupted_at_once_and_a_queued_run_continues(database):
    first = Server(database, "--max-active-runs", "1")
    try:
        long = {"task": "sin", "epochs": 100_000, "samples": 4000}
        running_id = first.post("/api/runs", long).json()["id"]
        queued_id = first.post("/api/runs", {**long, "epochs": 50}).json()["id"]
        assert first.get(f"/api/runs/{queued_id}").json()["status"] == "queued"
        store = RunStore(database)
        wait_until(lambda: (store.summary(running_id)["epoch"] or 0) >= 2, timeout=30)
        first.kill()
    finally:
        first.stop()
    store.close()

    second = Server(database)
    try:
        if database.startswith("sqlite"):  # the server owns its file: its first answer knows
            assert second.get(f"/api/runs/{running_id}").json()["status"] == "interrupted"
        else:  # a shared database: once the dead process's heartbeat is stale (~3 s)
            wait_until(lambda: second.get(f"/api/runs/{running_id}").json()["status"]
                       == "interrupted", timeout=20)  # fmt: skip
        queued = second.get(f"/api/runs/{queued_id}").json()
        assert queued["status"] == "interrupted" and queued["epoch"] == 0
        continued = second.post(f"/api/runs/{queued_id}/continue")
        assert continued.status_code == 201, continued.text
        new_id = continued.json()["id"]
        wait_until(lambda: second.get(f"/api/runs/{new_id}").json()["status"] == "finished")
        assert second.get(f"/api/runs/{new_id}").json()["epoch"] == 50
    finally:
        second.stop()
