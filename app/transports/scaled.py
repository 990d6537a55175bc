"""Scaled mode, the web side: runs train in `app.transports.worker` processes, this process streams
them.

``create_app`` uses `ScaledRunManager` when ``REDIS_URL`` is set. It trains nothing:

- `create` validates and stores the run (``queued``, no owner) and enqueues an RQ job
  (``app.transports.worker.train_job``) on Redis; a worker claims the row and trains it. While it
  waits, a run's ``queue_position`` is its place in the RQ queue.
- pause, resume, stop, step and live changes go to the worker through Redis
  (`app.transports.redis_control`); the answer waits for the stored status to follow, like embedded
  mode.
- Every run this process serves is an ordinary `Run` fed by a `RemoteFeed`, from two sides:

  * **live, through the message queue**: the worker emits the run's news (new history rows with
    their first epoch, progress, status, the encoded view and look inside; `app.transports.relay`)
    through
    Flask-SocketIO's Redis message queue, up to 20 times a second. This process's ``SocketIO``
    has a `app.transports.relay.RelayManager` (a ``socketio.RedisManager``) as client manager; it
    hands those messages to `ScaledRunManager._relayed`, which feeds the run: rows that continue its
    history are appended, rows it has are skipped, rows after a gap are ignored (and the run is
    read from the database at the next tick, `TICK_SECONDS`, to fill it).
  * **the database, the source of truth**: the sync thread reads every served run (its row,
    the history chunks it lacks) every `DB_SYNC_SECONDS` (``STUDIO_DB_SYNC_SECONDS``, default
    1 s): the catch-up of a run this process starts serving mid-run and of gaps, and the only
    source of a run's end (a relayed end only makes it read the row at the next tick; the
    worker stores the end before it relays it). While no relay message came for `RELAY_LIVE`
    seconds (e.g. Redis away) the status also comes from there, and the view is redrawn from
    the latest checkpoint (the worker writes one every second).

  The ordinary `Broadcaster` streams the run to this process's own clients, with the same
  per-client cursors, acks and shared encodings as embedded mode (a relayed view is sent as it
  came, `app.runs.payloads.EncodedView`): every client gets every epoch exactly once whichever web
  process it talks to, and no web process needs another's state.
- The same thread is the watchdog: a ``running``/``paused`` run whose worker heartbeat key
  (`app.transports.redis_control.alive_key`, TTL 5 s) is missing on checks `LAPSE_CONFIRM` seconds
  apart ends as ``failed`` (reason ``worker lost``); a ``queued`` run whose RQ job is gone (Redis
  restarted empty) ends as ``failed`` too. Every web process runs one; their updates are
  conditional, so they never fight.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import func, select, update

from app.data.encoding import unpack_history
from app.outages import remove_leftovers, store_writes
from app.runs.broadcast import Broadcaster
from app.runs.control import LIVE_FIELDS, TERMINAL, ControlError, check_step
from app.runs.manager import (
    CONTROL_WAIT,
    MAX_UNFINISHED_RUNS,
    RunManager,
    RunRegistry,
    ShuttingDown,
    TooManyRuns,
)
from app.runs.run import Run
from app.runs.runner import UNWATCHED_PAUSE
from app.runs.validation import RunSpec, resolve_task
from app.storage.store import (
    UNFINISHED,
    CheckpointRow,
    HistoryChunk,
    RunRow,
    RunStore,
    interpolate_seconds,
)
from app.storage.stored_runs import stored_run
from app.training.session import TrainingSession
from app.transports.redis_control import QUEUE, RedisControls
from app.transports.relay import MessageFeed, RelayManager

log = logging.getLogger(__name__)

# the served runs are read back from the database this often (live data comes by the relay)
DB_SYNC_SECONDS = float(os.environ.get("STUDIO_DB_SYNC_SECONDS") or 1.0)
TICK_SECONDS = 0.1  # the sync thread wakes this often (catch-ups asked for by the relay)
POSITION_SECONDS = 0.5  # a queued run's place in the job queue is asked of Redis this often
RELAY_LIVE = 2.0  # a run whose last relay message is younger than this is fed by the relay
WATCHDOG_SECONDS = 1.0
LAPSE_CONFIRM = 2.0  # a heartbeat key missing this long after it was first seen missing
QUEUED_GRACE = 10.0  # a queued run younger than this is never judged lost
JOB_TIMEOUT = 7 * 86_400  # RQ's own limit of one training job (seconds)
WORKER_LOST = "worker lost: its training process stopped renewing its heartbeat"


# ------------------------------------------------------------------ shared database helpers


def end_unfinished(store: RunStore, run_id: str, status: str, reason: str,
                   only: tuple[str, ...] = UNFINISHED, wait: bool = True) -> bool:  # fmt: skip
    """End a run that is still in one of the `only` statuses; False if it was not. Without
    `wait`, a row locked by another transaction (a worker stopped in the middle of a write) is
    left alone (False): the caller tries again later, never waiting on the lock."""
    now = time.time()
    unfinished = select(RunRow.id).where(RunRow.id == run_id, RunRow.status.in_(only))
    if not wait:
        unfinished = unfinished.with_for_update(skip_locked=True)
    with store.session() as session:
        result = session.execute(
            update(RunRow)
            .where(RunRow.id.in_(unfinished.scalar_subquery()))
            .values(status=status, reason=reason, ended=now, updated=now)
        )
        return result.rowcount > 0


def claim(store: RunStore, run_id: str, owner: str) -> bool:
    """A worker takes a queued run: ``running`` and owned by it; False if it is not queued."""
    with store.session() as session:
        result = session.execute(
            update(RunRow)
            .where(RunRow.id == run_id, RunRow.status == "queued")
            .values(status="running", owner=owner, updated=time.time())
        )
        return result.rowcount > 0


def unfinished_count(store: RunStore, creator: str | None = None) -> int:
    """Runs queued, running or paused, in every process (only `creator`'s, if given)."""
    query = select(func.count()).where(RunRow.status.in_(UNFINISHED))
    if creator is not None:
        query = query.where(RunRow.creator == creator)
    with store.session() as session:
        return session.scalar(query) or 0


# ------------------------------------------------------------------ the runs this process serves


class RemoteFeed(MessageFeed):
    """What feeds a `Run` trained elsewhere: the worker's relay messages (`relayed`, as
    `MessageFeed` applies them) and the database (`sync`: the catch-up, and the only source of
    its end). Its control takes the status told (`RunControl.mirror`)."""

    def __init__(self, run: Run, history_length: int, elapsed: float,
                 position_of: Callable[[str], int | None] | None = None) -> None:  # fmt: skip
        super().__init__(run)
        self.marks: list[tuple[int, float]] = [(history_length, elapsed)]
        self.checkpoint_mark: tuple[int, float] | None = None
        self.position_of = position_of  # run id -> 0-based place in the job queue, or None
        self._position: tuple[float, int | None] = (-POSITION_SECONDS, None)
        self._seconds: np.ndarray | None = None  # the stored ones once the run ended
        run.timing = self.seconds
        run.position_of = self.queue_position

    def seconds(self, length: int) -> np.ndarray:
        """Training seconds at the end of each of the first `length` epochs."""
        if self._seconds is None or len(self._seconds) < length:
            self._seconds = interpolate_seconds(self.marks, self.run.history.length)
        return self._seconds[:length]

    def queue_position(self, _run_id: str) -> int | None:
        """1-based place in the job queue (asked of Redis at most every `POSITION_SECONDS`)."""
        if self.position_of is None:
            return None
        asked, position = self._position
        if time.monotonic() - asked >= POSITION_SECONDS:
            try:
                place = self.position_of(self.run.id)
            except Exception:  # Redis away: no place to tell
                place = None
            position = None if place is None else place + 1
            self._position = (time.monotonic(), position)
        return position

    def relay_live(self) -> bool:
        """True while relay messages come in (they, not checkpoints, bring the view)."""
        return self.relayed_at is not None and time.monotonic() - self.relayed_at < RELAY_LIVE

    def _mark(self, epoch: int, elapsed: float) -> None:
        """Note the training seconds at an epoch (at most one mark per second of training)."""
        if not self.marks or elapsed - self.marks[-1][1] >= 1.0:
            self.marks.append((epoch, elapsed))

    # ------------------------------------------------------------------ the database

    def sync(self, store: RunStore) -> None:
        """Read what is new: the row FIRST, then the chunks (so a terminal status is never
        shown before the history written with it); without live relay messages also a newer
        checkpoint's view."""
        run = self.run
        summary = store.summary(run.id)
        if summary is None:  # deleted meanwhile
            run.control.set_status("failed", "the run was deleted")
            return
        with store.session() as session:
            chunks = list(
                session.execute(
                    select(HistoryChunk.start, HistoryChunk.stop, HistoryChunk.elapsed,
                           HistoryChunk.data)  # fmt: skip
                    .where(HistoryChunk.run_id == run.id, HistoryChunk.stop > run.epoch)
                    .order_by(HistoryChunk.start)
                )
            )
            mark = None
            if not self.relay_live() or summary["status"] in TERMINAL:  # the final weights
                mark = session.execute(
                    select(CheckpointRow.epoch, CheckpointRow.updated).where(
                        CheckpointRow.run_id == run.id
                    )
                ).first()
        if mark is not None and tuple(mark) != self.checkpoint_mark:
            self._new_checkpoint(store, tuple(mark))
        ended = summary["status"] in TERMINAL
        seconds = store.history(run.id, summary["columns"]).seconds if ended else None
        with run.lock:
            self._append(chunks, summary["columns"])
            self._take(summary)
            if seconds is not None:
                self._seconds = seconds  # as stored: every web process exports the same

    def _append(self, chunks: list[Any], names: list[str]) -> None:
        history = self.run.history
        if names != history.names and history.length == 0:
            history.reset(names)
        for chunk in chunks:
            count = chunk.stop - chunk.start
            rows = unpack_history(chunk.data, history.names)
            if not history.put(chunk.start, rows, count):  # only ever contiguous, in order
                break
            self._mark(chunk.stop, chunk.elapsed)
        self.run.epoch = history.length
        self._seconds = None  # recomputed from the marks when read

    def _take(self, summary: dict[str, Any]) -> None:
        run = self.run
        run.summary = summary
        run.findings = summary["findings"]
        run.lr_changes = summary.get("lr_changes") or run.lr_changes
        stored = summary["config"]  # the spec as created, the live settings as last stored
        run.control.adopt({name: stored[name] for name in LIVE_FIELDS if name in stored})
        elapsed = float(summary["elapsed"] or 0.0)
        told = summary["status"] in TERMINAL or not self.relay_live()  # else the relay's newer
        if run.control.ended:
            return
        if told:
            run.control.mirror(summary["status"], summary["reason"], elapsed, exact=True)
        else:
            run.control.mirror(None, None, elapsed)

    def _new_checkpoint(self, store: RunStore, mark: tuple[int, float]) -> None:
        run = self.run
        checkpoint = store.checkpoint(run.id)
        if checkpoint is None:
            return
        run.checkpoint, self.checkpoint_mark = checkpoint, mark
        if run.payloads is None:
            return  # the first `payloads_now` builds the view from it
        try:
            session = TrainingSession(run.task, run.config, self._view_data(), checkpoint.state)
            view = session.view()
        except Exception:
            log.exception("no view of run %s from its checkpoint", run.id)
            return
        with run.lock:
            if not self.relay_live():
                run.view, run.view_version = view, run.view_version + 1

    def _view_data(self) -> Any:
        return self.run.data()  # drawn once in this process, shared with its payloads


def load_remote(store: RunStore, datasets: Any, run_id: str) -> RemoteFeed | None:
    """The stored run with this id, fed from the relay and the database (`RemoteFeed`); None
    if unknown or its task is gone."""
    summary = store.summary(run_id)
    if summary is None:
        return None
    task = resolve_task(summary["config"], datasets, {})
    if task is None:
        return None
    history = store.history(run_id, summary["columns"])
    run = stored_run(summary, task, history, store.checkpoint(run_id))
    feed = RemoteFeed(run, history.length, float(summary["elapsed"] or 0))
    feed.sync(store)
    return feed


class ScaledRunManager:
    """The run manager of a scaled web process (see the module docstring): the same public
    methods as `app.runs.manager.RunManager`, over the job queue, Redis and the database."""

    recorder = None  # workers write the runs; this process only reads them
    # set by app/web/owners.py with an access token: the limit, and what else an owner holds
    max_runs_per_owner, also_owned = None, staticmethod(lambda _creator: 0)  # (its sweeps)
    relayed = 0  # relay messages taken (for tests and logs)

    def __init__(self, socketio: Any, store: RunStore, redis_url: str, datasets: Any,
                 frame_interval: float = 0.05, ack_timeout: float = 2.0,
                 max_unfinished_runs: int = MAX_UNFINISHED_RUNS,
                 unwatched_pause: float | None = UNWATCHED_PAUSE) -> None:  # fmt: skip
        self.socketio, self.store, self.datasets = socketio, store, datasets
        self.unwatched_pause = unwatched_pause  # sent with each job: the worker applies it
        self.broadcaster = Broadcaster(socketio, frame_interval, ack_timeout)
        self.max_unfinished_runs = max_unfinished_runs
        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.queue = Queue(QUEUE, connection=self.redis)
        self.controls = RedisControls(self.redis)
        self._feeds: dict[str, RemoteFeed] = {}  # run id -> what feeds it (guarded by the lock)
        self.registry = RunRegistry(store, self._load, keep_loaded=lambda _run: True)
        self.get, self.full_id = self.registry.get, self.registry.full_id
        self.unknown = RunRegistry.unknown
        self.watchdog = Watchdog(store, self.controls, self.redis)
        self.db_sync_seconds = DB_SYNC_SECONDS
        self._catch_up: set[str] = set()  # runs to read from the database at the next tick
        self._watched: dict[str, float] = {}  # run id -> when its watched key was last set
        self._listen(socketio)
        self._stopped = threading.Event()
        self.changing = threading.Lock()  # one live change at a time, stored with what it sets
        self._thread = threading.Thread(target=self._loop, name="scaled-sync", daemon=True)
        self._thread.start()

    def _load(self, run_id: str) -> Run | None:
        feed = load_remote(self.store, self.datasets, run_id)
        if feed is None:
            return None
        feed.position_of = self.queue.get_job_position
        with self.registry.lock:
            feed = self._feeds.setdefault(run_id, feed)
        return feed.run

    def _feed(self, run_id: Any) -> RemoteFeed | None:
        with self.registry.lock:
            return self._feeds.get(run_id) if isinstance(run_id, str) else None

    # ------------------------------------------------------------------ the relay

    def _listen(self, socketio: Any) -> None:
        """Take relay messages from the `RelayManager` of `socketio` from now on (its listening
        thread otherwise starts with the first client)."""
        server = getattr(socketio, "server", None)
        manager = getattr(server, "manager", None)
        if not isinstance(manager, RelayManager):
            log.warning("no RelayManager: runs stream from the database alone")
            return
        manager.sink = self._relayed
        if not server.manager_initialized:
            server.manager_initialized = True
            manager.initialize()

    def _relayed(self, message: dict[str, Any]) -> None:
        """One relay message (the manager's listening thread): to the run if this process
        serves it; a gap or an end asks the sync thread for a database read."""
        feed = self._feed(message.get("run_id"))
        if feed is None or self.registry.known(feed.run.id) is None:
            return
        self.relayed += 1
        try:
            if feed.relayed(message):
                with self.registry.lock:
                    self._catch_up.add(feed.run.id)
        except Exception:  # a malformed message: the database catch-up still brings everything
            log.exception("relay message of run %s not taken", feed.run.id)

    def _mark_watched(self, now: float) -> None:
        """Renew the watched key of every run this process streams (every second, and at once
        for a run watched anew), so that its worker relays its views."""
        streamed = self.broadcaster.streamed()
        due = [run_id for run_id in streamed if now - self._watched.get(run_id, -9.0) >= 1.0]
        try:
            self.controls.watched(due)
        except Exception:  # Redis away: the database reads go on meanwhile
            log.warning("could not mark the watched runs in Redis")
            return
        self._watched = {run_id: self._watched.get(run_id, now) for run_id in streamed}
        self._watched.update(dict.fromkeys(due, now))

    # ------------------------------------------------------------------ runs

    def owned(self, creator: str) -> int:
        """`creator`'s unfinished runs (in the database) and running sweeps (`also_owned`)."""
        return unfinished_count(self.store, creator) + self.also_owned(creator)

    def create(self, spec: RunSpec, initial_state: Any = None, continued_from: str | None = None,
               creator: str | None = None, sweep: str | None = None, hooks: tuple = ()) -> Run:
        """Store the run of `spec` as ``queued`` and enqueue its training job (see the module
        docstring). `initial_state` is not sent: the worker reads the weights of
        `continued_from`. A run of `sweep` is not refused by the limit; `hooks` are not called
        (the sweep scheduler looks at its runs' statuses)."""
        task = spec.task
        run = Run(uuid.uuid4().hex[:12], task, spec.config_copy(), spec.data)
        run.creator = creator
        if self.registry.shut_down:
            raise ShuttingDown()
        if sweep is None and unfinished_count(self.store) >= self.max_unfinished_runs:
            raise TooManyRuns(self.max_unfinished_runs)
        if creator and sweep is None and self.max_runs_per_owner is not None:  # owners
            if self.owned(creator) >= self.max_runs_per_owner:  # counted in the database
                raise TooManyRuns(self.max_runs_per_owner, mine=True)
        now = time.time()
        self.store.insert_run(
            id=run.id, task=task.id, config=run.config, status="queued", created=now,
            updated=now, owner=None, epochs=run.epochs, columns=list(run.history.names),
            notes="", warnings=[], continued_from=continued_from, creator=creator,
        )  # fmt: skip
        try:
            self.queue.enqueue_call(
                "app.transports.worker.train_job", args=(run.id, self.unwatched_pause),
                job_id=run.id, timeout=JOB_TIMEOUT, result_ttl=600, failure_ttl=86_400,
            )  # fmt: skip
        except Exception as error:
            log.exception("run %s could not be queued", run.id)
            end_unfinished(self.store, run.id, "failed", f"could not queue the run: {error}")
        return self.get(run.id) or run

    def runs(self) -> list[Run]:
        """No live runs here: the runs list is read from the database alone, the same in every
        web process."""
        return []

    def delete(self, run: Run) -> None:
        """Remove its stored data, stop the run if needed and forget it (`StorageUnavailable`
        when its data cannot be removed: then nothing happened)."""
        with store_writes():
            self.store.delete_run(run.id)  # first: an error here changes nothing
        if run.status not in TERMINAL:
            self.stop(run)
        self.registry.remove(run.id)
        with self.registry.lock:
            self._feeds.pop(run.id, None)
        remove_leftovers(self.store, run.id)  # what its worker wrote meanwhile

    # ------------------------------------------------------------------ control

    def _await(self, run: Run, done: Any, wait: float = CONTROL_WAIT) -> str:
        deadline = time.monotonic() + wait
        feed = self._feed(run.id)
        while True:
            if feed is not None:
                feed.sync(self.store)
            if run.control.ended or done() or time.monotonic() >= deadline:
                return run.status
            time.sleep(0.05)

    def pause(self, run: Run) -> str:
        """Ask the worker to pause; answers once the stored status says so (or after a wait)."""
        self.controls.send(run.id, ("pause",))
        return self._await(run, lambda: run.status == "paused")

    def resume(self, run: Run) -> str:
        """Ask the worker to go on."""
        self.controls.send(run.id, ("resume",))
        return self._await(run, lambda: run.status != "paused")

    def step(self, run: Run, unit: str, count: int) -> str:
        """While paused: train `count` epochs or mini-batches on the worker."""
        if run.status != "paused":
            raise ControlError(f"the run is {run.status}: it can step only while paused")
        feed = self._feed(run.id)
        if feed is None:
            raise ControlError("the run is not followed here: try again")
        check_step(unit, feed.step)  # 409 as in embedded mode
        done = feed.steps_done
        self.controls.send(run.id, ("step", unit, count))
        return self._await(run, lambda: feed.steps_done > done)  # done (or ended by a pause)

    def change(self, run: Run, body: Any) -> dict[str, Any]:
        """Live changes: validated here, stored in the config, then sent to the worker (which
        applies them); all or nothing: if Redis cannot take them, the stored config is put
        back and the error answers (503) with nothing changed."""
        changes = RunManager.accept_changes(run, body)
        with self.changing:
            before = run.config
            config = {**before, **changes}  # as asked (the sync thread may adopt an older row)
            with store_writes():
                self.store.update_run(run.id, config=config)
            try:
                self.controls.send(run.id, ("change", changes))
            except Exception:
                self.store.update_run(run.id, config=before)
                raise
            run.control.adopt(changes)  # in force here at once; the worker's control applies them
        return config

    def stop(self, run: Run) -> str:
        """A queued run ends at once (its job is cancelled); a training one on its worker."""
        if end_unfinished(self.store, run.id, "stopped", "stopped while queued", ("queued",)):
            self._cancel_job(run.id)
        else:
            self.controls.send(run.id, ("stop",))
        return self._await(run, lambda: False)

    def _cancel_job(self, run_id: str) -> None:
        try:
            Job.fetch(run_id, connection=self.redis).cancel()
        except Exception:  # gone already: the worker skips a run that is not queued anyway
            log.info("job of run %s not cancelled", run_id)

    def shutdown(self, timeout: float = 10.0, interrupt: bool = False) -> None:
        """Stop the sync thread (the runs go on training in their workers, `interrupt` or
        not)."""
        with self.registry.lock:
            self.registry.shut_down = True
        self._stopped.set()
        self._thread.join(timeout)

    # ------------------------------------------------------------------ sync and watchdog

    def _loop(self) -> None:
        checked = synced = 0.0
        while not self._stopped.wait(TICK_SECONDS):
            try:
                now = time.monotonic()
                if now - checked >= WATCHDOG_SECONDS:
                    checked = now
                    self.watchdog.check()
                self._mark_watched(now)
                every = now - synced >= self.db_sync_seconds
                if every:
                    synced = now
                self._sync_served(every)
            except Exception:  # the thread must outlive a database or Redis outage
                log.exception("the scaled sync failed a tick")

    def _sync_served(self, every: bool) -> None:
        """Read the served runs from the database: all of them (`every`), else those the relay
        asked for."""
        with self.registry.lock:
            wanted, self._catch_up = self._catch_up, set()
            feeds = list(self._feeds.values())
        served = {run.id for run in self.registry.runs()}
        for feed in feeds:
            run = feed.run
            if run.id not in served and run.control.ended:  # forgotten (ended long ago)
                with self.registry.lock:
                    self._feeds.pop(run.id, None)
            elif not run.control.ended and (every or run.id in wanted or feed.end_relayed):
                feed.sync(self.store)


class Watchdog:
    """Every web process's check for lost workers (see the module docstring): it never waits on
    a lock a worker holds (`end_unfinished` without `wait`)."""

    def __init__(self, store: RunStore, controls: RedisControls, redis: Any) -> None:
        self.store, self.controls, self.redis = store, controls, redis
        self._missing: dict[str, float] = {}  # run id -> when its heartbeat was first missing

    def check(self) -> int:
        """End runs whose worker is gone (see the module docstring); returns how many."""
        with self.store.session() as session:
            rows = list(
                session.execute(
                    select(RunRow.id, RunRow.status, RunRow.created).where(
                        RunRow.status.in_(UNFINISHED)
                    )
                )
            )
        now, ended = time.monotonic(), 0
        unfinished = {row[0] for row in rows}
        for run_id in [run_id for run_id in self._missing if run_id not in unfinished]:
            del self._missing[run_id]  # it ended (its worker removes its key after the end)
        for run_id, status, created in rows:
            if status == "queued":
                ended += self._lost_job(run_id, created)
                continue
            if self.controls.alive(run_id):
                self._missing.pop(run_id, None)
                continue
            first = self._missing.setdefault(run_id, now)
            if now - first >= LAPSE_CONFIRM and end_unfinished(
                self.store, run_id, "failed", WORKER_LOST, wait=False
            ):  # a row its worker still locks (stopped mid-write): the next check tries again
                self._missing.pop(run_id, None)
                ended += 1
        return ended

    def _lost_job(self, run_id: str, created: float) -> int:
        if time.time() - created < QUEUED_GRACE:
            return 0
        try:
            job_status = Job.fetch(run_id, connection=self.redis).get_status()
        except NoSuchJobError:
            job_status = None
        if job_status in ("queued", "started", "deferred", "scheduled"):
            return 0
        reason = "the job queue lost the run (Redis restarted?): start it again"
        return int(end_unfinished(self.store, run_id, "failed", reason, ("queued",), wait=False))
