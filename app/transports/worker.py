"""`python -m app.worker --redis-url URL --database-url URL`: a training worker of scaled mode.

An RQ `SimpleWorker` on the ``backprop`` queue: it trains one run at a time, in its own
process (no fork: a SIGKILL of this process ends the training with it, and the web processes'
watchdog sees the heartbeat lapse). Start as many as there are cores, on any machine that
reaches Redis and the database.

`train_job(run_id)` (the job the web processes enqueue) claims the stored ``queued`` run, builds
a `Run` from its stored config (and the weights of the run it continues, if any) and trains it
with the ordinary run loop (`app.runs.runner.execute`), views every `FRAME_INTERVAL` seconds and
looks inside every ``--inside-interval`` seconds, as embedded mode does. Three helpers go with it:

- a `ControlRelay` renews the run's heartbeat key and hands pause/resume/stop/step/live changes
  from Redis to the run's `RunControl`;
- a `RunRelay` (`app.transports.relay`) emits the run's news (new history rows, progress, status,
the view
  and the look inside, already encoded) through Flask-SocketIO's Redis message queue, at most
  20 times a second: every web process streams them to its own clients;
- a `Recorder` writes its history (every `RECORD_INTERVAL` seconds), a checkpoint (every
  `CHECKPOINT_SECONDS`) and the final state to the shared database: the source of truth, from
  which a web process catches up (a run it starts serving mid-run, a gap in the messages) and
  learns that a run ended.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import time
import uuid
from functools import partial

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue, SimpleWorker

from app.data.tasks import TASKS, own_tasks
from app.data.uploads import DatasetStore
from app.runs.control import ComputeSlots
from app.runs.run import Run
from app.runs.runner import UNWATCHED_PAUSE, execute
from app.runs.validation import resolve_task
from app.settings import data_dir as default_data_dir
from app.settings import limit_blas_threads
from app.storage.recorder import Recorder
from app.storage.store import (
    RunStore,
    StoredDatasets,
)
from app.transports.redis_control import QUEUE, ControlRelay
from app.transports.relay import RunRelay, relay_emitter
from app.transports.scaled import claim, end_unfinished

log = logging.getLogger(__name__)

RECORD_INTERVAL = 0.25  # seconds between two history writes (the web processes' catch-up)
FRAME_INTERVAL = 1 / 30  # a fresh view at most this often (relayed to the web processes)
INSIDE_INTERVAL = 0.1  # a look inside at most this often (default of --inside-interval)
# a web process that has no relayed view yet (it started mid-run) draws the checkpoint's
CHECKPOINT_SECONDS = 1.0
NEVER = 1e12  # a stale_after no heartbeat reaches: Redis keys, not row ages, tell lost runs


class WorkerContext:
    """What a worker process's jobs share: the store, Redis, datasets and the recorder."""

    def __init__(self, redis_url: str, database_url: str,
                 inside_interval: float | None = INSIDE_INTERVAL,
                 mnist_dir: str | None = None, data_dir: str | None = None) -> None:  # fmt: skip
        self.store = RunStore(database_url)  # migrates, one process at a time
        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.datasets = DatasetStore(max_datasets=8, persist=StoredDatasets(self.store))
        # it adopts rows the web processes stored, never marks other processes' runs interrupted
        # (the web processes' watchdog judges them by Redis), and never changes an ended row
        self.recorder = Recorder(self.store, RECORD_INTERVAL, stale_after=NEVER,
                                 unfinished_only=True)  # fmt: skip
        self.emitter = relay_emitter(redis_url)
        # every task a web process offers: the registry's and mnist from the same folders
        self.tasks = {**TASKS, **own_tasks(mnist_dir, data_dir or default_data_dir())}
        self.inside_interval = inside_interval or None
        self.current: Run | None = None  # the run training now
        self.owner = f"worker:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:32]

    def build(self, run_id: str) -> Run | None:
        """The stored queued run as a `Run` to train; None if it is not to be trained."""
        summary = self.store.summary(run_id)
        if summary is None or summary["status"] != "queued":
            return None
        errors: dict[str, str] = {}
        task = resolve_task(summary["config"], self.datasets, errors, self.tasks)
        if task is None:
            end_unfinished(self.store, run_id, "failed", f"its task is gone: {errors}")
            return None
        run = Run(run_id, task, summary["config"])
        if summary["continued_from"]:
            checkpoint = self.store.checkpoint(summary["continued_from"])
            run.initial_state = None if checkpoint is None else checkpoint.state
        return run

    def train(self, run_id: str, unwatched_pause: float | None = UNWATCHED_PAUSE) -> str:
        """Claim and train one run to its end; returns its final status. Paused with nobody
        watching for `unwatched_pause` seconds (the web process's setting), it is stopped."""
        run = self.build(run_id)
        if run is None:
            return "skipped"
        relay = ControlRelay(self.redis, run, self.owner, partial(self.store.ended_as, run_id))
        relay.beat()  # alive before it is running: the watchdog never sees one without the other
        if not claim(self.store, run_id, self.owner):
            relay.stop()
            return "skipped"
        # ``running`` as claimed, before the recorder's first write and the first relay message:
        # a ``queued`` run (its status until `execute` begins) would flip the stored row back,
        # where a stop would end it as never started while it trains on
        run.control.set_status("running")
        self.recorder.track(run, insert=False)
        run.watched = False  # until `relay` finds the run's watched key (within 0.1 s)
        relay.start()
        stream = RunRelay(self.emitter, run, stored=partial(self.recorder.stored_epochs, run_id))
        stream.start()
        slots = ComputeSlots(1)
        slots.request(run_id, lambda: None)  # `execute` expects its slot held
        self.current = run
        try:
            # its checkpoints (the weights a web process draws the prediction from while no
            # relayed view comes) every second instead of every ten
            execute(run, slots, FRAME_INTERVAL, self.inside_interval,
                    checkpoint_seconds=CHECKPOINT_SECONDS,
                    unwatched_pause=unwatched_pause)  # fmt: skip
        finally:
            self.current = None
            stream.stop()  # after the recorder wrote the end: a web process reading it finds it
            relay.stop()
        return run.status

    def interrupt(self) -> None:
        """End the run training now as ``interrupted`` (SIGTERM: the worker shuts down)."""
        run = self.current
        if run is not None:
            run.control.request_stop(0.0, interrupt=True)


class GracefulWorker(SimpleWorker):
    """RQ's `SimpleWorker`, whose warm shutdown (SIGTERM, Ctrl-C) also interrupts the run it
    trains: it ends ``interrupted`` with its history and weights written, then the worker
    exits (RQ's own waits for the job, a whole run, to end)."""

    def request_stop(self, signum: object, frame: object) -> None:
        super().request_stop(signum, frame)
        if _context is not None:
            _context.interrupt()

    def unsubscribe(self) -> None:
        """RQ's, with a bounded wait for its pubsub thread (a daemon): redis-py's may sleep up
        to RQ's 60 s for a subscription before it sees the stop, and the worker with it."""
        if self.pubsub_thread:
            self.pubsub.unsubscribe()
            self.pubsub_thread.stop(timeout=1.0)
            self.pubsub.close()


_context: WorkerContext | None = None  # set by `main` (or from the environment on first job)


def train_job(run_id: str, unwatched_pause: float | None = UNWATCHED_PAUSE) -> str:
    """The RQ job: train the stored run `run_id` in this worker process (stopped once paused
    and unwatched for `unwatched_pause` seconds: the web process's setting)."""
    global _context
    if _context is None:
        _context = WorkerContext(os.environ["REDIS_URL"], os.environ["DATABASE_URL"],
                                 mnist_dir=os.environ.get("MNIST_DIR"),
                                 data_dir=os.environ.get("BACKPROP_DATA_DIR"))  # fmt: skip
    return _context.train(run_id, unwatched_pause)


def parse_args(argv: list[str] | None = None,
               prog: str = "python -m app.worker") -> argparse.Namespace:  # fmt: skip
    """The command line: --redis-url, --database-url, --blas-threads, --burst."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"),
                        help="the Redis of the job queue (default $REDIS_URL)")  # fmt: skip
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="the shared database (default $DATABASE_URL)")  # fmt: skip
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads (default 1: one worker per core)")  # fmt: skip
    parser.add_argument("--inside-interval", type=float, default=INSIDE_INTERVAL,
                        help="seconds between two looks inside a training network (default "
                        "%(default)s); 0 turns them off")  # fmt: skip
    parser.add_argument("--mnist-dir", default=os.environ.get("MNIST_DIR"),
                        help="the four MNIST IDX files, as the web processes' --mnist-dir "
                        "(default $MNIST_DIR; else the data folder's mnist/)")  # fmt: skip
    parser.add_argument("--data-dir", default=os.environ.get("BACKPROP_DATA_DIR"),
                        help="the data folder the web processes share (default "
                        "$BACKPROP_DATA_DIR, else the web process's default, app/settings.py): its "
                        "mnist/ holds uploads")  # fmt: skip
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    args = parser.parse_args(argv)
    if not args.redis_url or not args.database_url:
        parser.error("needs --redis-url and --database-url (or REDIS_URL and DATABASE_URL)")
    return args


def main(argv: list[str] | None = None, prog: str = "python -m app.worker") -> None:
    """Serve the queue until interrupted; reconnects when Redis goes away and comes back.

    Run through `python -m app.worker`: RQ's jobs find `_context` in this module by its name."""
    global _context
    args = parse_args(argv, prog)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(message)s")
    limit_blas_threads(args.blas_threads or None)
    _context = WorkerContext(args.redis_url, args.database_url, args.inside_interval,
                             args.mnist_dir, args.data_dir)  # fmt: skip
    print(f"Backprop Studio worker {_context.owner} on {args.redis_url}", flush=True)
    while True:
        try:
            connection = Redis.from_url(args.redis_url)
            worker = GracefulWorker([Queue(QUEUE, connection=connection)], connection=connection)
            worker.work(burst=args.burst, logging_level="WARNING")
            return
        except (RedisConnectionError, TimeoutError, OSError) as error:
            log.warning("Redis out of reach (%s): retrying in 1 s", error)
            time.sleep(1.0)
