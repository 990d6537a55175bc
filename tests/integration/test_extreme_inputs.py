"""4xx, never 500, for any input (issue 24, point 7), on a server storing its runs in SQLite and
in PostgreSQL: integers of 309+ digits in every number field, lone surrogates and NUL characters
in text, the maxima of weight_decay and noise, and every error answered as JSON."""

from __future__ import annotations

import requests
from server_helpers import start_run, wait_status

from app.config.schema import FIELDS, STEERABLE_FIELDS

HUGE = "1" + "0" * 320  # beyond float's range: int -> float overflows


def _post(server, path: str, raw: str) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    return requests.post(f"{server.url}{path}", data=raw.encode(), headers=headers, timeout=30)


def _refused(answer: requests.Response) -> dict:
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["Content-Type"].startswith("application/json"), answer.text
    return answer.json()


def _ended_run(server) -> str:
    run_id = start_run(server, task="sin", samples=100, epochs=2)
    wait_status(server, run_id, "finished")
    return run_id


def test_huge_integers_in_every_number_field_are_4xx(stored_server):
    for name in FIELDS:
        for huge in (HUGE, "-" + HUGE):
            raw = f'{{"task": "sin", "epochs": 2, "{name}": {huge}}}'
            assert name in _refused(_post(stored_server, "/api/runs", raw))["errors"], name
    for raw in (f'{{"domain": [[{HUGE}, 1]]}}', f'{{"hidden": [{HUGE}]}}'):
        _refused(_post(stored_server, "/api/runs", raw))
    _refused(_post(stored_server, "/api/preview", f'{{"task": "sin", "domain": [[1, {HUGE}]]}}'))
    run_id = _ended_run(stored_server)
    _refused(_post(stored_server, f"/api/runs/{run_id}/continue", f'{{"epochs": {HUGE}}}'))
    for query in (f"limit={HUGE}", f"offset={HUGE}", "limit=1e400"):
        _refused(requests.get(f"{stored_server.url}/api/runs?{query}", timeout=30))
    live = start_run(stored_server, task="sin", samples=100, epochs=100_000)
    for name in STEERABLE_FIELDS:
        answer = requests.patch(
            f"{stored_server.url}/api/runs/{live}",
            data=f'{{"{name}": {HUGE}}}',
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert name in _refused(answer)["errors"]
    _refused(_post(stored_server, f"/api/runs/{live}/step", f'{{"epochs": {HUGE}}}'))
    requests.post(f"{stored_server.url}/api/runs/{live}/stop", timeout=30)


def test_text_no_database_can_hold_is_a_400_and_changes_nothing(stored_server):
    run_id = _ended_run(stored_server)
    meta = f"{stored_server.url}/api/runs/{run_id}/meta"
    for raw in ('{"name": "a\\ud800b"}', '{"notes": "\\udfff"}', '{"name": "a\\u0000b"}',
                '{"notes": "x\\u0000"}'):  # fmt: skip
        answer = requests.patch(
            meta, data=raw, headers={"Content-Type": "application/json"}, timeout=30
        )
        field = next(iter(_refused(answer)["errors"]))
        assert field in ("name", "notes")
    listed = requests.get(f"{stored_server.url}/api/runs/{run_id}", timeout=30)
    assert listed.status_code == 200
    entry = next(
        run
        for run in requests.get(f"{stored_server.url}/api/runs", timeout=30).json()
        if run["id"] == run_id
    )
    assert entry["name"] is None and not entry["notes"]
    for path in (f"/api/runs/{run_id}%00", "/api/runs/%00/history", "/api/datasets/%00",
                 "/api/runs?task=%00", "/api/runs?status=x%00"):  # fmt: skip
        _refused(requests.get(f"{stored_server.url}{path}", timeout=30))
    _refused(_post(stored_server, "/api/runs", '{"task": "sin\\u0000"}'))
    _refused(_post(stored_server, "/api/runs", '{"task": "sin", "expression": "x\\ud800"}'))


def test_weight_decay_and_regression_noise_have_maxima(stored_server):
    for name in ("weight_decay", "noise"):
        answer = _post(stored_server, "/api/runs", f'{{"task": "sin", "{name}": 1e300}}')
        assert "at most" in _refused(answer)["errors"][name] or "from 0 to" in answer.text
    schema = requests.get(f"{stored_server.url}/api/schema", timeout=30).json()["properties"]
    assert schema["weight_decay"]["maximum"] and schema["noise"]["maximum"]


def test_every_error_answer_is_json(stored_server):
    run_id = _ended_run(stored_server)
    big = b"x" * (6 * 1024 * 1024)
    calls = [("PATCH", f"/api/runs/{run_id}/meta"), ("POST", f"/api/runs/{run_id}/continue")]
    for method, path in [*calls, ("POST", "/api/runs")]:
        answer = requests.request(method, f"{stored_server.url}{path}", data=big, timeout=60)
        assert answer.status_code == 413
        assert "too big" in _refused(answer)["error"]
    parts = {f"field{i}": (None, "x") for i in range(1200)}
    answer = requests.post(f"{stored_server.url}/api/datasets", files=parts, timeout=60)
    message = _refused(answer)["errors"]["file"]
    assert "too many parts" in message and "too big" not in message
    assert _refused(requests.put(f"{stored_server.url}/api/runs", timeout=30))["error"]
    nested = "[" * 100_000 + "]" * 100_000
    _refused(_post(stored_server, "/api/runs", nested))
