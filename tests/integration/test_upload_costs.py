"""Uploads cost what they weigh (issue 24, point 3): a CSV is stored as uploaded, compressed (a
1 MB table of category columns adds a few MB to the database, not its one-hot expansion), held
in memory as column codes (a 0.5 MB one adds at most 60 MB to a real server's memory), the
stored uploads are limited in count and bytes (a 409 past them), listed by ``GET /api/datasets``
and deleted by ``DELETE /api/datasets/<id>`` (a 409 while runs of one are unfinished)."""

from __future__ import annotations

import numpy as np
import requests
from server_helpers import start_run, wait_status
from test_history_kill import Server

MB = 1024 * 1024


def category_csv(n_bytes: int = MB, seed: int = 0) -> bytes:
    """About `n_bytes` of a table of 8 category columns (40 values each) and a numeric target."""
    rng = np.random.default_rng(seed)
    names = [f"c{i}" for i in range(8)]
    rows = n_bytes // 38  # bytes per row
    values = rng.integers(0, 40, (rows, 8))
    lines = [",".join([*names, "target"])]
    lines += [",".join([*(f"v{v:02d}" for v in row), f"{row.sum() / 100:.3f}"]) for row in values]
    return ("\n".join(lines) + "\n").encode()


def _upload(server, data: bytes, name: str = "table.csv") -> requests.Response:
    return requests.post(f"{server.url}/api/datasets", files={"file": (name, data)}, timeout=120)


def _stored_bytes(folder) -> int:
    """The SQLite database's bytes, its write-ahead log included."""
    return sum(path.stat().st_size for path in folder.glob("runs.sqlite3*"))


def test_a_1_mb_category_csv_adds_at_most_a_few_mb_of_stored_data(tmp_path, make_live_server):
    database = tmp_path / "runs.sqlite3"
    server = make_live_server({"DATABASE_URL": f"sqlite:///{database}"})
    data = category_csv()
    assert 0.9 * MB < len(data) < 1.1 * MB
    before = _stored_bytes(tmp_path)
    answer = _upload(server, data)
    assert answer.status_code == 201, answer.text
    grown = _stored_bytes(tmp_path) - before
    inputs = answer.json()["inputs"]
    print(f"\n1 MB category CSV ({inputs} network inputs): database +{grown / MB:.2f} MB")
    assert grown < 3 * MB
    listed = requests.get(f"{server.url}/api/datasets", timeout=30).json()
    assert [entry["id"] for entry in listed["datasets"]] == [answer.json()["id"]]
    assert listed["bytes"] < MB  # compressed
    task = answer.json()["task"]["id"]
    run_id = start_run(server, task=task, target_column="target", epochs=1, samples=10)
    assert wait_status(server, run_id, "finished", timeout=120)["status"] == "finished"


def test_stored_uploads_are_limited_listed_and_deleted(tmp_path, make_live_server):
    server = make_live_server(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'runs.sqlite3'}", "MAX_STORED_UPLOADS": 2}
    )
    small = [category_csv(4000, seed) for seed in range(3)]
    first, second = (_upload(server, data).json()["id"] for data in small[:2])
    full = _upload(server, small[2])
    assert full.status_code == 409 and "delete some first" in full.json()["errors"]["file"]
    run_id = start_run(server, task=f"dataset:{first}", target_column="target", epochs=100_000)
    busy = requests.delete(f"{server.url}/api/datasets/{first}", timeout=30)
    assert busy.status_code == 409 and run_id in busy.json()["error"], busy.text
    requests.post(f"{server.url}/api/runs/{run_id}/stop", timeout=30)
    wait_status(server, run_id, "stopped")
    kept = requests.delete(f"{server.url}/api/datasets/{first}", timeout=30)
    assert kept.status_code == 409 and run_id in kept.json()["error"], kept.text
    assert requests.get(f"{server.url}/api/runs/{run_id}/model", timeout=30).status_code == 200
    assert requests.delete(f"{server.url}/api/runs/{run_id}", timeout=30).status_code == 200
    deleted = requests.delete(f"{server.url}/api/datasets/{first}", timeout=30)
    assert deleted.status_code == 200 and deleted.json() == {"id": first, "deleted": True}
    assert requests.get(f"{server.url}/api/datasets/{first}", timeout=30).status_code == 404
    assert requests.delete(f"{server.url}/api/datasets/{first}", timeout=30).status_code == 404
    listed = requests.get(f"{server.url}/api/datasets", timeout=30).json()
    assert [entry["id"] for entry in listed["datasets"]] == [second]
    assert _upload(server, small[2]).status_code == 201  # room again
    limited = make_live_server({"MAX_STORED_UPLOAD_BYTES": 5_000})
    assert _upload(limited, small[0]).status_code == 201
    over = _upload(limited, small[1])
    assert over.status_code == 409 and "at most" in over.json()["errors"]["file"]


def _rss(pid: int) -> int:
    """The resident memory of process `pid` in bytes (VmRSS)."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def test_a_half_mb_category_csv_costs_a_real_server_at_most_60_mb(tmp_path):
    server = Server(f"sqlite:///{tmp_path / 'runs.sqlite3'}")
    try:
        assert _upload(server, category_csv(40_000, seed=1)).status_code == 201  # first costs paid
        data = category_csv(MB // 2)
        stored, before = _stored_bytes(tmp_path), _rss(server.process.pid)
        answer = _upload(server, data)
        assert answer.status_code == 201, answer.text
        grown, stored_grown = _rss(server.process.pid) - before, _stored_bytes(tmp_path) - stored
        inputs = answer.json()["inputs"]
        print(f"\n0.5 MB category CSV ({len(data):,} bytes, {inputs} network inputs): server "
              f"memory +{grown / MB:.1f} MB, stored data +{stored_grown / MB:.2f} MB")
        assert inputs == 8 * 40  # one-hot: 320 inputs a run will train on
        assert grown <= 60 * MB
        assert stored_grown <= 20 * MB
        again = requests.get(f"{server.url}/api/datasets/{answer.json()['id']}", timeout=30)
        assert again.status_code == 200 and again.json()["inputs"] == inputs
        assert _rss(server.process.pid) - before <= 60 * MB  # read again: still not expanded
    finally:
        server.stop()
