"""REST API against a real server: task registry, config validation, run control, pages."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from server_helpers import FAST, start_run, wait_status

SURFACES = {"saddle", "bowl", "sincos", "gaussian", "peaks", "ripple"}


def test_tasks_are_listed_with_kind_formula_domain_and_defaults(live_server):
    tasks = requests.get(f"{live_server.url}/api/tasks", timeout=10).json()
    by_id = {task["id"]: task for task in tasks}
    assert {"sin", "square"} | SURFACES <= set(by_id)
    assert by_id["sin"]["inputs"] == 1 and by_id["sin"]["kind"] == "regression"
    assert by_id["sin"]["domain"] == [
        [pytest.approx(-3.14159, rel=1e-4), pytest.approx(3.14159, rel=1e-4)]
    ]
    assert by_id["square"]["formula"] == "x²" and by_id["square"]["domain"] == [[-1.0, 1.0]]
    for task_id in SURFACES:
        task = by_id[task_id]
        assert task["inputs"] == 2 and len(task["domain"]) == 2 and task["formula"]
        assert task["defaults"]["samples"] == 2000
    defaults = by_id["sin"]["defaults"]
    assert defaults["hidden"] == [32, 32] and defaults["activation"] == "tanh"
    assert defaults["optimizer"] == "adam" and defaults["lr"] == 0.01
    assert defaults["epochs"] == 500 and defaults["samples"] == 500
    assert defaults["test_fraction"] == 0.3 and defaults["seed"] == 0


def test_a_valid_config_gets_an_id_and_its_defaults_filled_in(live_server):
    response = requests.post(
        f"{live_server.url}/api/runs", json={"task": "saddle", "epochs": 5}, timeout=10
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"] and body["config"]["task"] == "saddle"
    assert body["config"]["epochs"] == 5 and body["config"]["hidden"] == [32, 32]
    assert body["config"]["domain"] == [[-1.0, 1.0], [-1.0, 1.0]]


BAD_CONFIGS = [
    ({"task": "cosine"}, "task", "unknown task"),
    ({}, "task", "required"),
    ({"task": "sin", "colour": "red"}, "colour", "unknown field"),
    ({"task": "sin", "hidden": [16, 0]}, "hidden", "1 to 1024"),
    ({"task": "sin", "hidden": [1025]}, "hidden", "1 to 1024"),
    ({"task": "sin", "hidden": [4] * 9}, "hidden", "at most 8"),
    ({"task": "sin", "hidden": "16,16"}, "hidden", "list"),
    ({"task": "sin", "hidden": [16.5]}, "hidden", "1 to 1024"),
    ({"task": "sin", "lr": "fast"}, "lr", "number"),
    ({"task": "sin", "lr": 0}, "lr", "above 0 and at most 10"),
    ({"task": "sin", "lr": -0.1}, "lr", "above 0 and at most 10"),
    ({"task": "sin", "lr": 10.0001}, "lr", "above 0 and at most 10, got 10.0001"),
    ({"task": "sin", "lr": True}, "lr", "number"),
    ({"task": "sin", "batch_size": 0}, "batch_size", "from 1 to 500"),
    ({"task": "sin", "samples": 100, "batch_size": 101}, "batch_size", "from 1 to 100"),
    ({"task": "sin", "epochs": 0}, "epochs", "from 1 to 100000"),
    ({"task": "sin", "epochs": 100_001}, "epochs", "from 1 to 100000"),
    ({"task": "sin", "epochs": 10.5}, "epochs", "whole number"),
    ({"task": "sin", "samples": 9}, "samples", "from 10 to 100000"),
    ({"task": "sin", "samples": 100_001}, "samples", "from 10 to 100000"),
    ({"task": "sin", "test_fraction": 0}, "test_fraction", "above 0 and at most 0.9"),
    ({"task": "sin", "test_fraction": 0.95}, "test_fraction", "above 0 and at most 0.9"),
    ({"task": "sin", "activation": "swish"}, "activation", "one of"),
    ({"task": "sin", "optimizer": "lbfgs"}, "optimizer", "one of"),
    ({"task": "sin", "noise": -1}, "noise", "from 0 to 1000000"),
    ({"task": "sin", "seed": -1}, "seed", "from 0"),
    ({"task": "sin", "domain": [[1, -1]]}, "domain", "lo < hi"),
    ({"task": "saddle", "domain": [[-1, 1]]}, "domain", "2 pair"),
    ({"task": "sin", "momentum": 1.5}, "momentum", "below 1"),
    ({"task": "sin", "hidden": [True]}, "hidden", "layer 1 has true neurons"),  # JSON, not Python
]


@pytest.mark.parametrize(("config", "field", "message"), BAD_CONFIGS)
def test_each_bad_field_gets_its_own_400_message(live_server, config, field, message):
    response = requests.post(f"{live_server.url}/api/runs", json=config, timeout=10)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {field}, errors
    assert message in errors[field]
    assert requests.get(f"{live_server.url}/api/runs", timeout=10).json() == []


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "42", ""])
def test_a_body_that_is_not_a_json_object_is_a_400(live_server, body):
    response = requests.post(
        f"{live_server.url}/api/runs",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "JSON object" in response.json()["errors"]["body"]


def test_every_bad_field_is_reported_at_once(live_server):
    config = {"task": "nope", "hidden": [0], "lr": "x", "epochs": 0, "extra": 1}
    response = requests.post(f"{live_server.url}/api/runs", json=config, timeout=10)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"task", "hidden", "lr", "epochs", "extra"}


@pytest.mark.parametrize("action", ["pause", "resume", "stop"])
def test_unknown_runs_are_404(live_server, action):
    assert requests.get(f"{live_server.url}/api/runs/nope", timeout=10).status_code == 404
    response = requests.post(f"{live_server.url}/api/runs/nope/{action}", timeout=10)
    assert response.status_code == 404


@pytest.mark.parametrize("action", ["pause", "resume", "stop"])
def test_ended_runs_answer_409(live_server, action):
    run_id = start_run(live_server, task="sin", **FAST)
    wait_status(live_server, run_id, "finished")
    response = requests.post(f"{live_server.url}/api/runs/{run_id}/{action}", timeout=10)
    assert response.status_code == 409
    assert response.json()["status"] == "finished"


def test_runs_are_listed_oldest_first(live_server):
    first = start_run(live_server, task="sin", epochs=3, samples=20)
    second = start_run(live_server, task="bowl", epochs=3, samples=20)
    listed = requests.get(f"{live_server.url}/api/runs", timeout=10).json()
    assert [run["id"] for run in listed] == [first, second]
    assert {"status", "epoch", "epochs", "train_loss", "test_loss", "config"} <= set(listed[0])


# --------------------------------------------------------------------------- pages

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STATIC = Path(__file__).resolve().parents[2] / "static"
needs_templates = pytest.mark.skipif(
    not (TEMPLATES / "index.html").exists() or not (TEMPLATES / "404.html").exists(),
    reason="dashboard templates not written yet",
)


@needs_templates
@pytest.mark.parametrize("path", ["/", "/fit/sin", "/fit/peaks", "/fit/moons"])
def test_the_dashboard_pages_render(live_server, path):
    response = requests.get(live_server.url + path, timeout=10)
    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]


@needs_templates
def test_an_unknown_task_page_is_a_friendly_404(live_server):
    response = requests.get(f"{live_server.url}/fit/cosine", timeout=10)
    assert response.status_code == 404
    assert "Unknown task" in response.text and "cosine" in response.text


def test_plotly_is_served_by_the_app(live_server):
    response = requests.get(f"{live_server.url}/vendor/plotly.min.js", timeout=10)
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert len(response.content) > 1_000_000


@pytest.mark.skipif(not (STATIC / "favicon.svg").exists(), reason="favicon not drawn yet")
def test_the_favicon_is_served(live_server):
    response = requests.get(f"{live_server.url}/favicon.ico", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")


def test_an_unknown_api_address_answers_json_and_a_page_address_html(live_server):
    missing = requests.get(f"{live_server.url}/api/nope", timeout=10)
    assert missing.status_code == 404 and "/api/openapi.json" in missing.json()["error"]
    wrong = requests.delete(f"{live_server.url}/api/tasks", timeout=10)
    assert wrong.status_code == 405 and "DELETE" in wrong.json()["error"]
    page = requests.get(f"{live_server.url}/nope", timeout=10)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
