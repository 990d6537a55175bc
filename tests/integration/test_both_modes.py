"""The same answers in both modes (issue 22): every control scenario against an embedded server
(runs trained by forked training processes) and a scaled cluster (a web process, a worker, Redis
and PostgreSQL), with the same assertions.

The scaled half is skipped without redis-server unless ``REQUIRE_REDIS=1`` (CI).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from server_helpers import Watcher, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import postgres_helpers  # noqa: E402
from mnist_files import synthetic_mnist  # noqa: E402
from test_history_storage import running_server  # noqa: E402  (tests/conftest.py's)

pytestmark = pytest.mark.timeout(240)

PACED = {"task": "sin", "samples": 200, "epochs_per_second": 25}


def _children() -> set[int]:
    pids: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        try:
            pids |= {int(p) for p in Path(f"/proc/self/task/{task}/children").read_text().split()}
        except OSError:
            continue
    return pids


@dataclass
class Mode:
    """One mode's server: its URL and how to find the process that trains a run."""

    name: str
    url: str
    cluster: Any = None
    before: set[int] = field(default_factory=set)

    def trainer(self, run_id: str) -> int:
        """The pid of the process that trains `run_id` (running)."""
        if self.cluster is None:
            return wait_until(lambda: _children() - self.before, what="a training process").pop()
        from redis import Redis

        from app.transports.redis_control import alive_key

        owner = Redis.from_url(self.cluster.redis.url).get(alive_key(run_id)).decode()
        return int(owner.split(":")[2])

    def replace_trainer(self, pid: int) -> None:
        """After a test killed `pid`: a worker takes its place (embedded: nothing to do)."""
        if self.cluster is not None:
            self.cluster.start_worker()


@pytest.fixture(scope="module", params=["embedded", "scaled"])
def mode(request: Any, tmp_path_factory: Any) -> Iterator[Mode]:
    mnist = str(synthetic_mnist(tmp_path_factory.mktemp("mnist")))  # the shared data
    if request.param == "embedded":
        with running_server({"MAX_ACTIVE_RUNS": 1, "MNIST_DIR": mnist}) as live:
            yield Mode("embedded", live.url)
        return
    if shutil.which("redis-server") is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("redis-server not found and REQUIRE_REDIS=1")
        pytest.skip("redis-server not found (apt-get install redis-server)")
    from app.transports.cluster import Cluster

    logs = tmp_path_factory.mktemp("both-modes-logs")
    cluster = Cluster(1, 1, database=postgres_helpers.database_url(), log_dir=str(logs),
                      web_args=("--mnist-dir", mnist), worker_args=("--mnist-dir", mnist))
    try:
        yield Mode("scaled", cluster.urls[0], cluster)
    finally:
        cluster.stop()


def create(mode: Mode, **config: Any) -> str:
    answer = requests.post(f"{mode.url}/api/runs", json=config, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def status(mode: Mode, run_id: str) -> dict:
    return requests.get(f"{mode.url}/api/runs/{run_id}", timeout=30).json()


def post(mode: Mode, run_id: str, action: str, body: Any = None) -> requests.Response:
    return requests.post(f"{mode.url}/api/runs/{run_id}/{action}", json=body, timeout=30)


def wait_status(mode: Mode, run_id: str, wanted: set[str], timeout: float = 60) -> dict:
    return wait_until(lambda: (s := status(mode, run_id))["status"] in wanted and s,
                      timeout, f"run {run_id} to be {wanted}")  # fmt: skip


def running(mode: Mode, **config: Any) -> str:
    mode.before = _children()
    run_id = create(mode, **{**PACED, "epochs": 5000, **config})
    wait_until(lambda: status(mode, run_id)["epoch"] >= 2, 60, "two epochs")
    return run_id


def history(mode: Mode, run_id: str) -> dict:
    return requests.get(f"{mode.url}/api/runs/{run_id}/history", timeout=30).json()


def test_pause_resume_stop_answer_alike_and_each_watcher_gets_one_done(mode):
    run_id = running(mode)
    watcher = Watcher(mode.url)
    try:
        watcher.watch(run_id)
        paused = post(mode, run_id, "pause")
        assert (paused.status_code, paused.json()["status"]) == (200, "paused")
        epoch = status(mode, run_id)["epoch"]
        assert post(mode, run_id, "pause").json()["status"] == "paused"  # again: still paused
        assert status(mode, run_id)["epoch"] == epoch  # paused, on the trainer too
        assert post(mode, run_id, "resume").json()["status"] in {"running", "queued"}
        wait_until(lambda: status(mode, run_id)["epoch"] > epoch, 30, "training again")
        stopped = post(mode, run_id, "stop")
        assert (stopped.status_code, stopped.json()["status"]) == (200, "stopped")
        done = watcher.wait_done(run_id)
        assert done["status"] == "stopped"
        assert post(mode, run_id, "resume").status_code == 409  # ended
        wait_until(lambda: len(watcher.of("done", run_id)) >= 1, 5)
        assert len(watcher.of("done", run_id)) == 1
    finally:
        watcher.disconnect()
        post(mode, run_id, "stop")


def test_a_pause_of_a_queued_run_is_a_409_and_is_not_kept_for_later(mode):
    # the one compute slot (embedded) or worker (scaled) is taken: by a full-speed run (a paced
    # run gives its slot away between two epochs, and the queued run would start then)
    first = running(mode, epochs_per_second=None, samples=20_000, epochs=100_000)
    queued = create(mode, **PACED, epochs=5000)
    try:
        assert status(mode, queued)["status"] == "queued"
        paused = post(mode, queued, "pause")
        assert paused.status_code == 409, paused.text
        assert paused.json()["status"] == "queued" and "queued" in paused.json()["error"]
        post(mode, first, "stop")
        wait_status(mode, queued, {"running"})  # it trains: the refused pause was not kept
        epoch = status(mode, queued)["epoch"]
        wait_until(lambda: status(mode, queued)["epoch"] > epoch, 30, "training on")
        assert status(mode, queued)["status"] == "running"
    finally:
        post(mode, first, "stop")
        post(mode, queued, "stop")


def test_steps_of_both_units_and_their_conflict_answer_alike(mode):
    run_id = running(mode)
    try:
        assert post(mode, run_id, "pause").json()["status"] == "paused"
        epoch = status(mode, run_id)["epoch"]
        stepped = post(mode, run_id, "step", {"epochs": 2}).json()
        assert (stepped["status"], stepped["epoch"]) == ("paused", epoch + 2)
        before = status(mode, run_id)["progress"]
        batches = post(mode, run_id, "step", {"batches": 3})
        assert batches.status_code == 200 and batches.json()["status"] == "paused"
        after = status(mode, run_id)["progress"]  # the step was done when it answered
        assert (after["epoch"], after["batch"]) != (before["epoch"], before["batch"])
        assert post(mode, run_id, "step", {"epochs": 500}).status_code == 200  # goes on (paced)
        wait_until(lambda: status(mode, run_id)["epoch"] > epoch + 3, 10, "the long step")
        conflict = post(mode, run_id, "step", {"batches": 1})
        assert conflict.status_code == 409 and "in progress" in conflict.json()["error"]
        assert post(mode, run_id, "resume").json()["status"] in {"running", "queued"}
        assert post(mode, run_id, "step", {"epochs": 1}).status_code == 409  # not paused
    finally:
        post(mode, run_id, "stop")


STEERED = {"lr": 0.002, "l1": 0.001, "weight_decay": 0.01, "momentum": 0.5, "batch_size": 16}


def test_every_steerable_field_changes_live_from_the_next_epoch(mode):
    run_id = running(mode, optimizer="sgd", momentum=0.9, batch_size=32)
    try:
        assert post(mode, run_id, "pause").json()["status"] == "paused"
        changed = requests.patch(f"{mode.url}/api/runs/{run_id}",
                                 json={**STEERED, "epochs_per_second": 50}, timeout=30)  # fmt: skip
        assert changed.status_code == 200, changed.text
        assert {name: changed.json()["config"][name] for name in STEERED} == STEERED
        epoch = post(mode, run_id, "step", {"epochs": 2}).json()["epoch"]
        wait_until(lambda: history(mode, run_id)["epoch"][-1:] == [epoch], 10, "stored epochs")
        last = {name: values[-1] for name, values in history(mode, run_id).items()}
        assert {name: last[name] for name in STEERED} == pytest.approx(STEERED)
        assert status(mode, run_id)["config"]["epochs_per_second"] == 50
        refused = requests.patch(f"{mode.url}/api/runs/{run_id}", json={"hidden": [4]},
                                 timeout=30)  # fmt: skip
        assert refused.status_code == 400 and "hidden" in refused.json()["errors"]
    finally:
        post(mode, run_id, "stop")


def test_a_new_slice_view_changes_live(mode):
    run_id = create(mode, task="digits", hidden=[8], epochs=100_000, epochs_per_second=20)
    try:
        wait_status(mode, run_id, {"running"})
        answer = requests.patch(f"{mode.url}/api/runs/{run_id}", json={"slice_features": [20, 21]},
                                timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
        wait_until(lambda: status(mode, run_id)["config"]["slice_features"] == [20, 21], 10)
    finally:
        post(mode, run_id, "stop")


def test_same_config_and_seed_end_at_the_same_loss_as_training_here(mode):
    from app.runs.validation import validate_run
    from app.training.session import TrainingSession

    config = {"task": "sin", "samples": 200, "epochs": 40, "seed": 7}
    run_id = create(mode, **config)
    assert wait_status(mode, run_id, {"finished", "failed"})["status"] == "finished"
    served = history(mode, run_id)["train_loss"]
    settled, task = validate_run(config)
    session = TrainingSession(task, settled)
    here = []
    while session.epoch < 40:
        here += session.train_slice(None, time.perf_counter() + 1, 40, True).records
    assert np.allclose(served, [record["train_loss"] for record in here], rtol=1e-5, atol=0)


def test_every_task_the_web_offers_trains_mnist_included(mode):
    offered = {task["id"] for task in requests.get(f"{mode.url}/api/tasks", timeout=30).json()}
    assert "mnist" in offered
    for task in sorted(offered):
        run_id = create(mode, task=task, hidden=[4], samples=100, epochs=2)
        final = wait_status(mode, run_id, {"finished", "failed", "diverged"})
        assert final["status"] in {"finished", "diverged"}, (task, final["reason"])


def test_continue_starts_from_the_saved_weights(mode):
    first = create(mode, task="sin", samples=200, epochs=40)
    assert wait_status(mode, first, {"finished", "failed"})["status"] == "finished"
    answer = post(mode, first, "continue", {"epochs": 10})
    assert answer.status_code == 201, answer.text
    second = answer.json()["id"]
    assert wait_status(mode, second, {"finished", "failed"})["status"] == "finished"
    assert history(mode, second)["train_loss"][0] < history(mode, first)["train_loss"][0] / 2
    assert post(mode, second, "continue").status_code == 201  # ended: it can go on again


def test_deleting_a_watched_run_ends_it_for_its_watcher(mode):
    run_id = running(mode)
    watcher = Watcher(mode.url)
    try:
        watcher.watch(run_id)
        watcher.wait_for(lambda w: w.of("snapshot", run_id), timeout=10)
        deleted = requests.delete(f"{mode.url}/api/runs/{run_id}", timeout=30)
        assert deleted.status_code == 200
        assert watcher.wait_done(run_id, timeout=15)["status"] in {"stopped", "failed"}
        assert requests.get(f"{mode.url}/api/runs/{run_id}", timeout=30).status_code == 404
        wait_until(lambda: len(watcher.of("done", run_id)) >= 1, 5)
        assert len(watcher.of("done", run_id)) == 1
    finally:
        watcher.disconnect()


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGSTOP"])
def test_a_killed_or_hung_training_process_fails_its_run_with_one_done(mode, signal_name):
    run_id = running(mode)
    pid = mode.trainer(run_id)
    watcher = Watcher(mode.url)
    try:
        watcher.watch(run_id)
        watcher.wait_for(lambda w: w.of("snapshot", run_id), timeout=10)
        os.kill(pid, getattr(signal, signal_name))
        done = watcher.wait_done(run_id, timeout=30)
        assert done["status"] == "failed" and done["reason"], done
        assert status(mode, run_id)["status"] == "failed"
        assert len(watcher.of("done", run_id)) == 1
    finally:
        watcher.disconnect()
        if signal_name == "SIGSTOP":
            try:
                os.kill(pid, signal.SIGCONT)  # a worker finds its run ended and serves on
            except ProcessLookupError:  # a training process was ended by the server
                pass
        else:
            mode.replace_trainer(pid)
    later = create(mode, task="sin", samples=200, epochs=30)
    assert wait_status(mode, later, {"finished", "failed"})["status"] == "finished"
