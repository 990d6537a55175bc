"""Replay through the server, on SQLite and on PostgreSQL (issue 28): a finished run lists its
stored epochs (the first 10 dense, the last included, at most 150); the view at a stored epoch
equals the one the engine computes from that epoch's weights (a session trained as far in this
process); both survive a restart; bad epochs are 400, unknown runs 404; a large net's film is
thinned within the storage bound and its status says so."""

from __future__ import annotations

import dataclasses

import pytest
import requests
from live_server import running_server
from server_helpers import start_run, wait_status, wait_until

from app.data.tasks import TASKS
from app.runs.payloads import RunPayloads, inside_json
from app.storage.film import new_frames, stored_bytes
from app.storage.film import stored_epochs as get_epochs
from app.training.film import DENSE_EPOCHS, MAX_FILM_BYTES, MAX_FRAMES
from app.training.session import TrainingSession


@pytest.fixture(scope="module")
def database(stored_database: str) -> str:
    return stored_database  # SQLite, then PostgreSQL (tests/conftest.py)


@pytest.fixture(scope="module")
def server(stored_server):
    return stored_server  # storing its runs in `database`


def get(server, path: str, **params) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, timeout=60)


def stored_run(server, **config) -> str:
    """A finished run whose final state (and film) is written."""
    run_id = start_run(server, **config)
    wait_status(server, run_id, "finished", timeout=60)
    store = server.app.extensions["store"]
    wait_until(lambda: store.summary(run_id)["status"] == "finished")
    return run_id


@pytest.fixture(scope="module")
def sin_run(server) -> str:
    return stored_run(server, task="sin", samples=200, epochs=300)


@pytest.fixture(scope="module")
def moons_run(server) -> str:
    return stored_run(server, task="moons", samples=300, epochs=40)


def engine_view(server, run_id: str, epoch: int) -> dict:
    """The views the engine computes after `epoch` epochs of the run's config, trained here."""
    run = server.app.extensions["runs"].get(run_id)
    config = run.config
    session = TrainingSession(run.task, config)
    while session.epoch < epoch:
        session.advance()
    view = session.view(inside=True)
    payloads = RunPayloads(session.task, session.data, session.sizes)
    return {"epoch": epoch, **payloads.view_json(view), "inside": inside_json(view.inside)}


def assert_same_numbers(answer, expected, path="view"):
    """Equal structure; numbers equal to float32 precision (null where the other is null)."""
    if isinstance(expected, dict):
        assert set(answer) == set(expected), path
        for key in expected:
            assert_same_numbers(answer[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(answer) == len(expected), path
        for index, (got, want) in enumerate(zip(answer, expected, strict=True)):
            assert_same_numbers(got, want, f"{path}[{index}]")
    elif isinstance(expected, float) and isinstance(answer, (int, float)):
        assert answer == pytest.approx(expected, rel=1e-3, abs=1e-4), path
    else:
        assert answer == expected, path


def test_a_finished_run_lists_its_stored_epochs(server, sin_run):
    epochs = get(server, f"/api/runs/{sin_run}/frames").json()["epochs"]
    assert epochs[:DENSE_EPOCHS] == list(range(1, DENSE_EPOCHS + 1))
    assert epochs[-1] == 300
    assert len(epochs) <= MAX_FRAMES
    assert epochs == sorted(set(epochs))


def test_a_running_runs_film_follows_it_within_a_quarter_of_its_age(server):
    """20 epochs a second: at epoch 60 (3 s or more of training) the last checkpoint, which
    carries the film, is at most a second or a quarter of the run's age old (once every 10 s
    before, and the replay slider of a young run was empty)."""
    run_id = start_run(server, task="sin", samples=100, epochs=5000, epochs_per_second=20)
    try:
        wait_until(lambda: get(server, f"/api/runs/{run_id}").json()["epoch"] >= 60, 60, "epoch 60")
        epochs = get(server, f"/api/runs/{run_id}/frames").json()["epochs"]
        assert epochs[-1] >= 20, epochs
    finally:
        requests.post(f"{server.url}/api/runs/{run_id}/stop", timeout=30)


@pytest.mark.parametrize("epoch", [1, 10, 300])
def test_the_view_at_a_stored_epoch_equals_the_engines(server, sin_run, epoch):
    answer = get(server, f"/api/runs/{sin_run}/view", epoch=epoch).json()
    expected = engine_view(server, sin_run, epoch)
    assert answer["epoch"] == epoch
    assert {"prediction", "network", "inside"} <= set(answer)
    # the look inside has no gradients at a stored epoch (only weights are kept): null, not 0
    for layer in answer["inside"]["layers"]:
        assert layer.pop("grads") is None and layer.pop("grad_norm") is None
    for layer in expected["inside"]["layers"]:
        layer.pop("grads"), layer.pop("grad_norm")
    assert_same_numbers(answer, expected)


def test_a_classifier_view_at_an_epoch_equals_the_engines(server, moons_run):
    answer = get(server, f"/api/runs/{moons_run}/view", epoch=3).json()
    expected = engine_view(server, moons_run, 3)
    assert set(answer["prediction"]) == {"x", "y", "z", "confidence"}
    assert answer["prediction"]["z"] == expected["prediction"]["z"]
    assert_same_numbers(answer["prediction"], expected["prediction"])
    assert_same_numbers(answer["network"], expected["network"])
    assert answer["confusion"] == expected["confusion"]


def test_the_view_is_at_the_stored_epoch_nearest_the_one_asked(server, sin_run):
    epochs = get(server, f"/api/runs/{sin_run}/frames").json()["epochs"]
    gap = next(i for i in range(1, len(epochs)) if epochs[i] - epochs[i - 1] > 2)
    before, after = epochs[gap - 1], epochs[gap]
    assert get(server, f"/api/runs/{sin_run}/view", epoch=before + 1).json()["epoch"] == before
    assert get(server, f"/api/runs/{sin_run}/view", epoch=after - 1).json()["epoch"] == after
    assert get(server, f"/api/runs/{sin_run}/view", epoch=10**9).json()["epoch"] == 300
    assert get(server, f"/api/runs/{sin_run}/view", epoch=0).json()["epoch"] == 1
    first = get(server, f"/api/runs/{sin_run}/view", epoch=1).json()["prediction"]["y"]
    last = get(server, f"/api/runs/{sin_run}/view", epoch=300).json()["prediction"]["y"]
    assert first != last


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "", "1e3"])
def test_a_bad_epoch_is_a_400_naming_it(server, sin_run, bad):
    response = get(server, f"/api/runs/{sin_run}/view", epoch=bad)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"epoch"}


def test_a_missing_epoch_is_a_400_too(server, sin_run):
    response = get(server, f"/api/runs/{sin_run}/view")
    assert response.status_code == 400 and "epoch" in response.json()["errors"]


def test_an_unknown_run_is_a_404(server):
    assert get(server, "/api/runs/nosuchrun0000/frames").status_code == 404
    assert get(server, "/api/runs/nosuchrun0000/view", epoch=1).status_code == 404
    assert get(server, "/api/runs/nosuchrun0000/looks").status_code == 404


@pytest.mark.parametrize("evicted", [False, True])
def test_the_looks_are_the_layer_statistics_of_every_stored_epoch(server, sin_run, evicted):
    """A fresh user's finding: a finished run opened by link showed its layers card at one
    look. `/looks` gives the card each stored epoch's layer statistics (weights only), also for
    a run read back from storage."""
    if evicted:
        server.app.extensions["runs"].registry.remove(sin_run)
        server.app.extensions["replay"].forget(sin_run)
    epochs = get(server, f"/api/runs/{sin_run}/frames").json()["epochs"]
    looks = get(server, f"/api/runs/{sin_run}/looks").json()["looks"]
    assert [look["epoch"] for look in looks] == epochs
    for epoch in (1, 300):
        look = looks[epochs.index(epoch)]
        view = get(server, f"/api/runs/{sin_run}/view", epoch=epoch).json()["inside"]["layers"]
        for layer in view:  # a stored epoch keeps no gradients: none pretended
            layer.update(grads=None, grad_norm=None)
        assert look["layers"] == view
    weights = [(1, 32), (32, 32), (32, 1)]  # sin's default net: 1-32-32-1
    for look in looks:
        assert [sum(layer["weights"]["counts"]) for layer in look["layers"]] == [
            rows * cols for rows, cols in weights
        ]
    assert looks[0]["layers"][0]["weights"] != looks[-1]["layers"][0]["weights"]


def test_the_film_survives_a_restart(server, database, sin_run):
    epochs = get(server, f"/api/runs/{sin_run}/frames").json()["epochs"]
    view = get(server, f"/api/runs/{sin_run}/view", epoch=5).json()
    with running_server({"DATABASE_URL": database}) as again:
        assert get(again, f"/api/runs/{sin_run}/frames").json()["epochs"] == epochs
        assert get(again, f"/api/runs/{sin_run}/view", epoch=5).json() == view


def test_a_large_net_keeps_fewer_frames_within_the_bound_and_says_so(server):
    # 1-1000-1000-1: 4 MB a frame, so 2 frames fit in 10 MB; stopped after a dozen epochs
    run_id = start_run(server, task="sin", samples=64, batch_size=64, epochs=20_000,
                       hidden=[1000, 1000])  # fmt: skip
    wait_until(lambda: requests.get(f"{server.url}/api/runs/{run_id}", timeout=10)
               .json()["epoch"] >= 12, timeout=60)  # fmt: skip
    requests.post(f"{server.url}/api/runs/{run_id}/stop", timeout=10)
    status = wait_status(server, run_id, "stopped")
    assert status["film"]["frames"] < MAX_FRAMES
    assert any("replay keeps" in sentence for sentence in status["observations"])
    store = server.app.extensions["store"]
    wait_until(lambda: store.summary(run_id)["status"] == "stopped")
    assert stored_bytes(store, run_id) <= MAX_FILM_BYTES
    epochs = get(server, f"/api/runs/{run_id}/frames").json()["epochs"]
    # the last weights the run has, however it ended (a stop that had to end a slow training
    # process keeps the checkpoint before it)
    assert epochs[0] == 1 and epochs[-1] == store.checkpoint(run_id).epoch


@pytest.mark.parametrize("hidden", [[32, 32], [50, 50]])
def test_a_100000_epoch_run_stays_within_the_bound(server, hidden):
    # the film of a 100,000-epoch run as its training process keeps it (every epoch offered),
    # written as the recorder writes it; the digits task's 64-input net, or sin's 1-input one
    task = "digits" if hidden == [50, 50] else "sin"
    config = server.app.extensions["runs"].get(start_run(server, task=task, epochs=10)).config
    session = TrainingSession(TASKS[task], {**config, "epochs": 100_000})
    for epoch in range(1, 100_001):
        session.film.offer(epoch, session.model)
    checkpoint = dataclasses.replace(session.checkpoint(), epoch=100_000)
    frames = new_frames(checkpoint, set(), final=True)
    store = server.app.extensions["store"]
    run_id = f"film{task}{len(hidden)}"
    store.write([{"id": run_id, "fields": {}, "film": frames}])
    epochs = get_epochs(store, run_id)
    assert len(epochs) <= MAX_FRAMES and epochs[-1] == 100_000 and epochs[:10] == [*range(1, 11)]
    assert stored_bytes(store, run_id) <= MAX_FILM_BYTES
