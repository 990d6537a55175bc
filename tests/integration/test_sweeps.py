"""Sweeps through a real server (issue 30), embedded, on SQLite and on PostgreSQL: a grid
finishes with its runs and results, a big sweep is not refused by the unfinished-runs limit and
does not starve a single run, halving stops about half the runs at the first rung, stop and
delete end every run, and a restarted server goes on starting a sweep's waiting runs."""

from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

import pytest
import requests
from live_server import running_server
from server_helpers import run_status, start_run, wait_status, wait_until

from app.runs.control import TERMINAL
from app.storage.store import RunStore

QUICK = {"task": "sin", "samples": 100, "epochs": 40}
SLOW = {**QUICK, "epochs": 400, "epochs_per_second": 40}  # ~10 s a run: still going when asked


def post_sweep(server, body: dict) -> requests.Response:
    return requests.post(f"{server.url}/api/sweeps", json=body, timeout=60)


def sweep_of(server, sweep_id: str) -> dict:
    answer = requests.get(f"{server.url}/api/sweeps/{sweep_id}", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_sweep(server, sweep_id: str, status: str = "finished", timeout: float = 90) -> dict:
    return wait_until(lambda: (s := sweep_of(server, sweep_id))["status"] == status and s,
                      timeout, f"sweep {sweep_id} {status}")  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A database of the test's own, SQLite then PostgreSQL: not the module's `stored_server`'s,
    whose scheduler, on a shared database, would claim a restarted test's sweep as its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    import postgres_helpers

    return postgres_helpers.database_url()


def test_a_grid_finishes_with_every_run_and_its_results(stored_server):
    body = {"base": QUICK, "vary": {"hidden": [[4], [16, 16]], "lr": [0.01, 0.05]}, "seeds": 3}
    created = post_sweep(stored_server, body)
    assert created.status_code == 201, created.text
    assert created.json()["runs"] == 12
    sweep_id = created.json()["id"]
    done = wait_sweep(stored_server, sweep_id)
    assert len(done["runs"]) == 12
    assert {run["status"] for run in done["runs"]} == {"finished"}
    assert len({run["id"] for run in done["runs"]}) == 12
    text = requests.get(f"{stored_server.url}/api/sweeps/{sweep_id}/results",
                        params={"format": "csv"}, timeout=30).text  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 12
    assert list(rows[0])[:2] == ["hidden", "lr"]
    columns = {"seed", "params", "best_test_loss", "final_test_loss", "epochs", "seconds"}
    assert columns <= set(rows[0])
    combos = sorted((row["hidden"], float(row["lr"]), int(row["seed"])) for row in rows)
    expected = sorted((h, lr, seed) for h in ("[4]", "[16, 16]") for lr in (0.01, 0.05)
                      for seed in range(3))  # fmt: skip
    assert combos == expected
    assert {int(row["params"]) for row in rows} == {13, 1 * 16 + 16 + 16 * 16 + 16 + 17}
    assert all(float(row["best_test_loss"]) <= float(row["final_test_loss"]) * (1 + 1e-5) + 1e-9
               for row in rows)
    assert {int(row["epochs"]) for row in rows} == {40}
    # each run is an ordinary run: its status, its history, its config with the varied values
    run = done["runs"][-1]
    status = run_status(stored_server, run["id"])
    assert status["config"]["hidden"] == [16, 16] and status["config"]["lr"] == 0.05
    assert status["config"]["seed"] == 2
    history = requests.get(f"{stored_server.url}/api/runs/{run['id']}/history", timeout=30)
    assert len(history.json()["epoch"]) == 40
    listed = requests.get(f"{stored_server.url}/api/sweeps", timeout=30).json()
    assert sweep_id in [entry["id"] for entry in listed]


def test_bad_sweeps_are_400s_that_say_why(stored_server):
    too_many = post_sweep(stored_server, {"base": QUICK, "vary": {
        "lr": [0.01 * k for k in range(1, 11)], "hidden": [[n] for n in range(1, 8)]},
        "seeds": 3})  # fmt: skip
    assert too_many.status_code == 400
    assert "210 runs" in too_many.json()["errors"]["runs"]
    bad_value = post_sweep(stored_server, {"base": QUICK, "vary": {"lr": [0.01, 99.0]}})
    assert bad_value.status_code == 400
    message = bad_value.json()["errors"]["vary.lr"]
    assert "lr = 99.0" in message
    over_budget = post_sweep(stored_server, {"base": {**QUICK, "epochs": 100_000},
                                             "vary": {"hidden": [[4], [512, 512, 512]]}})
    assert over_budget.status_code == 400
    assert "over the budget" in over_budget.json()["errors"]["base.epochs"]
    momentum = post_sweep(stored_server, {"base": QUICK, "vary": {"momentum": [0.1]}})
    assert momentum.status_code == 400
    assert post_sweep(stored_server, ["not", "a", "sweep"]).status_code == 400


def test_stop_and_delete_end_every_run_of_the_sweep(stored_server):
    body = {"base": SLOW, "vary": {"lr": [0.01, 0.02, 0.03]}, "seeds": 2}
    stopped = post_sweep(stored_server, body).json()["id"]
    wait_until(lambda: sweep_of(stored_server, stopped)["counts"]["running"] >= 2, 30)
    answer = requests.post(f"{stored_server.url}/api/sweeps/{stopped}/stop", timeout=60)
    assert answer.status_code == 200
    sweep = wait_sweep(stored_server, stopped, "stopped")
    wait_until(lambda: all(run["status"] in TERMINAL | {"cancelled"}
                           for run in sweep_of(stored_server, stopped)["runs"]), 30)  # fmt: skip
    runs = sweep_of(stored_server, stopped)["runs"]
    assert any(run["status"] == "stopped" for run in runs)
    assert any(run["status"] == "cancelled" and run["id"] is None for run in runs)
    assert sweep["status"] == "stopped"
    # the never-started runs are counted apart, not as ended
    counts = sweep_of(stored_server, stopped)["counts"]
    cancelled = sum(run["status"] == "cancelled" for run in runs)
    assert counts["cancelled"] == cancelled > 0
    assert counts["ended"] == len(runs) - cancelled
    listed = requests.get(f"{stored_server.url}/api/sweeps", timeout=30).json()
    assert [s["counts"] for s in listed if s["id"] == stopped] == [counts]

    deleted = post_sweep(stored_server, body).json()["id"]
    wait_until(lambda: sweep_of(stored_server, deleted)["counts"]["running"] >= 2, 30)
    ids = [run["id"] for run in sweep_of(stored_server, deleted)["runs"] if run["id"]]
    answer = requests.delete(f"{stored_server.url}/api/sweeps/{deleted}", timeout=60)
    assert answer.status_code == 200 and answer.json()["deleted"] is True
    assert requests.get(f"{stored_server.url}/api/sweeps/{deleted}", timeout=30).status_code == 404
    for run_id in ids:
        assert requests.get(f"{stored_server.url}/api/runs/{run_id}", timeout=30).status_code == 404
    manager = stored_server.app.extensions["runs"]
    assert not [run for run in manager.runs() if run.status not in TERMINAL]


def test_halving_stops_about_half_the_runs_at_the_first_rung(stored_server):
    base = {**QUICK, "epochs": 80, "epochs_per_second": 200}
    # the likely best configs first: runs reach the rung (50 ms in) about in the order they start
    body = {"base": base, "vary": {"lr": [0.1, 0.03, 0.01, 0.003], "hidden": [[32], [8], [2]]},
            "early_stop": "halving"}  # fmt: skip
    sweep_id = post_sweep(stored_server, body).json()["id"]
    runs = wait_sweep(stored_server, sweep_id)["runs"]
    assert len(runs) == 12
    first = [run for run in runs if "the rung of epoch 10 " in (run["reason"] or "")]
    # asynchronous halving: a run reaching the rung is judged against those there before it, so
    # how many stop depends on the order they arrive in (a loaded machine stopped 2 of 12 once,
    # and none would stop were they to arrive from the worst to the best: hence the order
    # above); each stop names a worst half of at least two runs, and the best goes on to the end
    assert 1 <= len(first) <= 11, [run["reason"] for run in runs]
    for run in first:
        counted = re.search(r"in the worst half of the (\d+) runs", run["reason"])
        assert counted and 2 <= int(counted.group(1)) <= 12, run["reason"]
    assert all(run["epoch"] < 80 for run in first)
    assert any(run["epoch"] == 80 for run in runs)  # the best went on to the end


def test_a_big_sweep_is_not_refused_by_the_limit_nor_starves_a_single_run(database):
    # room for exactly one more single run once 60 are unfinished: the 61st is accepted only
    # because the sweep's unfinished runs (up to 4 at once) do not count
    config = {"DATABASE_URL": database, "TRAINING_PROCESSES": False, "MAX_ACTIVE_RUNS": 2,
              "SWEEP_PARALLEL": 4, "MAX_UNFINISHED_RUNS": 61, "RECORD_INTERVAL": 0.5}  # fmt: skip
    with running_server(config) as server:
        paced = {"task": "sin", "samples": 50, "epochs": 1000, "epochs_per_second": 2}
        singles = [start_run(server, **paced) for _ in range(60)]
        vary = {"lr": [0.001 * k for k in range(1, 16)], "hidden": [[n] for n in range(1, 11)]}
        body = {"base": {**QUICK, "epochs": 100}, "vary": vary}
        created = post_sweep(server, body)
        assert created.status_code == 201, created.text
        assert created.json()["runs"] == 150
        sweep_id = created.json()["id"]
        wait_until(lambda: sweep_of(server, sweep_id)["counts"]["ended"] >= 2, 60)
        manager = server.app.extensions["runs"]
        wait_until(lambda: sum(run.status not in TERMINAL and run.sweep is not None
                               for run in manager.runs()) >= 3, 30)  # fmt: skip
        single = start_run(server, **QUICK)  # the 61st single run: within the limit
        wait_status(server, single, "finished", timeout=60)
        counts = sweep_of(server, sweep_id)["counts"]
        assert counts["waiting"] > 0, counts  # the single run did not wait for the whole sweep
        assert sweep_of(server, sweep_id)["status"] == "running"
        unfinished = [s for s in singles if run_status(server, s)["status"] not in TERMINAL]
        assert len(unfinished) == 60
        requests.post(f"{server.url}/api/sweeps/{sweep_id}/stop", timeout=60)


def _three_one_at_a_time(server) -> str:
    """A sweep of three short paced runs on a server that trains one at a time: its id, once
    the first runs."""
    base = {**QUICK, "epochs": 30, "epochs_per_second": 30}
    sweep_id = post_sweep(server, {"base": base, "vary": {"lr": [0.01, 0.02, 0.03]}}).json()["id"]
    wait_until(lambda: sweep_of(server, sweep_id)["counts"]["running"] == 1, 30)
    return sweep_id

def test_a_sweep_waits_for_a_run_a_dead_process_left_running(database):
    """The first server "dies" with its sweep's first run unfinished (its row says running, its
    heartbeat fresh): the restarted server's sweep is finished only once that row reads
    interrupted, so a finished sweep never lists a running run."""
    config = {"DATABASE_URL": database, "MAX_ACTIVE_RUNS": 1, "RECORD_INTERVAL": 0.2}
    with running_server(config) as first:
        sweep_id = _three_one_at_a_time(first)
        orphan = sweep_of(first, sweep_id)["runs"][0]["id"]
    store = RunStore(database)
    try:  # as a process that died mid-run leaves it: unfinished, another owner, heartbeat now
        store.update_run(orphan, status="running", reason=None, ended=None,
                         owner="a-process-that-died", updated=time.time())  # fmt: skip
    finally:
        store.close()
    with running_server(config) as again:
        done = wait_sweep(again, sweep_id)
        assert [run["status"] for run in done["runs"]][0] == "interrupted"
        assert all(run["status"] in TERMINAL for run in done["runs"]), done["runs"]


def test_a_restarted_server_goes_on_starting_the_waiting_runs(database):
    config = {"DATABASE_URL": database, "MAX_ACTIVE_RUNS": 1, "RECORD_INTERVAL": 0.2}
    with running_server(config) as first:
        sweep_id = _three_one_at_a_time(first)
        before = sweep_of(first, sweep_id)
        # held paused till the server goes, so the other two are still waiting then (a loaded
        # machine may take longer to shut down than this run takes to finish)
        paused = requests.post(f"{first.url}/api/runs/{before['runs'][0]['id']}/pause", timeout=30)
        assert paused.json()["status"] == "paused"
        assert sweep_of(first, sweep_id)["counts"]["waiting"] == 2
    with running_server(config) as again:
        done = wait_sweep(again, sweep_id)
        runs = done["runs"]
        assert [run["status"] for run in runs[1:]] == ["finished", "finished"]
        assert all(run["id"] for run in runs)
        assert runs[0]["id"] == before["runs"][0]["id"]
        assert runs[0]["status"] in TERMINAL
