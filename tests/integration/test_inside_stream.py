"""The look inside streamed by a real server (issue 12): neuron maps and layer statistics."""

from __future__ import annotations

import json

import requests
from server_helpers import start_run


def frames_with_inside(client, run_id: str) -> list[dict]:
    return [f for f in client.of("frame", run_id) if "inside" in f]


def test_a_saddle_run_streams_eight_plus_eight_maps_of_n_by_n(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="saddle", hidden=[8, 8], samples=400, epochs=400,
                       epochs_per_second=100)  # fmt: skip
    client.watch(run_id)
    client.wait_done(run_id, timeout=60)
    frames = frames_with_inside(client, run_id)
    assert len(frames) >= 5
    inside = frames[-1]["inside"]
    assert [len(layer) for layer in inside["neurons"]] == [8, 8]
    n = len(inside["neurons"][0][0])
    assert n >= 16 and all(len(row) == n for row in inside["neurons"][1][7])
    assert inside["indices"] == [list(range(8)), list(range(8))]
    assert len(inside["output"]) == 1
    first, last = frames[0]["inside"]["neurons"], inside["neurons"]
    assert first != last  # the maps change as the network learns
    for layer in inside["layers"]:
        assert len(layer["weights"]["counts"]) >= 10 and len(layer["grads"]["edges"]) >= 11
        assert layer["grad_norm"] is not None
    assert inside["layers"][0]["saturated"] is not None  # tanh
    snapshot = client.of("snapshot", run_id)[0]
    assert "inside" in snapshot


def test_a_sin_run_streams_six_curves(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="sin", hidden=[6], samples=100, epochs=100,
                       epochs_per_second=100)  # fmt: skip
    client.watch(run_id)
    client.wait_done(run_id)
    inside = client.latest(run_id).get("inside") or frames_with_inside(client, run_id)[-1]["inside"]
    assert len(inside["neurons"]) == 1 and len(inside["neurons"][0]) == 6
    assert all(len(curve) >= 50 for curve in inside["neurons"][0])


def test_a_wide_layer_shows_at_least_16_and_frames_stay_small(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="sincos", hidden=[256], samples=400, epochs=50,
                       epochs_per_second=50)  # fmt: skip
    client.watch(run_id)
    client.wait_done(run_id)
    inside = frames_with_inside(client, run_id)[-1]["inside"]
    assert len(inside["neurons"][0]) == 16 and len(inside["indices"][0]) == 16

    big = watcher()
    run_id = start_run(live_server, task="saddle", hidden=[32, 32], samples=400, epochs=30,
                       epochs_per_second=30)  # fmt: skip
    big.watch(run_id)
    big.wait_done(run_id)
    sizes = [len(json.dumps(frame)) for frame in big.of("frame", run_id)]
    assert sizes and max(sizes) < 300_000


def test_digits_stream_images_confusion_and_first_layer(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="digits", hidden=[16], epochs=20, epochs_per_second=20)
    client.watch(run_id)
    done = client.wait_done(run_id, timeout=60)
    status = client.of("snapshot", run_id)[0]
    test_rows = len(status["data"]["test"]["label"])  # all 539 test images (under 1000 shown)
    assert len(done["confusion"]) == 10 and sum(map(sum, done["confusion"])) == test_rows == 539
    snapshot = client.of("snapshot", run_id)[0]
    assert snapshot["images"]["shape"] == [8, 8] and len(snapshot["images"]["pixels"]) == 36
    latest = client.latest(run_id)
    assert len(latest["first_layer"]) == 16 and len(latest["first_layer"][0]) == 64
    assert len(latest["confusion"]) == 10


def test_the_slice_view_can_change_while_a_run_trains(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="digits", hidden=[16], epochs=100_000,
                       epochs_per_second=20)  # fmt: skip
    client.watch(run_id)
    client.wait_for(lambda w: len(w.of("frame", run_id)) >= 2)
    first = client.of("snapshot", run_id)[0]
    assert first["config"]["slice_features"] is None and first["task"]["slice_features"] == [42, 43]
    answer = requests.patch(f"{live_server.url}/api/runs/{run_id}",
                            json={"slice_features": [20, 21]}, timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    client.wait_for(lambda w: len(w.of("snapshot", run_id)) >= 2)
    second = client.of("snapshot", run_id)[1]
    assert second["config"]["slice_features"] == [20, 21]
    assert second["data"]["test"]["x"] != first["data"]["test"]["x"]  # pixel 20 now, not 42
    for bad in ([3, 3], [0, 64], [1]):
        answer = requests.patch(f"{live_server.url}/api/runs/{run_id}",
                                json={"slice_features": bad}, timeout=10)  # fmt: skip
        assert answer.status_code == 400 and "slice_features" in answer.json()["errors"]
    requests.post(f"{live_server.url}/api/runs/{run_id}/stop", timeout=10)


def test_a_slice_is_refused_for_tasks_of_two_inputs(live_server):
    body = {"task": "saddle", "slice_features": [0, 1]}
    answer = requests.post(f"{live_server.url}/api/runs", json=body, timeout=10)
    assert answer.status_code == 400
    assert "more than two inputs" in answer.json()["errors"]["slice_features"]


def test_l1_zeroes_unused_weights_and_the_look_inside_counts_them(live_server, watcher):
    # circles with five more input features than it needs: L1's proximal step zeroes weights
    features = ["x", "y", "x*x", "y*y", "x*y", "sin(x)", "sin(y)"]
    counts = {}
    for l1 in (0.0, 0.1):
        client = watcher()
        run_id = start_run(live_server, task="circles", hidden=[4], epochs=100, l1=l1,
                           input_features=features)  # fmt: skip
        client.watch(run_id)
        client.wait_done(run_id, timeout=60)
        client.unwatch(run_id)
        client.watch(run_id)  # a fresh snapshot of the ended run: its final look inside
        client.wait_for(lambda w, r=run_id: len(w.of("snapshot", r)) >= 2, timeout=30)
        snapshot = client.of("snapshot", run_id)[-1]
        counts[l1] = snapshot["inside"]["layers"][0]["weights"]["zeros"]
    assert counts[0.0] == 0 and counts[0.1] >= 5
