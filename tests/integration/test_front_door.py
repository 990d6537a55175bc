"""The front door against a live server: foreign Host and Origin, bodies and events of the wrong
shape, the queue cap, the cost budget and a run whose thread cannot start (issue 15)."""

from __future__ import annotations

import json

import pytest
import requests
import socketio
from server_helpers import FAST, Watcher, run_status, start_run, wait_status

EVIL = "http://evil.example"
LONG = {"task": "sin", "hidden": [8], "samples": 100, "epochs": 100_000}


@pytest.fixture
def door(make_live_server):
    """A server that also allows one configured origin and one configured host name."""
    config = {"ALLOWED_ORIGINS": ("http://friend.example:8000",), "ALLOWED_HOSTS": ("studio.lan",)}
    return make_live_server(config)


def _stop(live, run_id: str) -> None:
    requests.post(f"{live.url}/api/runs/{run_id}/stop", timeout=10)


# ------------------------------------------------------------------ cross-origin requests


@pytest.mark.parametrize("header", ["Origin", "Referer"])
def test_a_cross_origin_json_post_starts_no_run(door, header):
    value = EVIL if header == "Origin" else f"{EVIL}/attack.html"
    response = requests.post(f"{door.url}/api/runs", json={"task": "sin", **FAST},
                             headers={header: value}, timeout=10)  # fmt: skip
    assert response.status_code == 403 and "cross-origin" in response.json()["error"]


def test_a_cross_origin_text_plain_post_starts_no_run(door):
    before = len(requests.get(f"{door.url}/api/runs", timeout=10).json())
    response = requests.post(
        f"{door.url}/api/runs", data=json.dumps({"task": "sin", **FAST}),
        headers={"Origin": EVIL, "Content-Type": "text/plain"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 403
    assert len(requests.get(f"{door.url}/api/runs", timeout=10).json()) == before


@pytest.mark.parametrize("action", ["pause", "stop"])
def test_a_bare_cross_origin_post_does_not_control_a_run(door, action):
    run_id = start_run(door, **LONG)
    wait_status(door, run_id, "running")
    response = requests.post(f"{door.url}/api/runs/{run_id}/{action}",
                             headers={"Origin": EVIL}, timeout=10)  # fmt: skip
    assert response.status_code == 403
    assert run_status(door, run_id)["status"] == "running"
    _stop(door, run_id)


def test_a_cross_origin_multipart_upload_stores_nothing(door):
    files = {"file": ("data.csv", b"x,target\n1,2\n2,3\n3,4\n", "text/csv")}
    response = requests.post(f"{door.url}/api/datasets", files=files,
                             headers={"Origin": EVIL}, timeout=10)  # fmt: skip
    assert response.status_code == 403
    assert len(door.app.extensions["datasets"]._datasets) == 0


def test_same_origin_configured_origins_and_scripts_are_allowed(door):
    for headers in ({}, {"Origin": door.url}, {"Origin": "http://friend.example:8000"},
                    {"Referer": f"{door.url}/fit/sin"}):  # fmt: skip
        response = requests.post(f"{door.url}/api/runs", json={"task": "sin", **FAST},
                                 headers=headers, timeout=10)  # fmt: skip
        assert response.status_code == 201, (headers, response.text)


def test_origin_null_is_refused(door):
    response = requests.post(f"{door.url}/api/runs", json={"task": "sin", **FAST},
                             headers={"Origin": "null"}, timeout=10)  # fmt: skip
    assert response.status_code == 403


def test_reading_is_allowed_from_any_origin_but_the_socket_is_not(door):
    # polling: websocket-client adds an Origin of its own to the one given
    assert requests.get(f"{door.url}/api/tasks", headers={"Origin": EVIL}, timeout=10).ok
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(door.url, headers={"Origin": EVIL}, transports=["polling"],
                       wait_timeout=5)  # fmt: skip
    friend = socketio.Client(reconnection=False)
    friend.connect(door.url, headers={"Origin": "http://friend.example:8000"},
                   transports=["polling"], wait_timeout=5)  # fmt: skip
    assert friend.connected
    friend.disconnect()


# ------------------------------------------------------------------ DNS rebinding


def test_a_foreign_host_is_refused_everywhere(door):
    for path in ("/", "/api/tasks", "/socket.io/?EIO=4&transport=polling"):
        response = requests.get(f"{door.url}{path}", headers={"Host": "evil.example"}, timeout=10)
        assert response.status_code == 400, path
        assert "does not answer for host" in response.json()["error"]
    response = requests.post(f"{door.url}/api/runs", json={"task": "sin", **FAST},
                             headers={"Host": f"evil.example:{door.port}"}, timeout=10)  # fmt: skip
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "studio.lan"])
def test_the_servers_own_and_configured_hosts_are_served(door, host):
    response = requests.get(f"{door.url}/api/tasks", headers={"Host": f"{host}:{door.port}"},
                            timeout=10)  # fmt: skip
    assert response.status_code == 200


# ------------------------------------------------------------------ bodies of the wrong shape


@pytest.mark.parametrize("depth", [900, 1000, 5000])
def test_deeply_nested_json_is_a_400(door, depth):
    body = "[" * depth + "]" * depth
    response = requests.post(f"{door.url}/api/runs", data=body,
                             headers={"Content-Type": "application/json"}, timeout=10)  # fmt: skip
    assert response.status_code == 400 and "nested" in response.json()["errors"]["body"]


@pytest.mark.parametrize("path", ["/api/runs", "/api/preview", "/api/runs/x/step",
                                  "/api/runs/x/stop"])  # fmt: skip
def test_a_json_body_sent_as_text_plain_is_a_415(door, path):
    response = requests.post(f"{door.url}{path}", data='{"task": "sin"}',
                             headers={"Content-Type": "text/plain"}, timeout=10)  # fmt: skip
    assert response.status_code == 415
    assert "application/json" in response.json()["errors"]["body"]


def test_a_patch_with_a_form_body_is_a_415(door):
    run_id = start_run(door, **LONG)
    response = requests.patch(f"{door.url}/api/runs/{run_id}", data={"lr": "0.1"}, timeout=10)
    assert response.status_code == 415
    _stop(door, run_id)


def test_an_empty_post_needs_no_content_type(door):
    run_id = start_run(door, **LONG)
    response = requests.post(f"{door.url}/api/runs/{run_id}/stop", timeout=10)
    assert response.status_code == 200 and response.json()["status"] == "stopped"


# ------------------------------------------------------------------ socket events


@pytest.mark.parametrize(
    "args, expected",
    [
        ((), "got 0 arguments"),
        (({"run_id": "a"}, "extra"), "got 2 arguments"),
        (("abc",), "got str"),
        (({"run_id": 5},), "run_id must be"),
        (({"run_id": "a", "x": 1},), "unknown field 'x'"),
    ],
)
@pytest.mark.parametrize("event", ["watch", "unwatch"])
def test_events_of_the_wrong_shape_are_answered_with_an_error(door, event, args, expected):
    client = Watcher(door.url)
    try:
        client.client.emit(event, args if len(args) != 1 else args[0])
        client.wait_for(lambda w: w.of("error"), timeout=10)
        message = client.of("error")[0]["message"]
        assert message.startswith(f'{event} takes one argument, an object {{"run_id"')
        assert expected in message
        assert client.client.connected
    finally:
        client.disconnect()


def test_an_unknown_event_is_answered_with_an_error(door):
    client = Watcher(door.url)
    try:
        client.client.emit("train_everything", {"now": True})
        client.wait_for(lambda w: w.of("error"), timeout=10)
        assert "unknown event 'train_everything'" in client.of("error")[0]["message"]
    finally:
        client.disconnect()


# ------------------------------------------------------------------ queue and cost caps


def test_past_the_unfinished_run_cap_posts_get_429_with_retry_after(make_live_server):
    live = make_live_server({"MAX_UNFINISHED_RUNS": 3, "MAX_ACTIVE_RUNS": 1})
    runs = [start_run(live, **LONG) for _ in range(3)]
    refused = requests.post(f"{live.url}/api/runs", json=LONG, timeout=10)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "3 runs" in refused.json()["error"]
    _stop(live, runs[0])  # an ended run frees its place
    assert requests.post(f"{live.url}/api/runs", json=LONG, timeout=10).status_code == 201


def test_a_paused_run_holds_no_compute_slot(make_live_server):
    live = make_live_server({"MAX_ACTIVE_RUNS": 1})
    first = start_run(live, **LONG)
    wait_status(live, first, "running")
    requests.post(f"{live.url}/api/runs/{first}/pause", timeout=10)
    second = start_run(live, **LONG)
    wait_status(live, second, "running")
    for run_id in (first, second):
        _stop(live, run_id)


def test_a_run_over_the_work_budget_is_refused_with_the_way_under_it(door):
    config = {"task": "sin", "hidden": [1024] * 8, "samples": 100_000, "epochs": 100_000}
    response = requests.post(f"{door.url}/api/runs", json=config, timeout=10)
    assert response.status_code == 400
    message = response.json()["errors"]["epochs"]
    assert "multiply-adds, over the budget of 1e+13" in message
    assert "fewer epochs, samples or neurons" in message and "at most 4 epochs" in message
    at_most = dict(config, epochs=4)
    assert requests.post(f"{door.url}/api/preview", json={"task": "sin"}, timeout=10).ok
    from app.runs.validation import run_work, validate_run

    assert run_work(*validate_run(at_most, work_budget=None)) <= 1e13


# ------------------------------------------------------------------ a thread that cannot start


def test_a_run_whose_thread_cannot_start_ends_failed_as_json(live_server, monkeypatch):
    socketio_server = live_server.app.extensions["socketio"]

    def no_threads(*_args, **_kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(socketio_server, "start_background_task", no_threads)
    response = requests.post(f"{live_server.url}/api/runs", json={"task": "sin", **FAST},
                             timeout=10)  # fmt: skip
    assert response.status_code == 201
    answer = response.json()
    assert answer["status"] == "failed" and "could not start" in answer["reason"]
    assert run_status(live_server, answer["id"])["status"] == "failed"
    again = requests.post(f"{live_server.url}/api/runs/{answer['id']}/stop", timeout=10)
    assert again.status_code == 409


def test_a_queued_run_whose_thread_cannot_start_ends_failed(make_live_server, monkeypatch):
    live = make_live_server({"MAX_ACTIVE_RUNS": 1})
    running = start_run(live, **LONG)
    wait_status(live, running, "running")
    queued = start_run(live, **LONG)
    socketio_server = live.app.extensions["socketio"]

    def no_threads(*_args, **_kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(socketio_server, "start_background_task", no_threads)
    _stop(live, running)
    status = wait_status(live, queued, "failed")
    assert "could not start" in status["reason"]
