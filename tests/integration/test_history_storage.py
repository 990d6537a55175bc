"""Stored runs through the server, on SQLite and on PostgreSQL: history export equals the history,
the exported model (nn.load and the torch script) reproduces the run's prediction, DELETE
removes, the list filters, sorts and pages, a run continues from its weights, and a restarted
server serves the runs of the one before."""

from __future__ import annotations

import csv
import importlib.util
import io

import numpy as np
import pytest
import requests
from live_server import running_server
from server_helpers import start_run, wait_status, wait_until

import network as nn
from app.data.tasks import build_data
from app.runs.control import TERMINAL
from app.runs.manager import MAX_ENDED_RUNS_STORED

FAST = {"samples": 200, "epochs": 150}


@pytest.fixture(scope="module")
def database(stored_database: str) -> str:
    return stored_database  # SQLite, then PostgreSQL (tests/conftest.py)


@pytest.fixture(scope="module")
def server(stored_server):
    return stored_server  # storing its runs in `database`


def get(server, path: str, **params) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, timeout=30)


def finished_run(server, **config) -> str:
    run_id = start_run(server, **{**FAST, **config})
    wait_status(server, run_id, "finished")
    return run_id


def _prediction(server, run_id: str) -> tuple[np.ndarray, np.ndarray]:
    """The grid inputs and the run's own prediction there (task units)."""
    run = server.app.extensions["runs"].get(run_id)
    grid = build_data(run.task, run.config).grid_x
    return grid, run.view.prediction


def test_csv_export_equals_the_history(server):
    run_id = finished_run(server, task="sin")
    answer = get(server, f"/api/runs/{run_id}/history", format="csv")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    run = server.app.extensions["runs"].get(run_id)
    assert [int(row["epoch"]) for row in rows] == list(range(1, run.epochs + 1))
    for name in run.history.names:
        exported = np.array([float(row[name]) if row[name] else np.nan for row in rows], np.float32)
        # (a followed history's columns have room beyond its length: compare its epochs)
        np.testing.assert_array_equal(exported, run.history.columns[name][: run.history.length])
    seconds = [float(row["seconds"]) for row in rows]
    assert seconds == sorted(seconds) and seconds[-1] > 0
    as_json = get(server, f"/api/runs/{run_id}/history").json()
    np.testing.assert_array_equal(
        np.array(as_json["test_loss"], np.float32),
        run.history.columns["test_loss"][: run.history.length],
    )
    # whole numbers stay whole: a batch size of 32, not 32.0
    assert {row["batch_size"] for row in rows} == {"32"}
    assert set(as_json["batch_size"]) == {32} and isinstance(as_json["batch_size"][0], int)


def test_memory_keeps_the_last_ended_runs_and_the_database_serves_the_older_ones(server):
    manager = server.app.extensions["runs"]
    first = finished_run(server, task="sin", epochs=5)
    before = get(server, f"/api/runs/{first}/history", format="csv").text
    for _ in range(MAX_ENDED_RUNS_STORED + 2):
        finished_run(server, task="sin", epochs=5)
    wait_until(lambda: all(run.closed for run in manager.runs()), what="every end stored")
    ended = [run for run in manager.runs() if run.status in TERMINAL]
    assert len(ended) <= MAX_ENDED_RUNS_STORED + 1  # (+ the last, forgotten at the next end)
    assert first not in {run.id for run in manager.runs()}
    answer = get(server, f"/api/runs/{first}").json()
    assert answer["status"] == "finished" and answer["epoch"] == 5
    assert get(server, f"/api/runs/{first}/history", format="csv").text == before


def test_the_short_id_the_runs_page_shows_finds_the_run(server):
    run_id = finished_run(server, task="sin", epochs=5)
    for _ in range(MAX_ENDED_RUNS_STORED + 1):  # and once it is only in the database
        short = get(server, f"/api/runs/{run_id[:8]}")
        assert short.status_code == 200 and short.json()["id"] == run_id
        finished_run(server, task="sin", epochs=2)
    # forgotten once the last run's end hooks ran (its status says finished a little before)
    wait_until(lambda: run_id not in {run.id for run in server.app.extensions["runs"].runs()},
               what="the run to be forgotten in memory")  # fmt: skip
    assert get(server, f"/api/runs/{run_id[:8]}").json()["id"] == run_id
    assert get(server, f"/api/runs/{run_id[:8]}/history", format="csv").status_code == 200
    too_short = get(server, f"/api/runs/{run_id[:5]}")  # too short to look up: it says so
    assert too_short.status_code == 404 and "at least 6 characters" in too_short.json()["error"]
    renamed = requests.patch(f"{server.url}/api/runs/{run_id[:8]}/meta", json={"name": "short"},
                             timeout=30)  # fmt: skip
    assert renamed.status_code == 200 and renamed.json()["id"] == run_id
    deleted = requests.delete(f"{server.url}/api/runs/{run_id[:8]}", timeout=30)
    assert deleted.status_code == 200 and deleted.json()["id"] == run_id


@pytest.mark.parametrize("task", ["sin", "saddle"])
def test_npz_and_torch_exports_reproduce_the_prediction_on_the_grid(server, task, tmp_path):
    import torch

    run_id = finished_run(server, task=task, hidden=[16, 16], activation="gelu", dropout=0.1)
    grid, prediction = _prediction(server, run_id)
    npz = get(server, f"/api/runs/{run_id}/model", format="npz")
    assert npz.status_code == 200
    (tmp_path / "model.npz").write_bytes(npz.content)
    model = nn.load(tmp_path / "model.npz")
    np.testing.assert_allclose(model.predict(grid).ravel(), prediction, atol=1e-4, rtol=0)

    script = get(server, f"/api/runs/{run_id}/model", format="torch")
    assert script.status_code == 200
    (tmp_path / "exported.py").write_text(script.text)
    spec = importlib.util.spec_from_file_location("exported", tmp_path / "exported.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert isinstance(module.model, torch.nn.Module)
    with torch.no_grad():
        predicted = module.model(torch.from_numpy(grid)).numpy().ravel()
    np.testing.assert_allclose(predicted, prediction, atol=1e-4, rtol=0)


def test_classification_export_predicts_the_same_classes(server, tmp_path):
    run_id = finished_run(server, task="moons", epochs=20)
    grid, prediction = _prediction(server, run_id)
    (tmp_path / "m.npz").write_bytes(get(server, f"/api/runs/{run_id}/model").content)
    scores = nn.load(tmp_path / "m.npz").predict(grid)
    np.testing.assert_array_equal(scores.argmax(axis=1), prediction.classes)
    as_json = get(server, f"/api/runs/{run_id}/model", format="json").json()
    assert as_json["y_scaler"] is None and as_json["kind"] == "classification"


def test_a_run_with_input_features_refuses_npz_with_the_reason(server):
    run_id = finished_run(server, task="sin", input_features=["x", "x**2"])
    answer = get(server, f"/api/runs/{run_id}/model", format="npz")
    assert answer.status_code == 400 and "input features" in answer.json()["errors"]["format"]
    assert get(server, f"/api/runs/{run_id}/model", format="json").status_code == 200


def test_bad_export_requests_get_clear_errors(server):
    run_id = finished_run(server, task="sin", epochs=5)
    assert get(server, f"/api/runs/{run_id}/model", format="onnx").status_code == 400
    assert get(server, f"/api/runs/{run_id}/history", format="xls").status_code == 400
    assert get(server, "/api/runs/nope/history").status_code == 404
    assert get(server, "/api/runs/nope/model").status_code == 404


def test_delete_removes_the_run_and_its_data(server):
    run_id = finished_run(server, task="sin", epochs=5)
    assert requests.delete(f"{server.url}/api/runs/{run_id}", timeout=10).status_code == 200
    assert get(server, f"/api/runs/{run_id}").status_code == 404
    assert run_id not in [run["id"] for run in get(server, "/api/runs").json()]
    store = server.app.extensions["store"]
    assert store.summary(run_id) is None and store.checkpoint(run_id) is None
    assert requests.delete(f"{server.url}/api/runs/{run_id}", timeout=10).status_code == 404


def test_delete_stops_a_run_that_is_still_training(server):
    run_id = start_run(server, task="sin", epochs=100_000, samples=2000)
    wait_status(server, run_id, "running")
    assert requests.delete(f"{server.url}/api/runs/{run_id}", timeout=10).status_code == 200
    assert get(server, f"/api/runs/{run_id}").status_code == 404
    server.app.extensions["runs"].recorder.flush()
    assert server.app.extensions["store"].summary(run_id) is None


def test_list_filters_sorts_and_pages(server):
    ids = [finished_run(server, task="bowl", lr=lr, epochs=40) for lr in (0.1, 0.003, 0.03)]
    listed = get(server, "/api/runs", task="bowl", sort="best_test_loss").json()
    assert sorted(run["id"] for run in listed) == sorted(ids)
    losses = [run["best_test_loss"] for run in listed]
    assert losses == sorted(losses)
    descending = get(server, "/api/runs", task="bowl", sort="-best_test_loss").json()
    assert [run["id"] for run in descending] == [run["id"] for run in listed][::-1]
    assert [run["id"] for run in get(server, "/api/runs", task="bowl").json()] == ids  # created
    page = get(server, "/api/runs", task="bowl", limit=1, offset=1).json()
    assert [run["id"] for run in page] == ids[1:2]
    finished = get(server, "/api/runs", status="finished").json()
    assert finished and all(run["status"] == "finished" for run in finished)
    assert get(server, "/api/runs", status="running", task="bowl").json() == []
    for bad in ({"sort": "colour"}, {"limit": "0"}, {"offset": "-1"}, {"status": "sleepy"}):
        answer = get(server, "/api/runs", **bad)
        assert answer.status_code == 400 and set(answer.json()["errors"]) == set(bad)


def test_rename_and_notes(server):
    run_id = finished_run(server, task="sin", epochs=5)
    answer = requests.patch(
        f"{server.url}/api/runs/{run_id}/meta", json={"name": "tiny", "notes": "a try"}, timeout=10
    )
    assert answer.status_code == 200 and answer.json()["name"] == "tiny"
    listed = {run["id"]: run for run in get(server, "/api/runs").json()}
    assert listed[run_id]["name"] == "tiny" and listed[run_id]["notes"] == "a try"
    bad = requests.patch(f"{server.url}/api/runs/{run_id}/meta", json={"name": 3}, timeout=10)
    assert bad.status_code == 400 and "name" in bad.json()["errors"]


def test_continue_starts_a_new_run_from_the_saved_weights(server):
    run_id = start_run(server, task="sin", epochs=100_000, samples=2000)
    wait_until(lambda: get(server, f"/api/runs/{run_id}").json()["epoch"] >= 3)
    assert requests.post(f"{server.url}/api/runs/{run_id}/continue", timeout=10).status_code == 409
    requests.post(f"{server.url}/api/runs/{run_id}/stop", timeout=10)
    wait_status(server, run_id, "stopped")
    answer = requests.post(
        f"{server.url}/api/runs/{run_id}/continue", json={"epochs": 5}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    new_id = answer.json()["id"]
    assert answer.json()["continued_from"] == run_id
    first_loss = get(server, f"/api/runs/{run_id}/history").json()["train_loss"][0]
    wait_status(server, new_id, "finished")
    continued = get(server, f"/api/runs/{new_id}/history").json()
    assert len(continued["epoch"]) == 5 and continued["train_loss"][0] < first_loss
    listed = {run["id"]: run for run in get(server, "/api/runs").json()}
    assert listed[new_id]["continued_from"] == run_id
    # a run that trained all its epochs continues, by default, for as many again
    again = requests.post(f"{server.url}/api/runs/{new_id}/continue", timeout=10)
    assert again.status_code == 201 and again.json()["config"]["epochs"] == 5, again.text
    requests.post(f"{server.url}/api/runs/{again.json()['id']}/stop", timeout=10)


def test_a_paused_run_keeps_its_weights_as_they_are_when_it_pauses(server):
    run_id = start_run(server, task="sin", epochs=100_000)
    wait_until(lambda: get(server, f"/api/runs/{run_id}").json()["epoch"] >= 200)
    requests.post(f"{server.url}/api/runs/{run_id}/pause", timeout=10)
    epoch = get(server, f"/api/runs/{run_id}").json()["epoch"]
    # taken at the pause, not ~10 s earlier: a restart or a continue starts from these
    assert get(server, f"/api/runs/{run_id}/model", format="json").json()["epoch"] == epoch
    requests.post(f"{server.url}/api/runs/{run_id}/stop", timeout=10)


def test_live_changes_are_stored_so_a_reload_and_a_continue_use_them(server):
    run_id = start_run(server, task="sin", epochs=100_000, samples=2000, lr=0.01)
    wait_until(lambda: get(server, f"/api/runs/{run_id}").json()["epoch"] >= 2)
    changes = {"lr": 0.003, "batch_size": 16, "weight_decay": 0.0001}
    patched = requests.patch(f"{server.url}/api/runs/{run_id}", json=changes, timeout=10)
    assert patched.status_code == 200, patched.text
    stored = server.app.extensions["store"].summary(run_id)["config"]  # what a restart reads
    assert {name: stored[name] for name in changes} == changes
    requests.post(f"{server.url}/api/runs/{run_id}/stop", timeout=10)
    wait_status(server, run_id, "stopped")
    continued = requests.post(f"{server.url}/api/runs/{run_id}/continue", json={"epochs": 2},
                              timeout=10).json()  # fmt: skip
    assert {name: continued["config"][name] for name in changes} == changes


def test_a_new_server_on_the_same_database_serves_the_runs_of_the_last(server, database):
    run_id = finished_run(server, task="saddle", epochs=30)
    # the end hook writes the final state (status, last epochs, weights) in one transaction just
    # after the status turns terminal in memory
    store = server.app.extensions["store"]
    wait_until(lambda: store.summary(run_id)["status"] == "finished")
    before = get(server, f"/api/runs/{run_id}/history", format="csv").text
    grid, prediction = _prediction(server, run_id)
    with running_server({"DATABASE_URL": database}) as again:
        assert get(again, f"/api/runs/{run_id}").json()["status"] == "finished"
        assert get(again, f"/api/runs/{run_id}/history", format="csv").text == before
        model = get(again, f"/api/runs/{run_id}/model")
        buffer = io.BytesIO(model.content)
        loaded = nn.load(buffer)
        np.testing.assert_allclose(loaded.predict(grid).ravel(), prediction, atol=1e-4, rtol=0)
        rebuilt = again.app.extensions["runs"].get(run_id)
        assert rebuilt.payloads_now() is not None
        np.testing.assert_allclose(rebuilt.view.prediction, prediction, atol=1e-5, rtol=0)
