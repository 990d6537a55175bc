"""A request that answers an error has not taken effect, and storage out of reach is a 503
(issue 24, point 7): a real server on a real SQLite file.

- a live change (``PATCH /api/runs/<id>``) that cannot be stored (the file locked past the
  server's busy bound, or read-only) answers 503 and the run trains on with what it had: its
  settings as read back, its stored config and its history afterwards are unchanged;
- so does a delete that cannot remove the stored run (the run trains on, still listed);
- a change with one bad field of several changes nothing (400);
- a run that is not in memory, asked for while the database file cannot be opened, is a 503
  with Retry-After on every route that reads it (not 404 "unknown run").
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest
import requests
from server_helpers import run_status, start_run, wait_status, wait_until
from test_history_storage import running_server  # tests/conftest.py's
from test_storage_faults import PACED, ReadOnly, _config, locked

pytestmark = pytest.mark.timeout(120)

LR = 0.01


@pytest.fixture
def live(tmp_path):
    with running_server(_config(tmp_path / "runs.sqlite3")) as server:
        yield server


def _stored_lr(live: Any, run_id: str) -> float:
    return float(live.app.extensions["store"].summary(run_id)["config"]["lr"])


def _history_lr(live: Any, run_id: str) -> list[float]:
    answer = requests.get(f"{live.url}/api/runs/{run_id}/history", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["lr"]


def _trains_on(live: Any, run_id: str, epochs: int = 3) -> None:
    """Wait until the run trained `epochs` more epochs (a change it was sent would show)."""
    start = run_status(live, run_id)["epoch"]
    wait_until(lambda: run_status(live, run_id)["epoch"] >= start + epochs, 30, "more epochs")


def _assert_lr_unchanged(live: Any, run_id: str) -> None:
    assert run_status(live, run_id)["config"]["lr"] == LR
    _trains_on(live, run_id)
    assert run_status(live, run_id)["config"]["lr"] == LR
    assert set(_history_lr(live, run_id)) == {LR}
    assert _stored_lr(live, run_id) == LR


def _changed(live: Any, run_id: str, body: dict[str, Any]) -> requests.Response:
    return requests.patch(f"{live.url}/api/runs/{run_id}", json=body, timeout=30)


def _prove_a_change_shows(live: Any, run_id: str) -> None:
    """The same change once storage works: it shows everywhere the test looked (so the checks
    above would have seen it)."""
    answer = _changed(live, run_id, {"lr": 0.02})
    assert answer.status_code == 200, answer.text
    _trains_on(live, run_id)
    assert run_status(live, run_id)["config"]["lr"] == 0.02
    assert 0.02 in set(_history_lr(live, run_id))
    assert _stored_lr(live, run_id) == 0.02
    requests.post(f"{live.url}/api/runs/{run_id}/stop", timeout=30)
    wait_status(live, run_id, "stopped")


def test_a_change_that_cannot_be_stored_is_a_503_and_changes_nothing(live, tmp_path):
    run_id = start_run(live, **PACED, epochs=5000, lr=LR)
    wait_until(lambda: run_status(live, run_id)["epoch"] >= 2, 30, "two epochs")
    with locked(tmp_path / "runs.sqlite3"):
        answer = _changed(live, run_id, {"lr": 0.5})
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    assert "locked" in answer.json()["reason"]
    _assert_lr_unchanged(live, run_id)
    read_only = ReadOnly(live)
    read_only.set(True)
    answer = _changed(live, run_id, {"lr": 0.5, "epochs_per_second": 30})
    read_only.set(False)
    assert answer.status_code == 503, answer.text
    _assert_lr_unchanged(live, run_id)
    assert run_status(live, run_id)["config"]["epochs_per_second"] == PACED["epochs_per_second"]
    with locked(tmp_path / "runs.sqlite3"):  # a delete that cannot remove the stored run
        answer = requests.delete(f"{live.url}/api/runs/{run_id}", timeout=30)
    assert answer.status_code == 503, answer.text
    _trains_on(live, run_id)  # not stopped, not forgotten
    assert run_status(live, run_id)["status"] == "running"
    listed = requests.get(f"{live.url}/api/runs", timeout=30).json()
    assert [run["id"] for run in listed] == [run_id]
    _prove_a_change_shows(live, run_id)
    assert requests.delete(f"{live.url}/api/runs/{run_id}", timeout=30).status_code == 200
    assert requests.get(f"{live.url}/api/runs/{run_id}", timeout=30).status_code == 404
    assert live.app.extensions["store"].summary(run_id) is None


def test_a_change_with_one_bad_field_of_several_changes_nothing(live):
    run_id = start_run(live, **PACED, epochs=5000, lr=LR, optimizer="sgd", momentum=0.5)
    wait_until(lambda: run_status(live, run_id)["epoch"] >= 2, 30, "two epochs")
    for body in ({"lr": 0.5, "momentum": 7}, {"lr": 0.5, "samples": 10},
                 {"lr": 0.5, "batch_size": 10_000}, {"lr": 0.5, "nonsense": 1}):  # fmt: skip
        answer = _changed(live, run_id, body)
        assert answer.status_code == 400, (body, answer.text)
        assert set(answer.json()["errors"]) == set(body) - {"lr"}, answer.json()
    assert run_status(live, run_id)["config"]["momentum"] == 0.5
    _assert_lr_unchanged(live, run_id)
    _prove_a_change_shows(live, run_id)


def test_reads_of_a_stored_run_while_the_file_cannot_be_opened_are_503(live, tmp_path):
    run_id = start_run(live, task="sin", samples=200, epochs=5)
    wait_status(live, run_id, "finished")
    manager = live.app.extensions["runs"]
    wait_until(lambda: manager.registry.known(run_id) and manager.registry.known(run_id).closed,
               20, "its end stored")  # fmt: skip
    manager.registry.remove(run_id)  # as an older ended run: read back from storage on demand
    folder = tmp_path / "moved"  # the database file (and its WAL) moved away
    folder.mkdir()
    for name in ("runs.sqlite3", "runs.sqlite3-wal", "runs.sqlite3-shm"):
        if (tmp_path / name).exists():
            shutil.move(tmp_path / name, folder / name)
    blocker = tmp_path / "runs.sqlite3"
    blocker.mkdir()  # a folder where the file was: SQLite cannot open it
    live.app.extensions["store"].engine.dispose()  # the pooled connections are opened again
    try:
        for method, path in (("get", ""), ("get", "/history"), ("get", "/model"),
                             ("patch", ""), ("post", "/pause"), ("post", "/continue"),
                             ("get", "/history?format=csv")):  # fmt: skip
            url = f"{live.url}/api/runs/{run_id}{path}"
            answer = requests.request(method, url, json={"lr": 0.1} if method == "patch" else None,
                                      timeout=30)  # fmt: skip
            assert answer.status_code == 503, (method, path, answer.status_code, answer.text)
            assert int(answer.headers["Retry-After"]) > 0
            assert answer.json()["error"]
        short = requests.get(f"{live.url}/api/runs/{run_id[:8]}", timeout=30)
        assert short.status_code == 503, short.text
    finally:
        blocker.rmdir()
        for moved in folder.iterdir():
            shutil.move(moved, tmp_path / moved.name)
        live.app.extensions["store"].engine.dispose()
    assert run_status(live, run_id)["status"] == "finished"
    assert requests.get(f"{live.url}/api/runs/unknown12345", timeout=30).status_code == 404



def test_a_delete_of_an_upload_that_cannot_be_stored_forgets_nothing(live, tmp_path):
    csv = "x,target\n" + "".join(f"{i},{i * 2}\n" for i in range(20))
    answer = requests.post(f"{live.url}/api/datasets", files={"file": ("line.csv", csv)},
                           timeout=30)  # fmt: skip
    dataset_id = answer.json()["id"]
    with locked(tmp_path / "runs.sqlite3"):
        refused = requests.delete(f"{live.url}/api/datasets/{dataset_id}", timeout=30)
    assert refused.status_code == 503, refused.text
    assert dataset_id in live.app.extensions["datasets"]  # still held, and still stored
    listed = requests.get(f"{live.url}/api/datasets", timeout=30).json()["datasets"]
    assert [entry["id"] for entry in listed] == [dataset_id]
    run_id = start_run(live, task=f"dataset:{dataset_id}", epochs=3)
    assert wait_status(live, run_id, "finished")["status"] == "finished"
