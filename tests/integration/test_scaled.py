"""Scaled mode end to end: redis-server, PostgreSQL, two web processes and two workers, all
started by the test on free loopback ports (`app.transports.cluster.Cluster`).

Skipped without redis-server unless ``REQUIRE_REDIS=1`` (CI), which makes it fail instead.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from cluster_helpers import scaled_cluster
from server_helpers import Watcher, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.transports.redis_control import alive_key  # noqa: E402

pytestmark = pytest.mark.timeout(180)

PACED = {"task": "sin", "samples": 200, "epochs_per_second": 25}  # a watchable, steady run


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    yield from scaled_cluster(tmp_path_factory, 2, 2, "scaled")


@pytest.fixture(scope="module")
def slow_web(cluster):
    """A third web process that reads the database only every 30 s: what it streams live came
    through the message queue (the relay)."""
    return cluster.start_web(2, env={"STUDIO_DB_SYNC_SECONDS": "30"})


def create(url: str, **config) -> str:
    answer = requests.post(f"{url}/api/runs", json=config, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def status(url: str, run_id: str) -> dict:
    return requests.get(f"{url}/api/runs/{run_id}", timeout=30).json()


def wait_status(url: str, run_id: str, wanted: set[str], timeout: float = 60) -> dict:
    return wait_until(
        lambda: (answer := status(url, run_id))["status"] in wanted and answer,
        timeout=timeout,
        what=f"run {run_id} to be {wanted}",
    )


def another_run_ends(url: str, watcher: Watcher | None = None) -> None:
    """Train a short run to its end (watched by `watcher`, if given, until its done): time
    passes with no sleep, and whatever the watcher was sent before has arrived."""
    run_id = create(url, task="sin", samples=50, epochs=20)
    if watcher is None:
        wait_status(url, run_id, {"finished"}, 60)
        return
    watcher.watch(run_id)
    watcher.wait_done(run_id, timeout=60)


def streamed_epochs(watcher: Watcher, run_id: str) -> list[int]:
    """Every epoch the client got, in the order the server sent them (snapshot first, then
    frames by their number: the client handles each event in a thread of its own, so it may
    record two frames in the other order)."""
    epochs = []
    for snapshot in watcher.of("snapshot", run_id):
        epochs += snapshot["history"]["epoch"]
    for frame in sorted(watcher.of("frame", run_id), key=lambda frame: frame["seq"]):
        epochs += frame["history"]["epoch"]
    return epochs


def test_a_run_created_on_b_streams_on_a_every_epoch_once_and_one_done(cluster):
    web_a, web_b = cluster.urls[:2]
    run_id = create(web_b, **PACED, epochs=75)
    watcher = Watcher(web_a)
    try:
        watcher.watch(run_id)
        done = watcher.wait_done(run_id, timeout=60)
        another_run_ends(web_a, watcher)  # nothing may follow the done: its done comes later
        assert done["status"] == "finished" and done["epoch"] == 75
        assert streamed_epochs(watcher, run_id) == list(range(1, 76))
        assert len(watcher.of("done", run_id)) == 1
        frames = watcher.of("frame", run_id)
        assert len(frames) >= 5  # it streamed, not one final burst
        predictions = {json.dumps(frame["prediction"]) for frame in frames}
        assert len(predictions - {"null"}) >= 2  # the fitted curve moves while it trains
        assert any(frame.get("inside") for frame in frames)  # workers look inside
    finally:
        watcher.disconnect()


def test_a_slow_client_gets_bigger_chunks_and_still_every_epoch_once(cluster):
    web_a, web_b = cluster.urls[:2]
    run_id = create(web_a, **PACED, epochs=100)
    slow, fast = Watcher(web_a, frame_delay=0.8), Watcher(web_b)
    try:
        for watcher in (slow, fast):
            watcher.watch(run_id)
        for watcher in (slow, fast):
            assert watcher.wait_done(run_id, timeout=60)["status"] == "finished"
            assert streamed_epochs(watcher, run_id) == list(range(1, 101))
            assert len(watcher.of("done", run_id)) == 1
        assert len(slow.of("frame", run_id)) < len(fast.of("frame", run_id)) / 2
    finally:
        slow.disconnect()
        fast.disconnect()


def test_six_runs_at_once_all_finish(cluster):
    urls = cluster.urls
    ids = [create(urls[n % 2], task="sin", samples=200, epochs=150, seed=n) for n in range(6)]
    for n, run_id in enumerate(ids):
        answer = wait_status(urls[(n + 1) % 2], run_id, {"finished", "failed", "stopped"}, 90)
        assert answer["status"] == "finished" and answer["epoch"] == 150


def test_pause_step_and_live_changes_reach_the_worker(cluster):
    web_a, web_b = cluster.urls[:2]
    run_id = create(web_b, **PACED, epochs=2000)
    try:
        _pause_step_change_resume(web_a, web_b, run_id)
    finally:  # a failure must not leave the run on a worker for the next tests
        requests.post(f"{web_a}/api/runs/{run_id}/stop", timeout=30)


def _pause_step_change_resume(web_a: str, web_b: str, run_id: str) -> None:
    wait_until(lambda: status(web_a, run_id)["epoch"] >= 3, timeout=30, what="epochs")
    paused = requests.post(f"{web_a}/api/runs/{run_id}/pause", timeout=30).json()
    assert paused["status"] == "paused"
    epoch = status(web_a, run_id)["epoch"]
    another_run_ends(web_a)  # time passes meanwhile
    assert status(web_b, run_id)["epoch"] == epoch  # paused on the worker
    stepped = requests.post(f"{web_b}/api/runs/{run_id}/step", json={"epochs": 2}, timeout=30)
    assert stepped.json()["epoch"] == epoch + 2 and stepped.json()["status"] == "paused"
    changed = requests.patch(f"{web_a}/api/runs/{run_id}", json={"lr": 0.003}, timeout=30)
    assert changed.status_code == 200 and changed.json()["config"]["lr"] == 0.003
    assert requests.post(f"{web_a}/api/runs/{run_id}/resume", timeout=30).json()["status"] in {
        "running", "queued"
    }  # fmt: skip
    wait_until(lambda: status(web_b, run_id)["epoch"] > epoch + 4, timeout=20, what="resumed")
    wait_until(lambda: status(web_b, run_id)["config"]["lr"] == 0.003, timeout=10, what="lr")


def test_stop_through_a_stops_the_worker_promptly(cluster):
    web_a, web_b = cluster.urls[:2]
    run_id = create(web_b, **PACED, epochs=5000)
    wait_status(web_b, run_id, {"running"}, 30)
    answer = requests.post(f"{web_a}/api/runs/{run_id}/stop", timeout=30).json()
    final = wait_status(web_a, run_id, {"stopped"}, 5)  # a guard: the answer already says so
    assert answer["status"] == "stopped"
    another_run_ends(web_b)  # time passes meanwhile
    assert status(web_b, run_id)["epoch"] == final["epoch"]  # the worker trains no more


def test_both_web_processes_list_the_same_history(cluster):
    web_a, web_b = cluster.urls[:2]
    create(web_a, task="sin", samples=200, epochs=30)
    wait_until(
        lambda: all(r["status"] != "queued" for r in requests.get(f"{web_a}/api/runs").json()),
        timeout=30,
        what="the queue to drain",
    )

    def listing(url: str) -> list[tuple]:
        runs = requests.get(f"{url}/api/runs", params={"status": "ended"}, timeout=30).json()
        return [(r["id"], r["status"], r["epoch"], r["test_loss"]) for r in runs]

    def all_ended() -> bool:
        runs = requests.get(f"{web_a}/api/runs", timeout=30).json()
        return all(r["status"] not in {"queued", "running", "paused"} for r in runs)

    wait_until(lambda: all_ended() and listing(web_a) == listing(web_b), timeout=30,
               what="both web processes to list the same ended runs")  # fmt: skip
    assert listing(web_a) == listing(web_b) and len(listing(web_a)) >= 8
    one = listing(web_a)[0][0]
    history = [
        requests.get(f"{url}/api/runs/{one}/history", params={"format": "json"}).json()
        for url in (web_a, web_b)
    ]
    assert history[0] == history[1]
    for url in (web_a, web_b):  # the short id the runs page shows finds it on every web process
        assert requests.get(f"{url}/api/runs/{one[:8]}", timeout=30).json()["id"] == one


def test_a_run_continues_on_a_worker_from_its_stored_weights(cluster):
    web_a, web_b = cluster.urls[:2]
    first = create(web_a, task="sin", samples=200, epochs=60)
    assert wait_status(web_a, first, {"finished", "failed"}, 60)["status"] == "finished"
    answer = requests.post(f"{web_b}/api/runs/{first}/continue", json={"epochs": 20}, timeout=30)
    assert answer.status_code == 201, answer.text
    second = answer.json()["id"]
    assert wait_status(web_b, second, {"finished", "failed"}, 60)["status"] == "finished"

    def losses(run_id: str) -> list[float]:
        return requests.get(f"{web_a}/api/runs/{run_id}/history", timeout=30).json()["train_loss"]

    before, after = losses(first), losses(second)
    # it started from the trained weights (a fresh optimizer state costs its first epoch some
    # loss, exactly as in embedded mode: 0.44 -> 0.012, then 0.20 -> 0.011 for this config)
    assert after[0] < before[0] / 2 and after[-1] < 1.5 * before[-1], (before, after)


def test_the_creating_web_process_serves_its_ended_runs_weights(cluster):
    """Issue 24, point 6: right after a run ends, the web process that created it (and keeps
    it in memory: its newest ended runs) continues it (201) and exports its model (200), for
    a watched run (the relay live) and unwatched ones, more than it keeps in memory."""
    web_a = cluster.urls[0]
    watched = create(web_a, **{**PACED, "epochs": 30})
    watcher = Watcher(web_a)
    try:
        watcher.watch(watched)
        unwatched = [create(web_a, task="sin", samples=200, epochs=20) for _ in range(9)]
        for run_id in [watched, *unwatched]:
            assert wait_status(web_a, run_id, {"finished", "failed"}, 90)["status"] == "finished"
            model = requests.get(f"{web_a}/api/runs/{run_id}/model?format=json", timeout=30)
            assert model.status_code == 200, (run_id, model.text)
            assert model.json()["run_id"] == run_id
    finally:
        watcher.disconnect()
    for run_id in [watched, *unwatched]:
        answer = requests.post(f"{web_a}/api/runs/{run_id}/continue", json={"epochs": 5},
                               timeout=30)  # fmt: skip
        assert answer.status_code == 201, (run_id, answer.text)
        assert requests.get(f"{web_a}/api/runs/{run_id}/model", timeout=30).status_code == 200


def test_a_run_ended_elsewhere_stops_on_its_worker_and_stays_ended(cluster):
    from redis import Redis

    from app.storage.store import RunStore
    from app.transports.scaled import end_unfinished

    web_a, web_b = cluster.urls[:2]
    run_id = create(web_b, **PACED, epochs=5000)
    wait_status(web_b, run_id, {"running"}, 30)
    store = RunStore(cluster.database)
    try:
        assert end_unfinished(store, run_id, "failed", "worker lost (judged by a watchdog)")
        alive = Redis.from_url(cluster.redis.url)
        # the worker notices within a second, stops and removes the run's heartbeat key
        wait_until(lambda: not alive.exists(alive_key(run_id)), timeout=5, what="the job to end")
        another_run_ends(web_a)  # time passes: a late write by the worker would show now
        summary = store.summary(run_id)
        assert summary["status"] == "failed" and summary["reason"].startswith("worker lost")
        assert status(web_a, run_id)["status"] == "failed"
    finally:
        store.close()


def test_after_a_redis_restart_runs_in_flight_end_and_new_runs_work(cluster):
    web_a, web_b = cluster.urls[:2]
    in_flight = create(web_b, **PACED, epochs=150)
    wait_status(web_b, in_flight, {"running"}, 30)
    cluster.redis.stop()
    cluster.redis.start()  # empty (no persistence): the run's keys are gone
    ended = wait_status(web_a, in_flight, {"finished", "stopped", "failed", "interrupted"}, 30)
    assert ended["status"] in {"finished", "failed", "interrupted"}
    again = create(web_a, task="sin", samples=200, epochs=50)
    assert wait_status(web_b, again, {"finished", "failed"}, 60)["status"] == "finished"


def test_a_worker_stopped_inside_a_database_write_has_its_run_ended_with_one_done(cluster):
    """SIGSTOP a worker while its run's row is locked by an open transaction (as a worker
    stopped in the middle of its write leaves it): the watchdog never waits on that lock (it
    skips the row until PostgreSQL ends the idle transaction), and the run ends ``failed``."""
    from redis import Redis
    from sqlalchemy import update

    from app.storage.store import RunRow, RunStore

    web_a, web_b = cluster.urls[:2]
    run_id = create(web_b, **PACED, epochs=5000)
    wait_status(web_b, run_id, {"running"}, 30)
    pid = int(Redis.from_url(cluster.redis.url).get(alive_key(run_id)).decode().split(":")[2])
    store = RunStore(cluster.database)
    connection = store.engine.connect()
    watcher = Watcher(web_a)
    try:
        watcher.watch(run_id)
        watcher.wait_for(lambda w: w.of("snapshot", run_id), timeout=10)
        transaction = connection.begin()
        connection.execute(update(RunRow).where(RunRow.id == run_id).values(notes="locked"))
        os.kill(pid, signal.SIGSTOP)
        done = watcher.wait_done(run_id, timeout=30)
        assert done["status"] == "failed" and "worker lost" in done["reason"]
        assert len(watcher.of("done", run_id)) == 1
        assert wait_status(web_b, run_id, {"failed", "finished", "stopped"}, 10)["status"] == (
            "failed"
        )  # every web process reads the end (within its next database read)
    finally:
        os.kill(pid, signal.SIGCONT)  # it finds its run ended elsewhere and serves on
        watcher.disconnect()
        try:
            transaction.rollback()
        except Exception:  # PostgreSQL ended the idle transaction already
            pass
        connection.close()
        store.close()
    again = create(web_a, task="sin", samples=200, epochs=50)
    assert wait_status(web_b, again, {"finished", "failed"}, 60)["status"] == "finished"


def test_a_killed_worker_ends_its_run_with_done_and_later_runs_finish(cluster):
    from redis import Redis

    web_a, web_b = cluster.urls[:2]
    run_id = create(web_b, **PACED, epochs=5000)
    wait_status(web_b, run_id, {"running"}, 30)
    owner = Redis.from_url(cluster.redis.url).get(alive_key(run_id)).decode()
    pid = int(owner.split(":")[2])
    assert pid in [worker.pid for worker in cluster.workers]
    watcher = Watcher(web_a)
    try:
        watcher.watch(run_id)
        watcher.wait_for(lambda w: w.of("snapshot", run_id), timeout=10)
        os.kill(pid, signal.SIGKILL)
        done = watcher.wait_done(run_id, timeout=15)  # a guard: the watchdog's loss of a worker
        assert done["status"] == "failed" and "worker lost" in done["reason"]
        assert len(watcher.of("done", run_id)) == 1
    finally:
        watcher.disconnect()
    later = [create(web_a, task="sin", samples=200, epochs=100, seed=n) for n in range(2)]
    for later_id in later:
        assert wait_status(web_b, later_id, {"finished", "failed"}, 60)["status"] == "finished"


def test_a_killed_web_process_loses_nothing(cluster):
    web_a, web_b = cluster.urls[:2]
    run_id = create(web_b, **PACED, epochs=100)
    watcher = Watcher(web_a)
    try:
        watcher.watch(run_id)
        wait_status(web_b, run_id, {"running"}, 30)
        cluster.webs[1][1].kill()  # web B, where the run was created
        done = watcher.wait_done(run_id, timeout=30)
        assert done["status"] == "finished"
        assert streamed_epochs(watcher, run_id) == list(range(1, 101))
    finally:
        watcher.disconnect()


# ------------------------------------------------------------------ the relay (message queue)


class TimedWatcher(Watcher):
    """A `Watcher` that also notes when each frame arrived (wall clock)."""

    def __init__(self, url: str) -> None:
        self.arrivals: list[tuple[float, dict]] = []
        super().__init__(url)

    def _recorder(self, name: str):
        record = super()._recorder(name)

        def timed(data):
            if name == "frame":
                self.arrivals.append((time.time(), data))
            record(data)

        return timed


def stored_row(url: str, run_id: str) -> dict:
    """The run's entry in the runs list (with ``ended``, the wall time it ended)."""
    return next(r for r in requests.get(f"{url}/api/runs", timeout=30).json() if r["id"] == run_id)


def latencies(url: str, run_id: str, watcher: TimedWatcher, pace: float) -> list[float]:
    """Each frame's arrival minus the time its newest epoch was trained: a paced run trains
    epoch e at T0 + (e - 1) / pace, T0 = ended - elapsed of the stored row (every process is
    on this machine's clock)."""
    row = stored_row(url, run_id)
    started = row["ended"] - row["elapsed"]
    return sorted(
        arrived - (started + (frame["history"]["epoch"][-1] - 1) / pace)
        for arrived, frame in watcher.arrivals
        if frame["history"]["epoch"] and frame["status"] == "running"
    )


def test_with_the_database_read_every_30_s_frames_come_live_through_the_relay(cluster, slow_web):
    web_a = cluster.urls[0]
    run_id = create(web_a, **PACED, epochs=75)
    watcher = TimedWatcher(slow_web)
    try:
        watcher.watch(run_id)
        done = watcher.wait_done(run_id, timeout=30)  # the database alone: 30 s at least
        assert done["status"] == "finished" and done["epoch"] == 75
        assert streamed_epochs(watcher, run_id) == list(range(1, 76))
        assert len(watcher.of("done", run_id)) == 1
        frames = watcher.of("frame", run_id)
        assert len(frames) >= 20  # 3 s of training: frames all along, not a burst at the end
        predictions = {json.dumps(frame["prediction"]) for frame in frames} - {"null"}
        assert len(predictions) >= 5  # the relayed views (checkpoints are read every 30 s)
        insides = [frame["inside"] for frame in frames if frame.get("inside")]
        assert len(insides) >= 5 and insides[-1]["neurons"] and insides[-1]["layers"]
        late = latencies(web_a, run_id, watcher, PACED["epochs_per_second"])
        # this file's one latency check (the relay's figures are benchmarks/scaleout.py's)
        assert late and late[len(late) // 2] < 0.3 and late[-1] < 1.0, late
    finally:
        watcher.disconnect()


def test_a_web_process_watching_mid_run_catches_up_then_follows_the_relay(cluster, slow_web):
    web_a = cluster.urls[0]
    run_id = create(web_a, **PACED, epochs=150)
    wait_until(lambda: status(web_a, run_id)["epoch"] >= 40, timeout=30, what="40 epochs")
    watcher = TimedWatcher(slow_web)  # its process never served this run: it reads the database
    try:
        watcher.watch(run_id)
        done = watcher.wait_done(run_id, timeout=30)
        assert done["status"] == "finished" and done["epoch"] == 150
        snapshot = watcher.of("snapshot", run_id)[0]
        # it joined mid-run, from the database: what was stored by then (it lags the 40 epochs
        # web A saw by up to a write interval, more on a loaded machine: CI's run read 29)
        assert 0 < snapshot["epoch"] < 150
        assert streamed_epochs(watcher, run_id) == list(range(1, 151))  # no gap, no repeat
        assert len(watcher.of("done", run_id)) == 1
        sent = sorted(watcher.of("frame", run_id), key=lambda frame: frame["seq"])  # see above
        live = [f["history"]["epoch"][-1] for f in sent
                if f["history"]["epoch"] and f["status"] == "running"]  # fmt: skip
        assert len(live) >= 20 and live == sorted(live)  # followed live, not a final burst
    finally:
        watcher.disconnect()


def test_a_new_slice_on_the_worker_sends_new_snapshots_through_the_relay(cluster, slow_web):
    web_a = cluster.urls[0]
    run_id = create(web_a, task="digits", hidden=[16], epochs=100_000, epochs_per_second=20)
    watcher = Watcher(slow_web)
    try:
        watcher.watch(run_id)
        watcher.wait_for(lambda w: len(w.of("frame", run_id)) >= 2, timeout=30)
        first = watcher.of("snapshot", run_id)[0]
        answer = requests.patch(f"{web_a}/api/runs/{run_id}", json={"slice_features": [20, 21]},
                                timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
        watcher.wait_for(lambda w: len(w.of("snapshot", run_id)) >= 2, timeout=10)
        second = watcher.of("snapshot", run_id)[1]
        assert second["config"]["slice_features"] == [20, 21]
        assert second["data"]["test"]["x"] != first["data"]["test"]["x"]  # pixel 20, not 42
        # a frame built while the new slice's data is being rebuilt has no prediction (by design:
        # `prediction: null`, which the page skips); the next ones are drawn on the new grid

        def on_new_grid(w: Any) -> bool:
            drawn = [frame for frame in w.of("frame", run_id)
                     if frame["epoch"] > second["epoch"] and frame.get("prediction")]  # fmt: skip
            return bool(drawn) and drawn[-1]["prediction"]["x"] == second["target"]["x"]

        watcher.wait_for(on_new_grid, timeout=10)
    finally:
        requests.post(f"{web_a}/api/runs/{run_id}/stop", timeout=30)
        watcher.disconnect()


def test_queued_runs_tell_their_place_in_the_job_queue(cluster, slow_web):
    web_a = cluster.urls[0]  # web B may have been killed
    workers = sum(worker.poll() is None for worker in cluster.workers)  # one may have been killed
    busy = [create(web_a, **PACED, epochs=5000, seed=n) for n in range(workers)]  # all of them
    waiting = []
    try:
        for run_id in busy:
            wait_status(web_a, run_id, {"running"}, 30)
        waiting = [create(slow_web, **PACED, epochs=50, seed=n) for n in range(2)]
        for place, run_id in enumerate(waiting, start=1):
            for url in (web_a, slow_web):
                answer = status(url, run_id)
                assert (answer["status"], answer["queue_position"]) == ("queued", place)
        assert status(web_a, busy[0])["queue_position"] is None
        requests.post(f"{web_a}/api/runs/{busy[0]}/stop", timeout=30)
        wait_until(lambda: status(slow_web, waiting[1])["queue_position"] == 1, timeout=10,
                   what="the second queued run to move up")  # fmt: skip
    finally:
        for run_id in busy + waiting:
            requests.post(f"{web_a}/api/runs/{run_id}/stop", timeout=30)


def relay_messages(pubsub, run_id: str, seconds: float) -> list[dict]:
    """The relay messages of one run published on Flask-SocketIO's channel for `seconds`."""
    messages, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        raw = pubsub.get_message(timeout=0.1)
        if raw is None or raw["type"] != "message":
            continue
        packet = json.loads(raw["data"])
        if packet.get("namespace") == "/relay" and packet.get("room") == run_id:
            messages.append(packet["data"][0])
    return messages


def test_the_worker_batches_its_relay_and_sends_views_only_while_watched(cluster):
    from redis import Redis

    web_a = cluster.urls[0]
    pubsub = Redis.from_url(cluster.redis.url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("flask-socketio")
    run_id = create(web_a, task="sin", samples=200, epochs=100_000)  # unpaced: fast epochs
    watcher = None
    try:
        wait_status(web_a, run_id, {"running"}, 30)
        unwatched = relay_messages(pubsub, run_id, 1.5)
        assert 5 <= len(unwatched) <= 1.5 * 22  # at most ~20 a second
        assert unwatched[-1]["epoch"] - unwatched[0]["epoch"] > 3 * len(unwatched)  # batched
        assert not any("view" in m or "inside" in m for m in unwatched)  # nobody watches
        watcher = Watcher(web_a)
        watcher.watch(run_id)
        watched = relay_messages(pubsub, run_id, 1.5)
        assert sum("view" in m for m in watched) >= 5 and any("inside" in m for m in watched)
    finally:
        requests.post(f"{web_a}/api/runs/{run_id}/stop", timeout=30)
        pubsub.close()
        if watcher is not None:
            watcher.disconnect()


def test_backprop_of_a_scaled_run_answers_from_its_stored_weights(cluster):
    """Scaled mode is not the embedded path: the web process answers from the checkpoint the
    worker stored (its weights), with a fresh optimizer state (docs/backprop.md)."""
    web = cluster.urls[0]
    run_id = create(web, task="sin", samples=100, epochs=5, hidden=[4])
    wait_status(web, run_id, {"finished"})
    model = requests.get(f"{web}/api/runs/{run_id}/model?format=json", timeout=30).json()
    answer = requests.post(f"{web}/api/runs/{run_id}/backprop", json={"index": 1}, timeout=30)
    assert answer.status_code == 200, answer.text
    answer = answer.json()
    assert answer["source"] == "checkpoint" and answer["optimizer_state"] == "fresh"
    assert answer["layers"][0]["W"] == model["state"]["0.weight"]
