"""Owners of runs (issue 31, point 3), against a real server with an access token: a second
owner gets 403 naming the first on every change of the first's run, and can watch and continue
it as their own copy; the admin token may change any run; each owner has a limit of unfinished
runs (429 with Retry-After) while another owner can still start runs; a run remembers its owner
in storage; browsers are owners by their client cookie.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import requests
from owner_clients import ADMIN, LONG, TOKEN, Client
from server_helpers import Watcher, wait_until

from app.storage.store import RunStore
from app.sweeps.store import SWEEPS


@pytest.fixture
def server(make_live_server: Any, tmp_path: Path) -> Any:
    return make_live_server({
        "ACCESS_TOKEN": TOKEN, "ADMIN_TOKEN": ADMIN, "MAX_RUNS_PER_OWNER": 2,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'runs.sqlite3'}",
    })  # fmt: skip


CHANGES = [("PATCH", "", {"lr": 0.001}), ("POST", "/pause", None), ("POST", "/resume", None),
           ("POST", "/step", {"epochs": 1}), ("PATCH", "/meta", {"name": "mine now"}),
           ("POST", "/stop", None), ("DELETE", "", None)]  # fmt: skip


def test_only_the_owner_or_the_admin_changes_a_run(server: Any) -> None:
    alice, bob = Client(server.url, "alice"), Client(server.url, "bob")
    run_id = alice.start()
    for method, path, body in CHANGES:
        answer = bob.call(method, f"/runs/{run_id}{path}", body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["owner"] == "alice" and "belongs to alice" in answer.json()["error"]
    seen = bob.call("GET", f"/runs/{run_id}").json()
    assert seen["status"] in ("queued", "running") and seen["owner"] == "alice"
    assert seen["yours"] is False and alice.call("GET", f"/runs/{run_id}").json()["yours"]
    listed = {entry["id"]: entry for entry in bob.call("GET", "/runs").json()}
    assert listed[run_id]["owner"] == "alice"  # the runs page's Owner column and "mine"
    assert listed[run_id]["yours"] is False and listed[run_id]["mine"] is False
    assert "creator" not in listed[run_id]  # a browser's id is its cookie: never shown
    mine = {entry["id"]: entry for entry in alice.call("GET", "/runs").json()}[run_id]
    assert mine["yours"] is True and mine["mine"] is True
    assert alice.call("PATCH", f"/runs/{run_id}", {"lr": 0.001}).status_code == 200
    assert alice.call("PATCH", f"/runs/{run_id}/meta", {"name": "alice's"}).status_code == 200
    watcher = Watcher(server.url, auth={"token": TOKEN})  # bob watches alice's run
    try:
        watcher.watch(run_id)
        watcher.wait_for(lambda w: w.of("snapshot", run_id))
    finally:
        watcher.disconnect()
    admin = Client(server.url, "teacher", token=ADMIN)
    assert admin.call("POST", f"/runs/{run_id}/stop").status_code == 200
    store = RunStore(server.app.config["DATABASE_URL"])
    assert store.summary(run_id)["creator"] == "name:alice"  # remembered in storage
    stored = {entry["id"]: entry for entry in admin.call("GET", "/runs").json()}[run_id]
    assert stored["owner"] == "alice" and stored["yours"] is True and stored["mine"] is False

    copy = bob.call("POST", f"/runs/{run_id}/continue", {"epochs": 5})
    assert copy.status_code == 201, copy.text  # continued as bob's own copy
    copy_id = copy.json()["id"]
    assert bob.call("PATCH", f"/runs/{copy_id}/meta", {"name": "bob's"}).status_code == 200
    assert alice.call("DELETE", f"/runs/{copy_id}").status_code == 403
    assert bob.call("DELETE", f"/runs/{copy_id}").status_code == 200


def test_each_owner_has_a_limit_of_unfinished_runs(server: Any) -> None:
    alice, bob = Client(server.url, "alice"), Client(server.url, "bob")
    first = alice.start()
    alice.start()
    refused = alice.call("POST", "/runs", LONG)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "of yours" in refused.json()["error"]
    bob.start()  # another owner still can
    assert alice.call("POST", f"/runs/{first}/stop").status_code == 200
    alice.start()  # one of hers ended: room again


def test_a_sweep_has_its_owner_and_counts_as_one_run(server: Any) -> None:
    alice, bob = Client(server.url, "alice"), Client(server.url, "bob")
    body = {"base": LONG, "vary": {"lr": [0.01, 0.02, 0.03]}}  # three runs, one toward the limit
    created = alice.call("POST", "/sweeps", body)
    assert created.status_code == 201, created.text
    sweep_id = created.json()["id"]
    for method, path in (("POST", "/stop"), ("DELETE", "")):
        answer = bob.call(method, f"/sweeps/{sweep_id}{path}")
        assert answer.status_code == 403 and answer.json()["owner"] == "alice", answer.text
    assert bob.call("GET", f"/sweeps/{sweep_id}").ok  # anyone may watch it
    alice.start()  # the sweep and this run: alice's limit of 2
    refused = alice.call("POST", "/runs", LONG)
    assert refused.status_code == 429 and "of yours" in refused.json()["error"]
    assert alice.call("POST", "/sweeps", body).status_code == 429
    bob.start()  # another owner still can
    assert alice.call("POST", f"/sweeps/{sweep_id}/stop").status_code == 200
    alice.start()  # her sweep ended: room again
    store = RunStore(server.app.config["DATABASE_URL"])
    with store.session() as session:  # remembered in storage (migration 0006)
        row = session.execute(SWEEPS.select().where(SWEEPS.c.id == sweep_id)).one()
    assert row.creator == "name:alice"


def test_browsers_are_owners_by_their_cookie(server: Any) -> None:
    mine, theirs = requests.Session(), requests.Session()
    for browser in (mine, theirs):
        assert browser.get(f"{server.url}/?token={TOKEN}", timeout=10).ok
        assert browser.cookies.get("backprop_client")
    answer = mine.post(f"{server.url}/api/runs", json=LONG, timeout=10)
    run_id = answer.json()["id"]
    refused = theirs.post(f"{server.url}/api/runs/{run_id}/stop", timeout=30)
    assert refused.status_code == 403 and refused.json()["owner"].startswith("browser ")
    assert mine.post(f"{server.url}/api/runs/{run_id}/stop", timeout=30).status_code == 200


def test_a_browser_chooses_the_name_others_see_its_work_by(server: Any) -> None:
    # a fresh user's class: every student read "browser 3f71a4", the teacher could not tell whose
    mine, theirs = requests.Session(), requests.Session()
    for browser in (mine, theirs):
        assert browser.get(f"{server.url}/?token={TOKEN}", timeout=10).ok
    me = mine.get(f"{server.url}/api/me", timeout=10).json()
    assert me["owners"] is True and me["name"] is None and me["owner"].startswith("browser ")
    named = mine.put(f"{server.url}/api/me", json={"name": " Ada  Lovelace "}, timeout=10)
    assert named.status_code == 200 and named.json()["name"] == "Ada Lovelace"
    run_id = mine.post(f"{server.url}/api/runs", json=LONG, timeout=10).json()["id"]
    seen = theirs.get(f"{server.url}/api/runs/{run_id}", timeout=10).json()
    assert seen["owner"] == "Ada Lovelace" and seen["yours"] is False
    listed = {run["id"]: run for run in theirs.get(f"{server.url}/api/runs", timeout=10).json()}
    assert listed[run_id]["owner"] == "Ada Lovelace"
    refused = theirs.post(f"{server.url}/api/runs/{run_id}/stop", timeout=30)
    assert refused.status_code == 403 and "belongs to Ada Lovelace" in refused.json()["error"]
    for bad, why in (("ada lovelace", "another owner's name"), ("x" * 41, "1 to 40"),
                     ("Admin", "server's own words"), (7, "must be a string")):
        answer = theirs.put(f"{server.url}/api/me", json={"name": bad}, timeout=10)
        assert answer.status_code == 400 and why in answer.json()["errors"]["name"], bad
    assert theirs.put(f"{server.url}/api/me", json={}, timeout=10).status_code == 400
    cleared = mine.put(f"{server.url}/api/me", json={"name": None}, timeout=10).json()
    assert cleared["name"] is None and cleared["owner"].startswith("browser ")
    assert mine.post(f"{server.url}/api/runs/{run_id}/stop", timeout=30).status_code == 200


def test_without_a_token_there_are_no_owners(live_server: Any) -> None:
    alice, bob = Client(live_server.url, "alice"), Client(live_server.url, "bob")
    run_id = alice.start()
    assert bob.call("POST", f"/runs/{run_id}/stop").status_code == 200
    assert alice.call("GET", "/me").json() == {"owners": False}
    assert alice.call("PUT", "/me", {"name": "Alice"}).status_code == 409  # no name to choose


@pytest.mark.skipif(not shutil.which("redis-server") and not os.environ.get("REQUIRE_REDIS"),
                    reason="redis-server is not installed")  # fmt: skip
def test_owners_hold_across_the_web_processes_of_scaled_mode(tmp_path: Path) -> None:
    from app.transports.cluster import Cluster

    flags = ("--token", TOKEN, "--admin-token", ADMIN, "--max-runs-per-owner", "1")
    cluster = Cluster(webs=2, workers=1, log_dir=str(tmp_path), web_args=flags)
    try:
        web_a, web_b = cluster.urls
        alice_a, alice_b = Client(web_a, "alice"), Client(web_b, "alice")
        bob_b = Client(web_b, "bob")
        assert requests.get(f"{web_a}/api/tasks", timeout=10).status_code == 401
        run_id = alice_a.start()
        refused = bob_b.call("POST", f"/runs/{run_id}/stop")
        assert refused.status_code == 403 and refused.json()["owner"] == "alice"
        # a name chosen on one web process is the name the other shows (the shared database)
        assert alice_a.call("PUT", "/me", {"name": "Alice L."}).status_code == 200
        assert bob_b.call("PUT", "/me", {"name": "alice l."}).status_code == 400  # hers
        wait_until(lambda: bob_b.call("GET", f"/runs/{run_id}").json()["owner"] == "Alice L.",
                   30, "the name on the other web process")  # fmt: skip
        assert alice_b.call("POST", "/runs", LONG).status_code == 429  # her one, counted in all
        assert bob_b.call("POST", "/runs", {**LONG, "epochs": 5}).status_code == 201
        assert Client(web_b, None, token=ADMIN).call("POST", f"/runs/{run_id}/stop").ok
    finally:
        cluster.stop()
