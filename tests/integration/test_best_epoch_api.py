"""The best epoch on a real server (issue 26), with SQLite and PostgreSQL: status and list
``best_epoch``, ``early_stopping`` ending a run at the right epoch, ``?epoch=best`` exports."""

from __future__ import annotations

import io

import numpy as np
import pytest
import requests
from server_helpers import start_run, wait_status

import network as nn
from app.data.tasks import build_data

OVERFITS = {"task": "sin", "samples": 30, "noise": 0.5, "hidden": [64, 64], "lr": 0.01,
            "epochs": 400}  # fmt: skip


@pytest.fixture(scope="module")
def server(stored_server):
    return stored_server


def exported(server, run_id: str, **params) -> nn.Sequential:
    answer = requests.get(f"{server.url}/api/runs/{run_id}/model", params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return nn.load(io.BytesIO(answer.content))


def grid_and_prediction(server, run_id: str) -> tuple[np.ndarray, np.ndarray]:
    run = server.app.extensions["runs"].get(run_id)
    return build_data(run.task, run.config).grid_x, run.view.prediction


def test_early_stopping_ends_the_run_at_best_plus_patience_with_the_best_weights(server):
    run_id = start_run(server, **OVERFITS, early_stopping={"patience": 20})
    status = wait_status(server, run_id, {"finished", "failed"}, timeout=60)
    assert status["status"] == "finished" and "early stopping" in status["reason"]
    history = requests.get(f"{server.url}/api/runs/{run_id}/history", timeout=30).json()
    best = int(np.argmin(history["test_loss"])) + 1
    assert status["best_epoch"] == best and status["epoch"] == best + 20 < 400
    grid, prediction = grid_and_prediction(server, run_id)
    for params in ({"epoch": "best"}, {}):  # restored: the latest weights are the best
        model = exported(server, run_id, **params)
        np.testing.assert_allclose(model.predict(grid).ravel(), prediction, atol=1e-4, rtol=0)


def test_the_best_epoch_export_differs_from_the_last_when_not_restored(server):
    run_id = start_run(server, **OVERFITS)
    status = wait_status(server, run_id, {"finished", "failed"}, timeout=60)
    assert status["status"] == "finished" and 1 <= status["best_epoch"] < 400
    grid, prediction = grid_and_prediction(server, run_id)
    best, last = exported(server, run_id, epoch="best"), exported(server, run_id)
    np.testing.assert_allclose(last.predict(grid).ravel(), prediction, atol=1e-4, rtol=0)
    assert np.abs(best.predict(grid).ravel() - prediction).max() > 1e-3
    answer = requests.get(f"{server.url}/api/runs/{run_id}/model",
                          params={"epoch": "best", "format": "json"}, timeout=30)  # fmt: skip
    assert answer.status_code == 200
    listed = requests.get(f"{server.url}/api/runs", params={"task": "sin"}, timeout=30).json()
    assert next(r for r in listed if r["id"] == run_id)["best_epoch"] == status["best_epoch"]


@pytest.mark.parametrize("epoch", ["abc", "-1", "last", ""])
def test_an_unknown_epoch_for_the_model_export_is_a_400(server, epoch):
    run_id = start_run(server, task="sin", samples=100, epochs=5)
    wait_status(server, run_id, "finished")
    answer = requests.get(f"{server.url}/api/runs/{run_id}/model", params={"epoch": epoch},
                          timeout=30)  # fmt: skip
    assert answer.status_code == 400 and "epoch" in answer.json()["errors"]
