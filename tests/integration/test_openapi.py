"""GET /api/openapi.json describes the whole REST API from the validation schemas, and
schemathesis, run against a live server, finds no 5xx and no response off the description."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from app.config.schema import LIVE, OPTIMIZERS_USING
from app.runs.validation import STEERABLE_FIELDS
from app.web.openapi import run_config_json_schema

ROOT = Path(__file__).resolve().parents[2]
# Bounded so the suite stays well under 15 minutes on 2 cores.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))
MAX_SECONDS = int(os.environ.get("SCHEMATHESIS_MAX_SECONDS", "75"))
CHECKS = ",".join(("not_a_server_error", "status_code_conformance", "content_type_conformance",
                   "response_schema_conformance"))  # fmt: skip


def test_every_api_route_is_described(live_server):
    document = requests.get(f"{live_server.url}/api/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    assert document["x-undescribed"] == []
    described = {
        (path, method.upper()) for path, operations in document["paths"].items()
        for method in operations
    }  # fmt: skip
    routes = {
        (rule.rule.replace("<", "{").replace(">", "}"), method)
        for rule in live_server.app.url_map.iter_rules() if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }  # fmt: skip
    assert described == routes


def test_the_run_config_is_the_validation_schema(live_server):
    document = requests.get(f"{live_server.url}/api/openapi.json", timeout=10).json()
    served = document["components"]["schemas"]["RunConfig"]
    source = run_config_json_schema()
    assert served["properties"].keys() == source["properties"].keys()
    assert served["properties"]["epochs"] == source["properties"]["epochs"]
    assert served["required"] == source["required"]
    for name in source.get("$defs", {}):
        assert name in document["components"]["schemas"]
    body = document["paths"]["/api/runs"]["post"]["requestBody"]
    reference = {"$ref": "#/components/schemas/RunConfig"}
    assert body["content"]["application/json"]["schema"] == reference
    patch = document["paths"]["/api/runs/{run_id}"]["patch"]["requestBody"]
    fields = patch["content"]["application/json"]["schema"]["properties"]
    assert set(fields) == set(STEERABLE_FIELDS) >= {"lr", "epochs_per_second", "batch_size"}
    assert fields["lr"] == source["properties"]["lr"]
    # the same metadata the page reads: live fields, and which optimizers use momentum
    served_schema = requests.get(f"{live_server.url}/api/schema", timeout=10).json()
    live = {name for name, prop in served_schema["properties"].items() if prop.get(LIVE)}
    assert set(fields) == live
    assert fields["momentum"][OPTIMIZERS_USING] == ["sgd", "rmsprop"]


@pytest.mark.timeout(MAX_SECONDS + 120)
def test_schemathesis_finds_no_server_error_and_no_off_schema_answer(make_live_server, tmp_path):
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if cli is None:
        pytest.fail("schemathesis is not installed (pip install -e '.[test]')")
    # tiny runs only: what schemathesis starts must not keep the machine busy
    live = make_live_server({"WORK_BUDGET": 1e7, "MAX_ACTIVE_RUNS": 1, "MAX_UNFINISHED_RUNS": 4})
    result = subprocess.run(
        [cli, "run", f"{live.url}/api/openapi.json", "--checks", CHECKS,
         "--max-examples", str(MAX_EXAMPLES), "--max-time", str(MAX_SECONDS), "--workers", "1",
         "--seed", "1", "--suppress-health-check", "all"],
        cwd=tmp_path, capture_output=True, text=True, timeout=MAX_SECONDS + 100,
    )  # fmt: skip
    for run in live.app.extensions["runs"].runs():
        live.app.extensions["runs"].stop(run)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
