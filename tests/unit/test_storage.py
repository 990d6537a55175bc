"""The runs database (app/storage/store.py) and its recorder (app/storage/recorder.py), on SQLite
and on a real PostgreSQL server (tests/postgres_helpers.py starts one per session)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import inspect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import postgres_helpers  # noqa: E402

from app.data.tasks import TASKS, settle_config  # noqa: E402
from app.data.uploads import parse_csv  # noqa: E402
from app.runs.run import Run  # noqa: E402
from app.runs.validation import validate_run  # noqa: E402
from app.storage.recorder import Recorder  # noqa: E402
from app.storage.store import RunStore, decode_dataset, encode_dataset  # noqa: E402
from app.training.session import Checkpoint  # noqa: E402


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    return postgres_helpers.database_url()


@pytest.fixture
def store(url):
    opened = RunStore(url)
    yield opened
    opened.close()


def _open(url: str) -> list[str]:
    store = RunStore(url)
    tables = sorted(inspect(store.engine).get_table_names())
    store.close()
    return tables


def test_several_processes_migrate_an_empty_database_at_once(url):
    with multiprocessing.get_context("fork").Pool(4) as pool:
        results = pool.map(_open, [url] * 4)
    expected = ["alembic_version", "checkpoints", "datasets", "film_frames", "history_chunks",
                "owner_names", "runs", "sweep_runs", "sweeps"]
    assert results == [expected] * 4


def test_sqlite_database_is_in_wal_mode(tmp_path):
    RunStore(f"sqlite:///{tmp_path / 'r.sqlite3'}").close()
    with sqlite3.connect(tmp_path / "r.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _run(epochs: int = 30) -> Run:
    config, task = validate_run({"task": "sin", "epochs": epochs, "samples": 50}, None)
    return Run("r" + str(np.random.default_rng().integers(1e9)), task, settle_config(task, config))


def _train(run: Run, epochs: int, start: int = 0) -> None:
    from app.runs.run import History

    if run.history.length == 0 and run.history.columns["train_loss"].size == 0:
        run.history = History(run.epochs, False, run.history.names[2:])
    run.publish(None, None, [
        {"train_loss": 1.0 / (epoch + 1), "test_loss": 2.0 / (epoch + 1), "lr": 0.01}
        for epoch in range(start, epochs)
    ])  # fmt: skip


def _checkpoint(epoch: int) -> Checkpoint:
    return Checkpoint(
        state={"0.weight": np.full((1, 4), epoch, np.float32), "0.bias": np.zeros(4, np.float32)},
        architecture=[{"type": "Linear", "in_features": 1, "out_features": 4, "bias": True}],
        x_scaler=(np.array([0.5]), np.array([2.0])),
        y_scaler=(np.array([1.0]), np.array([3.0])),
        features=None,
        epoch=epoch,
    )


def test_recorder_writes_history_in_chunks_and_the_rest_at_the_end(store):
    recorder = Recorder(store, interval=3600)  # no ticks: the test flushes by hand
    run = _run()
    recorder.track(run)
    run.control.set_status("running")
    _train(run, 12)
    run.checkpoint = _checkpoint(12)
    recorder.flush()
    _train(run, 30, start=12)
    run.checkpoint = _checkpoint(30)
    run.control.set_status("finished")
    run.ended()  # the end hook writes synchronously
    summary = store.summary(run.id)
    assert summary["status"] == "finished" and summary["ended"] is not None
    assert summary["epoch"] == 30 and summary["best_test_loss"] == pytest.approx(2 / 30)
    history = store.history(run.id, summary["columns"])
    assert history.length == 30
    np.testing.assert_array_equal(history.columns["train_loss"], run.history.columns["train_loss"])
    checkpoint = store.checkpoint(run.id)
    assert checkpoint.epoch == 30 and checkpoint.state["0.weight"][0, 0] == 30
    assert checkpoint.y_scaler[1][0] == 3.0
    recorder.close()


def test_a_run_of_a_process_that_died_becomes_interrupted_with_its_history(store):
    dead = Recorder(store, interval=3600)
    run = _run()
    dead.track(run)
    run.control.set_status("running")
    _train(run, 7)
    dead.flush()  # ...and then the process is gone (no end hook, no more heartbeats)
    alive = Recorder(store, interval=3600, stale_after=0.0)
    summary = store.summary(run.id)
    assert summary["status"] == "interrupted"
    assert store.history(run.id, summary["columns"]).length == 7
    assert alive.recover() == 0  # once is enough


def test_a_live_process_runs_are_not_interrupted_by_another_process(store):
    mine = Recorder(store, interval=3600)
    run = _run()
    mine.track(run)
    run.control.set_status("running")
    Recorder(store, interval=3600, stale_after=60.0)  # another process starting now
    assert store.summary(run.id)["status"] == "queued"  # as stored, not interrupted


def test_delete_removes_the_run_with_its_history_and_checkpoint(store):
    recorder = Recorder(store, interval=3600)
    run = _run()
    recorder.track(run)
    _train(run, 5)
    run.checkpoint = _checkpoint(5)
    recorder.flush()
    recorder.forget(run.id)
    assert store.delete_run(run.id)
    assert store.summary(run.id) is None and store.checkpoint(run.id) is None
    assert store.history(run.id, ["train_loss"]).length == 0
    assert not store.delete_run(run.id)


def test_rename_and_notes_are_stored(store):
    Recorder(store, interval=3600).track(_run())
    run_id = store.summaries()[0]["id"]
    assert store.update_run(run_id, name="wide", notes="lr too high?")
    assert store.summary(run_id)["name"] == "wide"
    assert not store.update_run("nope", name="x")


def test_uploaded_datasets_round_trip(store):
    rows = b"".join(f"{i},{i * i % 7},{i % 2}\n".encode() for i in range(20))
    dataset = parse_csv(b"x,y,label\n" + rows)
    store.save_dataset("abc", encode_dataset(dataset))
    again = decode_dataset(store.dataset("abc"))
    np.testing.assert_array_equal(again.X, dataset.X)
    np.testing.assert_array_equal(again.labels, dataset.labels)
    assert again.classes == dataset.classes and again.kind == dataset.kind
    assert store.dataset("missing") is None


def test_summaries_filter_by_task(store):
    recorder = Recorder(store, interval=3600)
    recorder.track(_run())
    config = validate_run({"task": "saddle", "epochs": 5, "samples": 50}, None)[0]
    recorder.track(Run("saddle1", TASKS["saddle"], config))
    assert [row["task"] for row in store.summaries("saddle")] == ["saddle"]
    assert len(store.summaries()) == 2


def test_history_exports_write_float32_values_as_their_shortest_decimal():
    from app.storage.export import history_csv, history_export_json

    lr = np.array([0.001, 0.13, np.nan, 2.25e-6], np.float32)
    header, values = ["epoch", "lr"], [np.arange(1, 5), lr]
    lines = history_csv(header, values).splitlines()
    assert lines == ["epoch,lr", "1,0.001", "2,0.13", "3,", "4,2.25e-06"]
    as_json = history_export_json(header, values)
    assert as_json["lr"] == [0.001, 0.13, None, 2.25e-06]
    np.testing.assert_array_equal(np.array(as_json["lr"], dtype=np.float32), lr)  # exact



def _claim_at_once(names: list[Any], owners: list[str], name: str) -> list[str]:
    """Each owner claims `name` (upper-cased on every other one) through names[k % 2], all
    released at once by a barrier; "named" or "taken" per claim."""
    from app.storage.owner_names import NameTaken

    start, outcomes = threading.Barrier(len(owners)), []

    def claim(k: int) -> None:
        start.wait()
        try:
            names[k % 2].set(owners[k], name.upper() if k % 2 else name)
            outcomes.append("named")
        except NameTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=claim, args=(k,)) for k in range(len(owners))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_one_name_claimed_at_once_through_two_web_processes_goes_to_one_owner(url):
    """Each claim checks the name is free, then writes it: two stores (two web processes) racing
    on one database both pass the check; the database's unique casefolded name decides."""
    from app.storage.owner_names import OwnerNames

    stores = [RunStore(url) for _ in range(2)]
    try:
        names = [OwnerNames(store) for store in stores]
        for round_ in range(12):
            name = f"Ada {round_}"
            owners = [f"browser:{round_}-{k}" for k in range(4)]
            assert _claim_at_once(names, owners, name) == ["named", "taken", "taken", "taken"]
            chosen = OwnerNames(stores[0]).all()
            assert sum(chosen.get(owner, "").casefold() == name.casefold() for owner in owners) == 1
    finally:
        for store in stores:
            store.close()
