"""An outage of the database answers 503 with Retry-After, not a 500 (issue 24, point 7): the
server's own PostgreSQL database refuses connections (its sessions ended, new ones not
allowed), then comes back and the same request is answered again."""

from __future__ import annotations

import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import postgres_helpers  # noqa: E402
from server_helpers import start_run, wait_status, wait_until  # noqa: E402


def _admin(sql: str) -> None:
    import psycopg

    port = postgres_helpers.cluster().port
    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
    ) as connection:
        connection.execute(sql)


def test_a_database_outage_is_a_503_with_retry_after(make_live_server):
    url = postgres_helpers.database_url()
    name = url.rsplit("/", 1)[-1]
    server = make_live_server({"DATABASE_URL": url})
    assert requests.get(f"{server.url}/api/runs", timeout=30).status_code == 200
    run_id = start_run(server, task="sin", samples=200, epochs=3)
    wait_status(server, run_id, "finished")
    registry = server.app.extensions["runs"].registry
    wait_until(lambda: registry.known(run_id).closed, 20, "its end stored")
    registry.remove(run_id)  # as an older ended run: read back from the database on demand
    _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    try:
        run_paths = (f"/api/runs/{run_id}", f"/api/runs/{run_id}/history",
                     f"/api/runs/{run_id}/model", f"/api/runs/{run_id[:8]}")  # fmt: skip
        for path in ("/api/runs", "/api/datasets", "/api/datasets/abcdef123456", *run_paths):
            answer = requests.get(f"{server.url}{path}", timeout=30)
            assert answer.status_code == 503, (path, answer.status_code, answer.text[:200])
            assert int(answer.headers["Retry-After"]) > 0
            assert "unavailable" in answer.json()["error"] or "cannot be read" in answer.text
        csv = "x,target\n" + "".join(f"{i},{i}\n" for i in range(20))
        upload = requests.post(
            f"{server.url}/api/datasets", files={"file": ("line.csv", csv)}, timeout=30
        )
        assert upload.status_code == 503, upload.text
        assert len(server.app.extensions["datasets"]) == 0  # nothing kept
    finally:
        _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert requests.get(f"{server.url}/api/runs", timeout=30).status_code == 200
    after = requests.get(f"{server.url}/api/runs/{run_id}", timeout=30)
    assert after.json()["status"] == "finished"
