"""Live training over Socket.IO against a real server (python-socketio client, websockets)."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from server_helpers import (
    Watcher,
    finite_everywhere,
    run_status,
    start_run,
    train_another_run,
    wait_status,
    wait_until,
)
from waiting import holds

from app import DEFAULT_CONFIG

# sin with hidden=[16, 16] (adam, lr 0.01, 500 samples): ~1 s of training, test loss ~1e-4.
SIN_16 = {"task": "sin", "hidden": [16, 16], "epochs": 2000}
LONG = {"task": "sin", "hidden": [16, 16], "epochs": 100_000}  # stopped by the test


def test_a_sin_run_streams_snapshot_frames_and_done(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, **SIN_16)
    client.watch(run_id)
    done = client.wait_done(run_id)

    assert [event for event, _ in client.events][0] == "snapshot"
    assert [event for event, _ in client.events][-1] == "done"
    assert {key: done[key] for key in ("run_id", "status", "reason", "epoch", "warnings")} == {
        "run_id": run_id, "status": "finished", "reason": None, "epoch": 2000, "warnings": []
    }  # fmt: skip
    assert 1 <= done["best_epoch"] <= 2000 and isinstance(done["observations"], list)
    snapshot = client.of("snapshot", run_id)[0]
    assert snapshot["task"]["id"] == "sin" and snapshot["config"]["hidden"] == [16, 16]
    assert len(snapshot["target"]["x"]) == len(snapshot["target"]["y"]) == 200
    assert len(snapshot["data"]["train"]["x"]) == 350 and len(snapshot["data"]["test"]["y"]) == 150

    # Handlers run in threads, so arrival order can be perturbed here: order frames by epoch.
    # Every frame brings news (the server's cursor per client only moves forward): new epochs,
    # or at the same epoch a new status (the first view comes while the run is still queued).
    frames = sorted(client.of("frame", run_id), key=lambda frame: frame["epoch"])
    epochs = [frame["epoch"] for frame in frames]
    assert len(frames) >= 10 and epochs[-1] == 2000
    assert len({(frame["epoch"], frame["status"]) for frame in frames}) == len(frames)
    with_points = [frame for frame in frames if frame["history"]["train_loss"]]
    assert with_points[-1]["history"]["train_loss"][-1] < with_points[0]["history"]["train_loss"][0]
    assert frames[-1]["status"] == "finished"
    assert len(frames[-1]["prediction"]["y"]) == 200
    assert frames[-1]["network"]["sizes"] == [1, 16, 16, 1]
    assert [len(w) for w in frames[-1]["network"]["weights"]] == [1, 16, 16]

    history = client.history(run_id)
    assert history["epoch"] == list(range(1, 2001))  # every epoch exactly once, in order
    assert history["test_loss"][-1] < 1e-2
    status = run_status(live_server, run_id)
    assert status["status"] == "finished" and status["test_loss"] < 1e-2


def test_frames_are_throttled_to_about_30_per_second(live_server, watcher):
    assert DEFAULT_CONFIG["FRAME_INTERVAL"] == pytest.approx(1 / 30)  # issue 27: 30 a second
    client = watcher()
    run_id = start_run(live_server, **SIN_16)
    client.watch(run_id)
    client.wait_done(run_id)
    elapsed = run_status(live_server, run_id)["elapsed"]
    frames = client.of("frame", run_id)
    assert len(frames) <= elapsed * 30 * 1.25 + 3


def test_a_2d_run_streams_surfaces_on_a_50_by_50_grid(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="saddle", epochs=30, samples=400)
    client.watch(run_id)
    client.wait_done(run_id)
    snapshot = client.of("snapshot", run_id)[0]
    target = snapshot["target"]
    assert len(target["x"]) == len(target["y"]) == 50
    assert len(target["z"]) == 50 and all(len(row) == 50 for row in target["z"])
    # z[row j = y_j][col i = x_i] of x² − y²
    assert target["z"][0][49] == pytest.approx(target["x"][49] ** 2 - target["y"][0] ** 2, abs=1e-4)
    assert set(snapshot["data"]["train"]) == {"x", "y", "z"}
    # handlers run in threads: take the latest update by epoch, not by arrival
    prediction = client.latest(run_id)["prediction"]
    assert len(prediction["z"]) == 50 and len(prediction["z"][0]) == 50


def test_the_domain_override_moves_the_grid(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="square", epochs=5, domain=[[0, 2]])
    client.watch(run_id)
    client.wait_done(run_id)
    target = client.of("snapshot", run_id)[0]["target"]
    assert target["x"][0] == 0 and target["x"][-1] == 2 and target["y"][-1] == pytest.approx(4)
    assert all(0 <= x <= 2 for x in client.of("snapshot", run_id)[0]["data"]["train"]["x"])


def test_pause_keeps_the_epoch_count_and_resume_restarts_it(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, **LONG)
    client.watch(run_id)
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= 20, what="some epochs")

    paused = requests.post(f"{live_server.url}/api/runs/{run_id}/pause", timeout=10).json()
    assert paused["status"] == "paused"
    train_another_run(live_server)  # time passes meanwhile
    status = run_status(live_server, run_id)
    assert status["status"] == "paused" and status["epoch"] == paused["epoch"]
    client.wait_for(lambda w: any(f["status"] == "paused" for f in w.of("frame", run_id)))

    resumed = requests.post(f"{live_server.url}/api/runs/{run_id}/resume", timeout=10).json()
    assert resumed["status"] == "running"
    wait_until(lambda: run_status(live_server, run_id)["epoch"] > paused["epoch"] + 10)
    requests.post(f"{live_server.url}/api/runs/{run_id}/stop", timeout=10)


def test_a_paused_run_uses_no_cpu(live_server):
    run_id = start_run(live_server, **LONG)
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= 20)
    requests.post(f"{live_server.url}/api/runs/{run_id}/pause", timeout=10)
    start = time.process_time()  # the server runs in this process
    holds(lambda: time.process_time() - start < 0.1, 0.5, "under 0.1 s of CPU in 0.5 s")
    requests.post(f"{live_server.url}/api/runs/{run_id}/stop", timeout=10)


def test_stop_ends_the_run_as_stopped(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, **LONG)
    client.watch(run_id)
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= 20)
    stopped = requests.post(f"{live_server.url}/api/runs/{run_id}/stop", timeout=10).json()
    assert stopped["status"] == "stopped"
    done = client.wait_done(run_id)
    assert done["status"] == "stopped" and done["epoch"] < 100_000
    assert client.history(run_id)["epoch"] == list(range(1, done["epoch"] + 1))
    again = requests.post(f"{live_server.url}/api/runs/{run_id}/stop", timeout=10)
    assert again.status_code == 409


def test_a_paused_run_can_be_stopped(live_server):
    run_id = start_run(live_server, **LONG)
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= 5)
    requests.post(f"{live_server.url}/api/runs/{run_id}/pause", timeout=10)
    stopped = requests.post(f"{live_server.url}/api/runs/{run_id}/stop", timeout=10).json()
    assert stopped["status"] == "stopped"


def test_two_clients_watching_one_run_see_the_same_final_history(live_server, watcher):
    first, second = watcher(), watcher()
    run_id = start_run(live_server, **SIN_16)
    first.watch(run_id)
    wait_until(lambda: run_status(live_server, run_id)["epoch"] >= 300)
    second.watch(run_id)  # joins late: its snapshot carries what it missed
    first.wait_done(run_id)
    second.wait_done(run_id)
    assert first.history(run_id) == second.history(run_id)
    assert first.history(run_id)["epoch"] == list(range(1, 2001))


def test_a_client_that_reconnects_gets_the_full_history_again(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, **SIN_16)
    client.watch(run_id)
    client.wait_for(lambda w: len(w.of("frame", run_id)) >= 3)
    client.disconnect()
    wait_status(live_server, run_id, "finished")

    again = watcher()
    again.watch(run_id)
    again.wait_done(run_id)
    snapshot = again.of("snapshot", run_id)[0]
    assert snapshot["status"] == "finished"
    assert snapshot["history"]["epoch"] == list(range(1, 2001))
    assert snapshot["history"]["test_loss"][-1] < 1e-2
    assert len(snapshot["prediction"]["y"]) == 200


def test_a_slow_client_gets_bigger_chunks_instead_of_a_queue(live_server, watcher):
    fast, slow = watcher(), watcher(frame_delay=0.3)
    run_id = start_run(live_server, **SIN_16)
    fast.watch(run_id)
    slow.watch(run_id)
    fast.wait_done(run_id)
    slow.wait_done(run_id, timeout=60)
    elapsed = run_status(live_server, run_id)["elapsed"]
    slow_frames = slow.of("frame", run_id)
    assert len(slow_frames) <= elapsed / 0.3 + 3  # one frame per ack, plus the final one
    assert len(fast.of("frame", run_id)) > 2 * len(slow_frames)
    assert slow.history(run_id) == fast.history(run_id)


def test_a_diverging_run_ends_diverged_and_sends_no_nan(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, task="sin", lr=10, optimizer="sgd", epochs=500)
    client.watch(run_id)
    done = client.wait_done(run_id)
    assert done["status"] == "diverged"
    assert "epoch" in done["reason"] and "loss" in done["reason"]
    status = run_status(live_server, run_id)
    assert status["status"] == "diverged" and status["reason"] == done["reason"]
    assert all(finite_everywhere(data) for _, data in client.events)
    assert all(finite_everywhere(data) for _, data in client.events)

    again = watcher()
    again.watch(run_id)
    again.wait_done(run_id)
    assert finite_everywhere(again.of("snapshot", run_id)[0])


def test_an_exception_in_a_run_ends_it_failed_and_the_server_goes_on(
    live_server, watcher, monkeypatch
):
    import network

    def broken_optimizer(*_args, **_kwargs):
        raise RuntimeError("optimizer exploded")

    monkeypatch.setattr(network, "get_optimizer", broken_optimizer)
    client = watcher()
    run_id = start_run(live_server, task="sin", epochs=10)
    client.watch(run_id)
    done = client.wait_done(run_id)
    assert done["status"] == "failed" and "optimizer exploded" in done["reason"]

    monkeypatch.undo()
    run_id = start_run(live_server, task="sin", epochs=10)
    assert wait_status(live_server, run_id, "finished")["epoch"] == 10


def test_the_fifth_concurrent_run_waits_as_queued(live_server, watcher):
    runs = [start_run(live_server, **LONG) for _ in range(5)]
    for run_id in runs[:4]:
        wait_status(live_server, run_id, "running")
    # four full-speed runs hold the four slots and give none back: the fifth is still queued
    assert run_status(live_server, runs[4])["status"] == "queued"
    assert run_status(live_server, runs[4])["epoch"] == 0

    client = watcher()
    client.watch(runs[4])
    client.wait_for(lambda w: w.of("snapshot", runs[4]))
    assert client.of("snapshot", runs[4])[0]["status"] == "queued"
    assert client.of("snapshot", runs[4])[0]["prediction"] is None

    requests.post(f"{live_server.url}/api/runs/{runs[0]}/stop", timeout=10)
    wait_status(live_server, runs[4], "running")
    client.wait_for(lambda w: any(f["status"] == "running" for f in w.of("frame", runs[4])))
    for run_id in runs[1:]:
        requests.post(f"{live_server.url}/api/runs/{run_id}/stop", timeout=10)


def test_a_queued_run_can_be_stopped(make_live_server):
    live = make_live_server({"MAX_ACTIVE_RUNS": 1})
    running = start_run(live, **LONG)
    queued = start_run(live, **LONG)
    wait_status(live, running, "running")
    stopped = requests.post(f"{live.url}/api/runs/{queued}/stop", timeout=10).json()
    assert stopped["status"] == "stopped" and run_status(live, queued)["epoch"] == 0
    assert run_status(live, running)["status"] == "running"


def test_watching_an_unknown_run_is_an_error_event(live_server, watcher):
    client = watcher()
    client.watch("nope")
    client.wait_for(lambda w: w.of("error"))
    assert client.of("error")[0]["run_id"] == "nope"


def test_unwatch_stops_the_frames(live_server, watcher):
    client = watcher()
    run_id = start_run(live_server, **LONG)
    client.watch(run_id)
    client.wait_for(lambda w: len(w.of("frame", run_id)) >= 2)
    client.unwatch(run_id)
    train_another_run(live_server)  # meanwhile frames already in flight may still arrive
    count = len(client.of("frame", run_id))
    train_another_run(live_server)
    assert len(client.of("frame", run_id)) == count
    requests.post(f"{live_server.url}/api/runs/{run_id}/stop", timeout=10)


def test_disconnecting_clients_leave_no_stray_threads(make_live_server):
    live = make_live_server({"PING_INTERVAL": 0.5})
    before = threading.active_count()
    warm_up = Watcher(live.url)  # Engine.IO starts one service thread for good on first use
    warm_up.disconnect()
    # so does the run recorder (the history's one writer thread) on the first run
    wait_status(live, start_run(live, task="sin", epochs=5), "finished")
    wait_until(lambda: threading.active_count() <= before + 2, what="warm-up threads to end")
    start = threading.active_count()

    run_id = start_run(live, **LONG)
    clients = [Watcher(live.url) for _ in range(4)]
    for client in clients:
        client.watch(run_id)
    for client in clients:
        client.wait_for(lambda w: len(w.of("frame", run_id)) >= 2)
    finished = start_run(live, task="sin", epochs=20)
    wait_status(live, finished, "finished")
    assert threading.active_count() > start
    for client in clients[:2]:
        client.disconnect()
    requests.post(f"{live.url}/api/runs/{run_id}/stop", timeout=10)
    for client in clients[2:]:
        client.wait_done(run_id)
        client.disconnect()
    wait_until(
        lambda: threading.active_count() <= start,
        timeout=10,
        what=f"thread count back to {start} (now {threading.active_count()})",
    )
