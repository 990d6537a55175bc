"""Control within an epoch: pause, stop and step act between mini-batches, and long epochs
stream progress frames, against a real server."""

from __future__ import annotations

import requests
from server_helpers import run_status, start_run, train_another_run, wait_status, wait_until

# One epoch of 70,000 single-row mini-batches through two layers of 1024: tens of seconds.
LONG_EPOCH = {
    "task": "sin",
    "hidden": [1024, 1024],
    "samples": 100_000,
    "batch_size": 1,
    "epochs": 2,
}


def post(live, path: str, **body) -> requests.Response:
    return requests.post(f"{live.url}/api/runs/{path}", json=body or None, timeout=10)


def test_stop_acts_within_a_second_on_a_long_epoch_and_progress_frames_come_during_it(
    live_server, watcher
):
    client = watcher()
    run_id = start_run(live_server, **LONG_EPOCH)
    client.watch(run_id)
    wait_status(live_server, run_id, "running")
    client.wait_for(lambda w: len([f for f in w.of("frame", run_id) if f["progress"]]) >= 4)
    frames = [f for f in client.of("frame", run_id) if f["progress"]]
    first, last = frames[0]["progress"], frames[-1]["progress"]
    assert first["epoch"] == last["epoch"] == 1  # all inside the first epoch
    assert last["batch"] > first["batch"] and last["batches"] == 70_000
    seconds = frames[-1]["elapsed"] - frames[0]["elapsed"]
    epoch_seconds = last["batches"] * seconds / (last["batch"] - first["batch"])
    assert epoch_seconds >= 10  # the epoch is long ...
    gaps = [b["elapsed"] - a["elapsed"] for a, b in zip(frames, frames[1:], strict=False)]
    # ... and frames keep coming with a fresh view: many per epoch (a ratio of the run's own
    # speed, so a loaded machine slows both alike; the frame interval is a unit test)
    assert max(gaps) <= epoch_seconds / 10
    views = {str(f["prediction"]["y"][:5]) for f in frames}
    assert len(views) > 1

    answer = post(live_server, f"{run_id}/stop")  # answers once stopped, in the epoch
    assert answer.json()["status"] == "stopped"
    assert run_status(live_server, run_id)["epoch"] == 0


def test_pause_acts_within_a_second_on_a_long_epoch_and_resume_goes_on(live_server):
    run_id = start_run(live_server, **LONG_EPOCH)
    wait_until(lambda: (run_status(live_server, run_id)["progress"] or {}).get("batch"))
    # the answer comes once paused: inside the epoch of tens of seconds (that it is in force
    # within a mini-batch is a unit test in virtual time)
    assert post(live_server, f"{run_id}/pause").json()["status"] == "paused"
    progress = run_status(live_server, run_id)["progress"]
    assert progress["epoch"] == 1 and progress["batch"] < progress["batches"]
    batch = progress["batch"]
    train_another_run(live_server)  # time passes meanwhile
    assert run_status(live_server, run_id)["progress"]["batch"] == batch  # no training paused
    assert post(live_server, f"{run_id}/resume").json()["status"] == "running"
    wait_until(lambda: run_status(live_server, run_id)["progress"]["batch"] > batch)
    assert post(live_server, f"{run_id}/stop").json()["status"] == "stopped"


def test_step_trains_exactly_one_epoch_or_n_batches_and_stays_paused(live_server):
    run_id = start_run(live_server, task="sin", samples=100, batch_size=10, epochs=1000)
    wait_status(live_server, run_id, "running")
    assert post(live_server, f"{run_id}/step").status_code == 409  # only while paused
    post(live_server, f"{run_id}/pause")
    status = run_status(live_server, run_id)
    epoch, batch = status["epoch"], status["progress"]["batch"]

    answer = post(live_server, f"{run_id}/step", batches=3)
    assert answer.status_code == 200 and answer.json()["status"] == "paused"
    status = run_status(live_server, run_id)
    expected = (epoch + (batch + 3) // 7, (batch + 3) % 7)  # 70 training rows: 7 batches
    assert (status["epoch"], status["progress"]["batch"]) == expected

    answer = post(live_server, f"{run_id}/step", epochs=1)
    status = run_status(live_server, run_id)
    assert status["status"] == "paused" and status["epoch"] == expected[0] + 1
    assert status["progress"]["batch"] == 0

    answer = post(live_server, f"{run_id}/step")  # one epoch by default
    assert run_status(live_server, run_id)["epoch"] == expected[0] + 2
    post(live_server, f"{run_id}/stop")


def test_bad_step_bodies_get_field_errors(live_server):
    run_id = start_run(live_server, task="sin", samples=100, epochs=100_000)
    wait_status(live_server, run_id, "running")
    post(live_server, f"{run_id}/pause")
    for body, field in (
        ({"epochs": 0}, "epochs"),
        ({"batches": "3"}, "batches"),
        ({"weeks": 1}, "weeks"),
        ({"epochs": 1, "batches": 1}, "body"),
    ):
        answer = post(live_server, f"{run_id}/step", **body)
        assert answer.status_code == 400 and field in answer.json()["errors"], body
    post(live_server, f"{run_id}/stop")


def test_paused_runs_hold_no_compute_slot(make_live_server):
    live = make_live_server({"MAX_ACTIVE_RUNS": 1})
    first = start_run(live, task="sin", samples=100, epochs=100_000)
    wait_status(live, first, "running")
    second = start_run(live, task="sin", samples=100, epochs=100_000)
    assert run_status(live, second)["status"] == "queued"
    post(live, f"{first}/pause")
    wait_status(live, second, "running")  # the paused run gave its slot away
    assert post(live, f"{first}/resume").json()["status"] == "queued"
    post(live, f"{second}/stop")
    wait_status(live, first, "running")
    post(live, f"{first}/stop")


def test_a_paced_run_holds_no_slot_while_it_waits(make_live_server):
    live = make_live_server({"MAX_ACTIVE_RUNS": 1})
    paced = start_run(live, task="sin", samples=100, epochs=100_000, epochs_per_second=2)
    wait_status(live, paced, "running")
    other = start_run(live, task="sin", samples=100, epochs=300)
    wait_status(live, other, "finished")  # trained in the paced run's waits
    # the paced run takes a slot back for each epoch (queued for a moment when it must wait)
    wait_status(live, paced, "running")
    post(live, f"{paced}/stop")


def test_a_queued_run_knows_its_place_in_the_queue(make_live_server, watcher):
    live = make_live_server({"MAX_ACTIVE_RUNS": 1})
    first = start_run(live, task="sin", samples=100, epochs=100_000)
    wait_status(live, first, "running")
    second = start_run(live, task="sin", samples=100, epochs=100_000)
    third = start_run(live, task="sin", samples=100, epochs=100_000)
    assert run_status(live, first)["queue_position"] is None
    assert run_status(live, second)["queue_position"] == 1
    assert run_status(live, third)["queue_position"] == 2
    client = watcher(url=live.url)
    client.watch(third)
    client.wait_for(lambda w: w.of("snapshot", third))
    assert client.of("snapshot", third)[0]["queue_position"] == 2
    post(live, f"{second}/stop")
    client.wait_for(lambda w: [f for f in w.of("frame", third) if f["queue_position"] == 1])
    assert run_status(live, third)["queue_position"] == 1
    for run_id in (first, third):
        post(live, f"{run_id}/stop")
