"""Every way to start training work meets the same budget (issue 24, point 4): continuing a run
for more epochs than `WORK_BUDGET` allows is the 400 on ``epochs`` that creation answers."""

from __future__ import annotations

import requests
from server_helpers import start_run, wait_status

from app.data.tasks import TASKS
from app.runs.validation import run_work, validate_run

BUDGET = 1e8


def test_continue_over_the_budget_is_the_400_of_creation(make_live_server):
    server = make_live_server({"WORK_BUDGET": BUDGET})
    config = {"task": "sin", "samples": 200, "epochs": 5}
    run_id = start_run(server, **config)
    wait_status(server, run_id, "finished")
    over = requests.post(
        f"{server.url}/api/runs/{run_id}/continue", json={"epochs": 100_000}, timeout=10
    )
    assert over.status_code == 400, over.text
    validated, _task = validate_run(config, work_budget=None)
    assert run_work({**validated, "epochs": 100_000}, TASKS["sin"]) > BUDGET
    created = requests.post(
        f"{server.url}/api/runs", json={**config, "epochs": 100_000}, timeout=10
    )
    assert created.status_code == 400
    assert set(over.json()["errors"]) == set(created.json()["errors"]) == {"epochs"}
    assert "over the budget" in over.json()["errors"]["epochs"]
    within = requests.post(
        f"{server.url}/api/runs/{run_id}/continue", json={"epochs": 5}, timeout=10
    )
    assert within.status_code == 201, within.text
