"""GET /api/schema on a real server: the run config's JSON Schema, and the limits it states are
the ones POST /api/runs enforces."""

from __future__ import annotations

import pytest
import requests

from app.web.openapi import run_config_json_schema


@pytest.fixture(scope="module")
def schema(server):
    response = requests.get(f"{server.url}/api/schema", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_the_schema_is_served_as_json_schema_2020_12(schema):
    assert schema == run_config_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    ("field", "keyword"),
    [("lr", "maximum"), ("epochs", "maximum"), ("samples", "minimum"), ("seed", "maximum")],
)
def test_a_served_limit_is_the_one_runs_are_refused_at(server, schema, field, keyword):
    bound = schema["properties"][field][keyword]
    past = bound + (1 if keyword == "maximum" else -1)
    response = requests.post(
        f"{server.url}/api/runs", json={"task": "sin", field: past}, timeout=10
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {field}


def test_the_learning_rate_at_its_served_maximum_starts_a_run(server, schema):
    lr = schema["properties"]["lr"]["maximum"]
    body = {"task": "sin", "lr": lr, "epochs": 1, "samples": 20}
    response = requests.post(f"{server.url}/api/runs", json=body, timeout=10)
    assert response.status_code == 201, response.text
    assert response.json()["config"]["lr"] == lr == 10


def test_the_served_task_ids_are_those_of_api_tasks(server, schema):
    tasks = requests.get(f"{server.url}/api/tasks", timeout=10).json()
    assert schema["properties"]["task"]["anyOf"][0]["enum"] == [
        *(task["id"] for task in tasks),
        "custom",
    ]
