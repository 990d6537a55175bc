"""Backprop Studio web app: REST API, pages and live training streams over Socket.IO.

`create_app(config)` builds everything (no work at import time): the Flask app, its `SocketIO`
(threading mode, reachable as ``app.extensions["socketio"]``), the run manager that trains
networks in background tasks (``app.extensions["runs"]``) and the store of uploaded CSV datasets
(``app.extensions["datasets"]``).
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from app.backprop.api import register_backprop
from app.data.tasks import own_tasks
from app.data.uploads import DatasetStore
from app.replay.api import install as install_replay
from app.runs.manager import RunManager
from app.runs.runner import UNWATCHED_PAUSE, execute
from app.settings import ROOT, STATIC, TEMPLATES, data_dir, database_url, limit_blas_threads
from app.storage.recorder import Recorder
from app.storage.store import RunStore, StoredDatasets
from app.storage.stored_runs import load_run
from app.sweeps import install as install_sweeps
from app.transports import relay
from app.transports.pipe import train_in_child
from app.web.access import install_access
from app.web.api import api
from app.web.inputs import install_input_guards
from app.web.owners import (
    MAX_RUNS_PER_OWNER,
    MAX_UPLOAD_BYTES_PER_OWNER,
    MAX_UPLOADS_PER_OWNER,
    install_owners,
)
from app.web.pages import pages
from app.web.runs_api import runs_api
from app.web.security import install_front_door
from app.web.sockets import register_socket_events
from app.web.wire import Outbox, return_large_blocks_to_the_system

__all__ = ["DEFAULT_CONFIG", "ROOT", "create_app", "database_url", "limit_blas_threads"]

DEFAULT_CONFIG: dict[str, Any] = {
    "MAX_ACTIVE_RUNS": 4,  # runs training at once; later ones wait as "queued"
    "FRAME_INTERVAL": 1 / 30,  # seconds between two frames of one run to one client (≤ 30/s)
    # seconds between two looks inside a training network (neuron maps, layer statistics);
    # 0 turns them off
    "INSIDE_INTERVAL": 0.1,
    "ACK_TIMEOUT": 2.0,  # a client that has not acked its last frame for this long gets the next
    "PING_INTERVAL": 25,  # Engine.IO ping interval in seconds (tests lower it)
    # A client that has not answered a ping this many seconds after it was sent is dropped.
    "PING_TIMEOUT": 10,
    # What one Socket.IO connection may cost (app/web/wire.py): bytes queued to it and not yet sent
    # (past it the connection is dropped), seconds a send may make no progress, and the largest
    # message a client may send (the app's events are tiny).
    "MAX_UNSENT_BYTES": 16 * 2**20,
    # ... and all connections together: past it the ones holding the most are dropped first
    # (abandoned long-polling watchers hold what was sent to them until their ping deadline).
    "MAX_UNSENT_TOTAL": 64 * 2**20,
    "SEND_TIMEOUT": 10.0,
    "MAX_SOCKET_MESSAGE": 64 * 1024,
    "MAX_UNFINISHED_RUNS": 64,  # queued, running or paused at once; more get 429
    # a paused run nobody watches (no open dashboard) this many seconds is stopped, its weights
    # kept (app/runs/runner.py, Unwatched); 0 or None: never
    "UNWATCHED_PAUSE_SECONDS": UNWATCHED_PAUSE,
    "WORK_BUDGET": 1e13,  # multiply-adds one run may cost (see validation.run_work)
    # The front door (app/web/security.py): Host names served besides localhost, 127.0.0.1 and ::1
    # ("0.0.0.0": any IP literal; "*": any host), and origins allowed to change state besides
    # the app's own ("*": any).
    "ALLOWED_HOSTS": (),
    "ALLOWED_ORIGINS": (),
    # The access token (app/web/access.py): None, no token (everyone who reaches the server may use
    # it); the admin token opens the door too, as an administrator.
    "ACCESS_TOKEN": None,
    "ADMIN_TOKEN": None,
    # With a token, runs and uploads have owners (app/web/owners.py): each may have this many
    # unfinished runs, and keep this many uploads taking at most these bytes as stored
    "MAX_RUNS_PER_OWNER": MAX_RUNS_PER_OWNER,
    "MAX_UPLOADS_PER_OWNER": MAX_UPLOADS_PER_OWNER,
    "MAX_UPLOAD_BYTES_PER_OWNER": MAX_UPLOAD_BYTES_PER_OWNER,
    "MAX_DATASETS": 32,  # uploads kept in memory; the least recently used go first
    "MAX_DATASET_MEMORY": 256 * 2**20,  # ... and their arrays' bytes in all (stored ones come back)
    # Uploads kept in storage (count, and bytes as stored: the CSV files compressed); past
    # them an upload is a 409 until some are deleted (DELETE /api/datasets/<id>).
    "MAX_STORED_UPLOADS": 200,
    "MAX_STORED_UPLOAD_BYTES": 256 * 2**20,
    # Bodies above this are refused unread (413, or for an upload the 400 of a too-big file):
    # the 5 MB file limit plus room for the multipart framing.
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024 + 64 * 1024,
    # BLAS threads per process (None: leave the library's default). Runs train concurrently on
    # their own threads; with BLAS's own thread pools on top they fight over the cores (two
    # moons runs: 15.8 s each with OpenBLAS's default threads vs 1.45 s with one).
    "BLAS_THREADS": 1,
    # Each run trains in a child process forked from the server (app/transports/pipe.py), on its
    # own interpreter lock; False: on a thread of the server (the server's threads then slow it
    # down by 5-10 %). Ignored where the system cannot fork.
    "TRAINING_PROCESSES": True,
    "TESTING": False,
    # Storage of runs (app/storage/store.py): an SQLAlchemy URL (sqlite:///path, postgresql+psycopg://
    # ...), "none" for memory only; None: the DATABASE_URL environment variable, else
    # runs.sqlite3 in DATA_DIR (in memory when TESTING). See `database_url`.
    "DATABASE_URL": None,
    # None: the BACKPROP_DATA_DIR environment variable, else the clone's data/ or, installed,
    # the user's data folder (app/settings.py)
    "DATA_DIR": None,
    "RECORD_INTERVAL": 1.0,  # seconds between two writes of the runs' history
    # How long a write waits for another process's lock on the SQLite file before it fails: a
    # new run is then refused (503), a running run's history waits in memory (see
    # app/storage/recorder.py)
    "DATABASE_BUSY_SECONDS": 10.0,
    # A folder with the four MNIST IDX files: the app then offers the task mnist (never
    # downloaded; see tasks.mnist_task). None: no mnist.
    "MNIST_DIR": None,
    # Scaled mode (app/transports/scaled.py): a Redis URL makes this a web process that trains
    # nothing;
    # `python -m app.worker` processes train. None: the REDIS_URL environment variable, else
    # embedded mode (runs trained by this process and its training processes).
    "REDIS_URL": None,
    # Runs of one sweep unfinished at once (app/sweeps): None: MAX_ACTIVE_RUNS embedded, 8 scaled.
    "SWEEP_PARALLEL": None,
}


def _storage(app: Flask) -> tuple[Any, Any]:
    """The run store and its recorder for the app's DATABASE_URL (None, None without one)."""
    url = database_url(app.config)
    if url is None:
        return None, None
    store = RunStore(url, busy_seconds=float(app.config["DATABASE_BUSY_SECONDS"]))
    sole = url.lower().startswith("sqlite")  # nobody else trains the runs of our SQLite file
    return store, Recorder(store, interval=float(app.config["RECORD_INTERVAL"]), sole_owner=sole)


def _scaled_storage(app: Flask) -> tuple[Any, None]:
    """Scaled mode's store (a database every process shares; no recorder: workers write)."""
    url = database_url(app.config)
    if url is None or url in ("sqlite://", "sqlite:///:memory:"):
        raise ValueError("scaled mode (REDIS_URL) needs a shared database: set DATABASE_URL")
    return RunStore(url), None


def _run_manager(app: Flask, socketio: Any, store: Any, recorder: Any, datasets: Any,
                 redis_url: str | None) -> Any:  # fmt: skip
    """The run manager: training threads here (embedded), or workers on Redis (scaled)."""
    unwatched_pause = float(app.config["UNWATCHED_PAUSE_SECONDS"] or 0)
    if not unwatched_pause >= 0:
        raise ValueError(f"UNWATCHED_PAUSE_SECONDS must be 0 (never) or more: {unwatched_pause}")
    streaming = {
        "frame_interval": float(app.config["FRAME_INTERVAL"]),
        "ack_timeout": float(app.config["ACK_TIMEOUT"]),
        "max_unfinished_runs": int(app.config["MAX_UNFINISHED_RUNS"]),
        "unwatched_pause": unwatched_pause or None,
    }
    if redis_url is not None:
        # scaled mode only: RQ is not loaded in embedded mode (start-up cost)
        from app.transports.scaled import ScaledRunManager

        manager = ScaledRunManager(socketio, store, redis_url, datasets, **streaming)
    else:
        manager = RunManager(
            socketio,
            max_active_runs=int(app.config["MAX_ACTIVE_RUNS"]),
            inside_interval=float(app.config["INSIDE_INTERVAL"]),
            train=train_in_child if app.config["TRAINING_PROCESSES"] else execute,
            recorder=recorder,
            loader=None if store is None else partial(load_run, store, datasets, recorder=recorder),
            **streaming,
        )
    return manager


def _app_tasks(app: Flask) -> dict[str, Any]:
    """The app's own tasks besides the registry: ``mnist`` when MNIST_DIR holds its four IDX
    files (a warning in the log otherwise)."""

    folder = app.config.get("MNIST_DIR")
    if not folder:  # the files uploaded earlier to this data directory (app/data/mnist_upload.py)
        chosen = app.config.get("DATA_DIR") or os.environ.get("BACKPROP_DATA_DIR")
        if chosen is None and app.config.get("TESTING"):
            return {}
        return own_tasks(None, data_dir(app.config))
    tasks = own_tasks(folder, None)
    if not tasks:
        app.logger.warning("MNIST_DIR %s lacks the four MNIST IDX files: no mnist task", folder)
    return tasks


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides `DEFAULT_CONFIG` (MAX_ACTIVE_RUNS, FRAME_INTERVAL, ...).

    Note that ``BLAS_THREADS`` is applied process-wide (see `limit_blas_threads`), not per app.
    """

    app = Flask(
        __name__,
        template_folder=str(TEMPLATES),
        static_folder=str(STATIC),
    )
    app.config.update(DEFAULT_CONFIG)
    if config:
        app.config.update(config)
    install_input_guards(app)  # any input a 4xx, never a 500 (app/web/inputs.py)
    app.json.sort_keys = False
    limit_blas_threads(app.config["BLAS_THREADS"])

    socketio = SocketIO(
        app,
        async_mode="threading",
        ping_interval=float(app.config["PING_INTERVAL"]),
        ping_timeout=float(app.config["PING_TIMEOUT"]),
        max_http_buffer_size=int(app.config["MAX_SOCKET_MESSAGE"]),
        # scaled mode: the workers' stream, app/transports/relay.py
        **relay.socketio_options(app.config),
    )
    redis_url = app.config.get("REDIS_URL") or os.environ.get("REDIS_URL") or None
    store, recorder = _storage(app) if redis_url is None else _scaled_storage(app)
    datasets = DatasetStore(
        max_datasets=int(app.config["MAX_DATASETS"]),
        max_bytes=int(app.config["MAX_DATASET_MEMORY"]),
        persist=None if store is None else StoredDatasets(store),
    )
    manager = _run_manager(app, socketio, store, recorder, datasets, redis_url)
    return_large_blocks_to_the_system()  # process-wide, like BLAS_THREADS
    manager.broadcaster.outbox = Outbox(
        socketio,
        max_unsent=int(app.config["MAX_UNSENT_BYTES"]),
        send_timeout=float(app.config["SEND_TIMEOUT"]),
        max_unsent_total=int(app.config["MAX_UNSENT_TOTAL"]),
    )
    install_access(app, socketio)  # inside the front door: the Host and Origin rules come first
    install_front_door(app, socketio)
    app.extensions["runs"] = manager
    app.extensions["datasets"] = datasets
    app.extensions["store"] = store  # None without storage
    app.extensions["tasks"] = _app_tasks(app)
    install_owners(app)

    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.register_blueprint(runs_api)
    register_backprop(app)
    install_sweeps(app)  # app.extensions["sweeps"], the /api/sweeps routes, /sweeps/<id>
    install_replay(app, store)
    register_socket_events(socketio, manager)
    return app
