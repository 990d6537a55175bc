"""Each running run trains in a child process forked from the server (`app.training.forked`),
against a
real server: one process per running run, gone when the run ends; the history the server keeps
matches the weights it saved, however far ahead the process had trained; threads on request."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from server_helpers import run_status, start_run, wait_status, wait_until

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the system cannot fork")


def children() -> set[int]:
    """This process's child processes (the test servers run in it)."""
    pids: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        try:
            text = Path(f"/proc/self/task/{task}/children").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        pids |= {int(pid) for pid in text.split()}
    return pids


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_running_run_trains_in_a_process_of_its_own_that_ends_with_it(live_server):
    before = children()
    run_id = start_run(live_server, task="sin", hidden=[32, 32], epochs=100_000)
    wait_status(live_server, run_id, "running")
    new = wait_until(lambda: children() - before, what="a training process")
    assert len(new) == 1
    pid = new.pop()
    spent = cpu_seconds(pid)
    wait_until(lambda: cpu_seconds(pid) > spent + 0.2, what="the process to train")
    stop = requests.post(f"{live_server.url}/api/runs/{run_id}/stop", timeout=10)
    assert stop.status_code == 200
    status = wait_status(live_server, run_id, "stopped")
    wait_until(lambda: pid not in children(), what="the training process to end")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # whatever the process had trained ahead was collected: history = the weights' epochs
    history = requests.get(f"{live_server.url}/api/runs/{run_id}/history", timeout=10).json()
    assert history["epoch"] == list(range(1, status["epoch"] + 1))
    model = requests.get(f"{live_server.url}/api/runs/{run_id}/model?format=json", timeout=10)
    assert model.json()["epoch"] == status["epoch"] > 0


def test_training_threads_fork_no_process(make_live_server):
    live = make_live_server({"TRAINING_PROCESSES": False})
    before = children()
    run_id = start_run(live, task="sin", epochs=3000)
    status = wait_status(live, run_id, "finished")
    assert status["epoch"] == 3000
    assert not children() - before
    assert run_status(live, run_id)["epoch"] == 3000


def _training_process(live, **config) -> tuple[str, int]:
    """Start a long run; its id and the pid of its training process once it trains."""
    before = children()
    run_id = start_run(live, task="sin", hidden=[16], epochs=100_000, **config)
    wait_status(live, run_id, "running")
    new = wait_until(lambda: children() - before, what="a training process")
    return run_id, new.pop()


@pytest.mark.parametrize("signal_name", ["SIGSTOP", "SIGKILL"])
def test_a_hung_or_killed_training_process_fails_its_run_with_one_done_and_frees_its_slot(
    make_live_server, signal_name
):
    import signal as signals

    from server_helpers import Watcher

    live = make_live_server({"MAX_ACTIVE_RUNS": 1})
    run_id, pid = _training_process(live)
    queued = start_run(live, task="sin", samples=100, epochs=50)  # waits for the one slot
    assert run_status(live, queued)["status"] == "queued"
    watcher = Watcher(live.url)
    try:
        watcher.watch(run_id)
        watcher.wait_for(lambda w: w.of("snapshot", run_id), timeout=10)
        os.kill(pid, getattr(signals, signal_name))
        done = watcher.wait_done(run_id, timeout=15)  # HANG_SECONDS (4) and a margin
        assert done["status"] == "failed"
        assert "training process" in done["reason"], done["reason"]
        wait_until(lambda: pid not in children(), what="the training process to be gone")
        assert wait_status(live, queued, {"finished", "failed"})["status"] == "finished"
        assert len(watcher.of("done", run_id)) == 1
    finally:
        watcher.disconnect()


def test_a_stop_ends_a_run_whose_training_process_hangs(make_live_server):
    import signal as signals

    live = make_live_server()
    run_id, pid = _training_process(live)
    os.kill(pid, signals.SIGSTOP)
    answer = requests.post(f"{live.url}/api/runs/{run_id}/stop", timeout=10).json()
    assert answer["status"] == "stopped"
    assert "did not answer" in run_status(live, run_id)["reason"]
    wait_until(lambda: pid not in children(), what="the training process to be gone")


def test_a_paused_run_whose_training_process_is_killed_fails(make_live_server):
    import signal as signals

    live = make_live_server()
    run_id, pid = _training_process(live)
    paused = requests.post(f"{live.url}/api/runs/{run_id}/pause", timeout=10).json()
    assert paused["status"] == "paused"
    os.kill(pid, signals.SIGKILL)
    status = wait_status(live, run_id, {"failed"}, timeout=15)
    assert "training process" in status["reason"]
