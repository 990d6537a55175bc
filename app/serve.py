"""Serving the app: gunicorn's threaded worker (the default) or Werkzeug (``--dev``), and the
graceful end on SIGTERM.

**Production** (`serve_production`): gunicorn with one worker process of `threads` threads
(its ``gthread`` worker), the deployment Flask-SocketIO documents for its threading mode with
simple-websocket (``gunicorn -w 1 --threads 100 module:app``): one process per port, since
Socket.IO needs every request of a client in the same process (scaled mode runs several web
processes on Redis instead). The command's own process is gunicorn's arbiter and the app is
created in its worker, which dies with it (``PR_SET_PDEATHSIG``: a ``kill -9`` of the command
leaves no server behind).

**Graceful end** (`drain`), on SIGTERM or Ctrl-C to the command's process: the listening
socket closes, new runs are refused (503), running and queued runs end ``interrupted`` with
their history and weights written (a run can be continued), their watchers get ``done``, then
every socket is closed and the process exits. A second Ctrl-C during that ends it at once.
"""

from __future__ import annotations

import _thread
import ctypes
import logging
import os
import signal
import threading
import time
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from app import create_app
from app.runs.control import TERMINAL

log = logging.getLogger(__name__)

THREADS = 100  # the worker's threads: one per websocket, the rest serve requests
DRAIN_SECONDS = 20.0  # how long the runs, then their watchers, get to end
CLOSE_SECONDS = 5.0  # ... and then the writers of the connections, to send what they hold
GRACEFUL_SECONDS = 30  # gunicorn's wait for its worker to end, past which it kills it
BOOT_SECONDS = 120  # gunicorn's worker timeout (creating the app may migrate a database)
PR_SET_PDEATHSIG = 1


def drain(app: Flask, timeout: float = DRAIN_SECONDS) -> None:
    """End `app` gracefully (see the module docstring); returns once its sockets are closed.
    In scaled mode the runs go on in their workers: only the sockets close."""
    manager = app.extensions["runs"]
    unfinished = [run for run in manager.registry.runs() if run.status not in TERMINAL]
    manager.shutdown(timeout=timeout / 2, interrupt=True)
    ended = {run.id for run in unfinished if run.status in TERMINAL}
    deadline = time.monotonic() + timeout / 2
    while ended & set(manager.broadcaster.streamed()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the broadcaster's thread sends each watcher its `done`
    close_connections(app.extensions["socketio"].server.eio, deadline + CLOSE_SECONDS)


def close_connections(eio: Any, deadline: float) -> None:
    """Close every Engine.IO connection of `eio` once its writer has sent what is queued to it
    (the `done`s), waiting until `deadline` (time.monotonic) at most. (A close shuts the TCP
    connection down at once, app/web/wire.py: what is still queued then is lost.)"""
    connections = list(eio.sockets.values())
    while any(not c.queue.empty() for c in connections) and time.monotonic() < deadline:
        time.sleep(0.05)
    for connection in connections:
        connection.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)


def serve_dev(app: Flask, host: str, port: int) -> None:
    """Werkzeug's development server (``--dev``), with the same graceful end."""
    state = {"draining": False, "drained": False}

    def finish() -> None:
        try:
            drain(app)
        finally:
            state["drained"] = True
            _thread.interrupt_main(signal.SIGINT)  # Werkzeug stops on KeyboardInterrupt

    def on_signal(signum: int, _frame: Any) -> None:
        if state["draining"] or state["drained"]:
            raise KeyboardInterrupt  # drained, or asked twice: stop now
        state["draining"] = True
        threading.Thread(target=finish, name="drain", daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    app.extensions["socketio"].run(app, host=host, port=port, allow_unsafe_werkzeug=True)


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` for `host` and `port` (an IPv6 literal in brackets)."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _die_with_parent(_server: Any, _worker: Any) -> None:
    """gunicorn's ``post_fork`` (in the worker): the kernel kills the worker when the arbiter
    dies, however it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the worker notices within a second anyway
        return
    if os.getppid() == 1:  # the arbiter died before prctl
        os._exit(1)


def _graceful_worker(worker: Any) -> None:
    """gunicorn's ``post_worker_init``: SIGTERM (and SIGINT) drain the app on a thread, then
    let the worker end (its loop waits for the last connections)."""
    app, started = worker.wsgi, threading.Event()

    def finish(signum: int) -> None:
        try:
            drain(app)
        except Exception:  # the worker must end all the same
            log.exception("draining the app failed")
        finally:
            worker.handle_exit(signum, None)

    def on_signal(signum: int, _frame: Any) -> None:
        if not started.is_set():
            started.set()
            threading.Thread(target=finish, args=(signum,), name="drain", daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def serve_production(config: dict[str, Any], host: str, port: int,
                     threads: int = THREADS) -> None:  # fmt: skip
    """Serve ``create_app(config)`` with gunicorn (see the module docstring) until SIGTERM or
    Ctrl-C; the app is created in gunicorn's worker process."""
    class Studio(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": [bind_address(host, port)],
                "workers": 1,
                "worker_class": "gthread",
                "threads": threads,
                "graceful_timeout": GRACEFUL_SECONDS,
                "timeout": BOOT_SECONDS,
                "loglevel": "warning",
                "proc_name": "backprop-studio",
                "post_fork": _die_with_parent,
                "post_worker_init": _graceful_worker,
            }
            # gunicorn's control socket (27+) would be a file under ~/.gunicorn: not used here
            if "control_socket_disable" in self.cfg.settings:
                settings["control_socket_disable"] = True
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self) -> Flask:
            return create_app(config)

        def run(self) -> None:
            arbiter = Arbiter(self)
            arbiter.handle_int = arbiter.handle_term  # Ctrl-C ends as gracefully as SIGTERM
            arbiter.run()

    Studio().run()
