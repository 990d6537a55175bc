"""A refused upload never changes stored data (issue 24, point 1): after a good MNIST upload or a
good CSV table, a refused one answers 400 naming the file as sent (never a server path), and the
good one still trains, also after a restart (CSV tables: on SQLite and PostgreSQL)."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
import requests
from mnist_files import synthetic_mnist
from server_helpers import start_run, wait_status

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import postgres_helpers  # noqa: E402


def _mnist_upload(live, files: list[tuple[str, bytes]]) -> requests.Response:
    return requests.post(
        f"{live.url}/api/mnist", files=[("files", file) for file in files], timeout=60
    )


def _task_ids(live) -> set[str]:
    return {task["id"] for task in requests.get(f"{live.url}/api/tasks", timeout=30).json()}


def _trains(live, **config) -> None:
    run_id = start_run(live, **config)
    assert wait_status(live, run_id, "finished", timeout=120)["status"] == "finished"


def test_a_refused_mnist_upload_leaves_the_good_one_trainable(tmp_path, make_live_server):
    data_dir = tmp_path / "data"
    live = make_live_server({"DATA_DIR": str(data_dir), "DATABASE_URL": "none"})
    synthetic_mnist(tmp_path)
    good = [(f"my-{path.name}", path.read_bytes()) for path in sorted(tmp_path.glob("*idx*"))]
    assert _mnist_upload(live, good).status_code == 201
    stored = {path.name: path.read_bytes() for path in (data_dir / "mnist").iterdir()}
    ten_labels = struct.pack(">II", 2049, 10) + bytes(range(10))
    bad = [(name, ten_labels if "t10k-labels" in name else data) for name, data in good]
    answer = _mnist_upload(live, bad)
    assert answer.status_code == 400, answer.text
    message = answer.json()["errors"]["files"]
    assert "my-t10k-labels-idx1-ubyte" in message and "10 labels" in message, message
    assert str(tmp_path) not in message and "/" not in message, message
    assert {path.name: path.read_bytes() for path in (data_dir / "mnist").iterdir()} == stored
    assert not [path for path in data_dir.iterdir() if path.name != "mnist"]  # nothing left over
    assert "mnist" in _task_ids(live)
    _trains(live, task="mnist", samples=200, epochs=2)
    live.stop()
    again = make_live_server({"DATA_DIR": str(data_dir), "DATABASE_URL": "none"})
    assert "mnist" in _task_ids(again)
    _trains(again, task="mnist", samples=200, epochs=2)


def _table(rows: int = 40) -> bytes:
    lines = ["height,colour,weight"] + [
        f"{i % 7 + 1.5},{('red', 'green', 'blue')[i % 3]},{2 * i + 1}" for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_refused_table_leaves_the_good_one_trainable_after_a_restart(
    backend, tmp_path, make_live_server
):
    if backend == "sqlite":
        database = f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    else:
        database = postgres_helpers.database_url()
    live = make_live_server({"DATABASE_URL": database})
    good = requests.post(
        f"{live.url}/api/datasets", files={"file": ("heights.csv", _table())}, timeout=30
    )
    assert good.status_code == 201, good.text
    task = good.json()["task"]["id"]
    bad = requests.post(
        f"{live.url}/api/datasets",
        files={"file": ("heights.csv", _table() + b"1,red\n")},
        timeout=30,
    )
    assert bad.status_code == 400 and "line 42" in bad.json()["errors"]["file"], bad.text
    assert str(tmp_path) not in bad.text
    _trains(live, task=task, target_column="weight", epochs=3)
    live.stop()
    again = make_live_server({"DATABASE_URL": database})
    _trains(again, task=task, target_column="weight", epochs=3)
