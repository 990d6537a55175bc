"""A write that fails is a failure, not a 201 (issue 24, point 2): a real server on a real
SQLite file whose writes are refused.

Two kinds of refusal, both real SQLite errors:

- *locked*: a second connection to the file (`sqlite3`, as another process would) holds
  ``BEGIN EXCLUSIVE`` longer than the server's busy timeout (``DATABASE_BUSY_SECONDS``, 2 s
  here; 10 s by default): SQLite answers "database is locked";
- *read-only*: the server's connections are opened with ``PRAGMA query_only = ON`` (tests run
  as root, where a chmod'ed folder stays writable): SQLite answers "attempt to write a readonly
  database", as for a read-only data folder.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from server_helpers import run_status, start_run, wait_status, wait_until
from sqlalchemy import event
from test_history_storage import running_server  # tests/conftest.py's

pytestmark = pytest.mark.timeout(120)

BUSY = 2.0  # the server's bound on waiting for a lock (seconds)
PACED = {"task": "sin", "samples": 200, "epochs_per_second": 25}
UNSTORED = "cannot be written to the database"


def _config(database: Path) -> dict[str, Any]:
    return {"DATABASE_URL": f"sqlite:///{database}", "RECORD_INTERVAL": 0.2,
            "DATABASE_BUSY_SECONDS": BUSY}  # fmt: skip


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "runs.sqlite3"


@pytest.fixture
def live(database: Path) -> Iterator[Any]:
    with running_server(_config(database)) as server:
        yield server


@contextmanager
def locked(database: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holds the file's write lock for the duration of the block."""
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield holder
    finally:
        holder.execute("ROLLBACK")
        holder.close()


class ReadOnly:
    """The server's store opens its connections with ``PRAGMA query_only`` while `on`."""

    def __init__(self, live: Any) -> None:
        self.engine = live.app.extensions["store"].engine
        self.on = False
        event.listen(self.engine, "connect", self._connect)

    def _connect(self, connection: Any, _record: Any) -> None:
        if self.on:
            connection.execute("PRAGMA query_only = ON")

    def set(self, on: bool) -> None:
        self.on = on
        self.engine.dispose()  # the pooled connections are opened again, with it or without


def stored_status(database: Path, run_id: str) -> tuple[str, int] | None:
    """(status, epoch) of the run's row as another reader of the file sees it."""
    with sqlite3.connect(database) as reader:
        row = reader.execute("SELECT status, epoch FROM runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else (row[0], row[1])


def warned(live: Any, run_id: str) -> list[str]:
    return [text for text in run_status(live, run_id)["warnings"] if UNSTORED in text]


def test_a_run_created_while_the_file_is_locked_past_the_bound_is_refused(live, database):
    with locked(database):
        answer = requests.post(f"{live.url}/api/runs", json={"task": "sin"}, timeout=30)
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    assert "locked" in answer.json()["reason"], answer.json()
    assert requests.get(f"{live.url}/api/runs", timeout=30).json() == []  # not created
    assert live.app.extensions["runs"].runs() == []  # and nothing trains it
    # continue is refused alike
    first = start_run(live, task="sin", samples=200, epochs=5)
    wait_status(live, first, "finished")
    with locked(database):
        answer = requests.post(f"{live.url}/api/runs/{first}/continue", timeout=30)
    assert answer.status_code == 503, answer.text
    assert [run["id"] for run in requests.get(f"{live.url}/api/runs", timeout=30).json()] == [first]


def test_a_lock_that_clears_within_the_bound_only_delays_the_run(live, database):
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.3, lambda: holder.execute("ROLLBACK"))  # well within BUSY
    release.start()
    try:
        body = {"task": "sin", "epochs": 5}
        answer = requests.post(f"{live.url}/api/runs", json=body, timeout=30)
    finally:
        release.join()
        holder.close()
    assert answer.status_code == 201, answer.text
    run_id = answer.json()["id"]
    wait_status(live, run_id, "finished")
    wait_until(lambda: stored_status(database, run_id) == ("finished", 5), what="it is stored")


def test_a_running_run_whose_writes_fail_says_so_until_they_succeed(live, database):
    run_id = start_run(live, **PACED, epochs=5000)
    wait_until(lambda: run_status(live, run_id)["epoch"] >= 2, 30, "two epochs")
    with locked(database):
        message = wait_until(lambda: warned(live, run_id), 20, "the warning")[0]
        assert "database is locked" in message and "trains on in memory" in message, message
        listed = requests.get(f"{live.url}/api/runs", timeout=30).json()
        assert any(UNSTORED in text for text in listed[0]["warnings"]), listed
    wait_until(lambda: not warned(live, run_id), 20, "the warning to go")
    requests.post(f"{live.url}/api/runs/{run_id}/stop", timeout=30)
    wait_status(live, run_id, "stopped")


def test_a_run_that_ends_unstored_carries_the_warning_and_a_restart_shows_it_finished(database):
    with running_server(_config(database)) as live:
        run_id = start_run(live, **PACED, epochs=50)
        with locked(database):
            finished = wait_status(live, run_id, "finished", 30)
            # (a write that failed while it trained may have warned first: "trains on")
            wait_until(lambda: any("is kept in memory" in text for text in warned(live, run_id)),
                       20, "the warning of an ended run")  # fmt: skip
            assert stored_status(database, run_id)[0] != "finished"  # not stored yet: it says so
            assert finished["epoch"] == 50
        wait_until(lambda: not warned(live, run_id), 20, "the warning to go")
    with running_server(_config(database)) as restarted:
        after = run_status(restarted, run_id)
        assert (after["status"], after["epoch"]) == ("finished", 50), after


def test_a_read_only_database_refuses_new_runs_and_warns_running_ones(live, database):
    read_only = ReadOnly(live)
    run_id = start_run(live, **PACED, epochs=5000)
    wait_until(lambda: run_status(live, run_id)["epoch"] >= 2, 30, "two epochs")
    read_only.set(True)
    answer = requests.post(f"{live.url}/api/runs", json={"task": "sin"}, timeout=30)
    assert answer.status_code == 503, answer.text
    assert "readonly" in answer.json()["reason"], answer.json()
    assert "Retry-After" in answer.headers
    message = wait_until(lambda: warned(live, run_id), 20, "the warning")[0]
    assert "readonly" in message, message
    read_only.set(False)
    wait_until(lambda: not warned(live, run_id), 20, "the warning to go")
    listed = requests.get(f"{live.url}/api/runs", timeout=30).json()
    assert [run["id"] for run in listed] == [run_id]  # the refused run is not there
    requests.post(f"{live.url}/api/runs/{run_id}/stop", timeout=30)
    wait_status(live, run_id, "stopped")
