"""Owners of uploads (issue 31, point 3), against a real server with an access token, its
uploads stored in SQLite, then PostgreSQL: an upload remembers who created it (the datasets
table's ``creator``); a second owner gets 403 naming the first on deleting it, and can still
list it and train a run on it; the admin token deletes it; each owner may keep a limited number
of uploads and bytes (429 with Retry-After naming theirs to delete) while another owner can still
upload; the same across the web processes of scaled mode; MNIST's files, once offered, are
replaced by the admin only; without a token nothing changes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from live_server import running_server
from mnist_files import synthetic_mnist
from owner_clients import ADMIN, TOKEN, Client
from server_helpers import wait_until

from app.storage.store import RunStore

BUDGET = 150_000  # bytes of uploads one owner may keep, as stored (a 120 KB file fits once)


def big_csv(n_rows: int = 6000) -> bytes:
    """About 120 KB of random numbers (stored compressed, still over BUDGET - 120 KB)."""
    rows = np.random.default_rng(7).uniform(-1, 1, (n_rows, 2))
    return ("x,target\n" + "\n".join(f"{x:.7f},{y:.7f}" for x, y in rows) + "\n").encode()


@pytest.fixture(scope="module")
def server(stored_database: str) -> Iterator[Any]:
    config = {"ACCESS_TOKEN": TOKEN, "ADMIN_TOKEN": ADMIN, "MAX_UPLOADS_PER_OWNER": 2,
              "MAX_UPLOAD_BYTES_PER_OWNER": BUDGET, "DATABASE_URL": stored_database}  # fmt: skip
    with running_server(config) as live:
        yield live


def test_only_the_owner_or_the_admin_deletes_an_upload(server: Any) -> None:
    alice, bob = Client(server.url, "alice"), Client(server.url, "bob")
    dataset_id = alice.uploaded("alice.csv")
    refused = bob.call("DELETE", f"/datasets/{dataset_id}")
    assert refused.status_code == 403, refused.text
    assert refused.json()["owner"] == "alice" and "belongs to alice" in refused.json()["error"]
    seen = bob.listed()[dataset_id]  # anyone lists it: the page's Owner column
    assert seen["owner"] == "alice" and seen["yours"] is False and seen["mine"] is False
    assert "creator" not in seen  # a browser's id is its cookie: never shown
    assert alice.listed()[dataset_id]["mine"] is True
    store = RunStore(server.app.config["DATABASE_URL"])
    assert store.dataset_creator(dataset_id) == "name:alice"  # remembered in storage (0007)

    run = bob.call("POST", "/runs", {"task": f"dataset:{dataset_id}", "epochs": 3})
    assert run.status_code == 201, run.text  # and trains on it
    run_id = run.json()["id"]
    wait_until(lambda: bob.call("GET", f"/runs/{run_id}").json()["status"] == "finished")
    assert bob.call("DELETE", f"/runs/{run_id}").ok  # his run, not the upload
    assert bob.call("DELETE", f"/datasets/{dataset_id}").status_code == 403
    admin = Client(server.url, "teacher", token=ADMIN)
    assert admin.call("DELETE", f"/datasets/{dataset_id}").status_code == 200
    own = alice.uploaded("again.csv")
    assert alice.call("DELETE", f"/datasets/{own}").status_code == 200  # her own


def test_each_owner_keeps_at_most_a_number_of_uploads(server: Any) -> None:
    carol, dave = Client(server.url, "carol"), Client(server.url, "dave")
    first = carol.uploaded("first.csv")
    carol.uploaded("second.csv")
    refused = carol.upload("third.csv")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    error = refused.json()["error"]
    assert "delete one of yours" in error and "first.csv" in error and "second.csv" in error
    assert dave.upload("dave.csv").status_code == 201  # another owner still can
    assert carol.call("DELETE", f"/datasets/{first}").ok
    assert carol.upload("third.csv").status_code == 201  # room again


def test_each_owner_has_a_byte_budget_for_uploads(server: Any) -> None:
    erin, frank = Client(server.url, "erin"), Client(server.url, "frank")
    erin.uploaded("big.csv", big_csv())
    refused = erin.upload("bigger.csv", big_csv())
    assert refused.status_code == 429 and refused.headers["Retry-After"], refused.text
    assert "your uploads would take" in refused.json()["error"]
    assert frank.upload("big.csv", big_csv()).status_code == 201  # another owner still can
    too_big = Client(server.url, "gina").upload("huge.csv", big_csv(9000))  # ~180 KB alone
    assert too_big.status_code == 429 and "bigger than one owner's" in too_big.json()["error"]


def test_without_a_token_there_are_no_upload_owners(live_server: Any) -> None:
    alice, bob = Client(live_server.url, "alice"), Client(live_server.url, "bob")
    ids = [alice.uploaded(f"{k}.csv") for k in range(11)]  # past the per-owner default (10)
    assert all("owner" not in entry for entry in bob.listed().values())
    assert bob.call("DELETE", f"/datasets/{ids[0]}").status_code == 200


def mnist_files(folder: Path) -> list[tuple[str, tuple[str, bytes]]]:
    synthetic_mnist(folder, n_train=60, n_test=20)
    return [("files", (path.name, path.read_bytes())) for path in sorted(folder.iterdir())]


def test_only_the_admin_replaces_the_offered_mnist_files(make_live_server: Any,
                                                         tmp_path: Path) -> None:  # fmt: skip
    live = make_live_server({"ACCESS_TOKEN": TOKEN, "ADMIN_TOKEN": ADMIN,
                             "DATA_DIR": str(tmp_path / "data")})  # fmt: skip
    (tmp_path / "idx").mkdir()
    files = mnist_files(tmp_path / "idx")

    def upload_mnist(client: Client) -> requests.Response:
        return requests.post(f"{live.url}/api/mnist", files=files, headers=client.headers,
                             timeout=60)  # fmt: skip

    alice, bob = Client(live.url, "alice"), Client(live.url, "bob")
    assert upload_mnist(alice).status_code == 201  # nobody's yet: anyone offers it
    for who in (bob, alice):  # then it is everyone's task
        refused = upload_mnist(who)
        assert refused.status_code == 403 and "admin" in refused.json()["errors"]["files"]
    assert upload_mnist(Client(live.url, "teacher", token=ADMIN)).status_code == 201
    assert "mnist" in {task["id"] for task in bob.call("GET", "/tasks").json()}


def test_without_a_token_anyone_replaces_the_mnist_files(make_live_server: Any,
                                                          tmp_path: Path) -> None:  # fmt: skip
    live = make_live_server({"DATA_DIR": str(tmp_path / "data")})
    (tmp_path / "idx").mkdir()
    files = mnist_files(tmp_path / "idx")
    for name in ("alice", "bob"):
        answer = requests.post(f"{live.url}/api/mnist", files=files, timeout=60,
                               headers={"X-Client-Name": name})  # fmt: skip
        assert answer.status_code == 201, answer.text


@pytest.mark.skipif(not shutil.which("redis-server") and not os.environ.get("REQUIRE_REDIS"),
                    reason="redis-server is not installed")  # fmt: skip
def test_upload_owners_hold_across_the_web_processes_of_scaled_mode(tmp_path: Path) -> None:
    from app.transports.cluster import Cluster

    flags = ("--token", TOKEN, "--admin-token", ADMIN, "--max-uploads-per-owner", "1")
    cluster = Cluster(webs=2, workers=1, log_dir=str(tmp_path), web_args=flags)
    try:
        web_a, web_b = cluster.urls
        alice_a, alice_b = Client(web_a, "alice"), Client(web_b, "alice")
        bob_b = Client(web_b, "bob")
        dataset_id = alice_a.uploaded("alice.csv")
        refused = bob_b.call("DELETE", f"/datasets/{dataset_id}")
        assert refused.status_code == 403 and refused.json()["owner"] == "alice", refused.text
        assert bob_b.listed()[dataset_id]["owner"] == "alice"
        assert alice_b.upload().status_code == 429  # her one, counted in the shared database
        assert bob_b.upload().status_code == 201  # another owner still can
        admin_b = Client(web_b, None, token=ADMIN)
        assert admin_b.call("DELETE", f"/datasets/{dataset_id}").status_code == 200
        assert alice_b.upload().status_code == 201  # room again, in the other process
    finally:
        cluster.stop()
