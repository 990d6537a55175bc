"""A training process: a child forked from the server, talking to it over a pipe.

Why: in one process, every server thread (the broadcaster encoding frames, the websocket
readers and writers, the recorder writing epochs) takes the interpreter lock from the training
thread about a hundred times a second, and a served run trained 8-10 % slower than
``network.train`` alone. In a child process the training shares nothing with them but the
machine's cores. What the child does and what travels on the pipe is the run's
(`app.transports.pipe`); this module only makes and ends the process.

The child runs only what it is given (`body`): it closes every file descriptor it inherited but
its pipe (so the server's sockets and database connections close when the server closes them),
never collects the objects it inherited (``gc.freeze``), ignores SIGINT and SIGTERM (a Ctrl+C to
the server's process group is the server's to handle) and leaves with ``os._exit`` (no
finalizer runs).
"""

from __future__ import annotations

import gc
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, Pipe
from typing import Any

CAN_FORK = hasattr(os, "fork")
IGNORED_SIGNALS = {signal.SIGINT, signal.SIGTERM}  # the child's: see `_child`


class TrainingProcessError(RuntimeError):
    """The training process ended without a word (killed, hung, or out of memory)."""


class ChildProcess:
    """A child forked now that runs ``body(pipe)`` and exits; this side `send`s and
    `receive`s on the other end of the pipe (pickled objects), and `close`s it."""

    def __init__(self, body: Callable[[Connection], None]) -> None:
        parent_end, child_end = Pipe()
        # the child is born with SIGINT and SIGTERM blocked, so none is lost before it ignores
        # them (`_child`); in this process only this thread blocks them, for the fork's span
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, IGNORED_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # the child: never returns
                _child(child_end, parent_end, body)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        child_end.close()
        self.pipe: Connection | None = parent_end
        self.pid = pid
        self._sending = threading.Lock()  # request threads and the run's thread both send

    def send(self, message: Any) -> None:
        """Send `message`; raises `TrainingProcessError` if the process is gone."""
        with self._sending:
            pipe = self.pipe
            if pipe is None:
                raise TrainingProcessError("the training process was closed")
            try:
                pipe.send(message)
            except (OSError, ValueError) as error:
                raise TrainingProcessError("the training process ended unexpectedly") from error

    def receive(self, timeout: float) -> Any:
        """The next message, or None if none came within `timeout` s; raises
        `TrainingProcessError` once the process is gone (killed, out of memory, ended)."""
        pipe = self.pipe
        try:
            if pipe is None or not pipe.poll(timeout):
                return None
            return pipe.recv()
        except (EOFError, OSError) as error:
            raise TrainingProcessError(
                "the training process ended unexpectedly (killed, or out of memory?)"
            ) from error

    def kill(self) -> None:
        """End the process at once (SIGKILL)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self, grace: float = 1.0) -> None:
        """Close the pipe (the child ends when it sees it closed) and wait for the process
        (idempotent); one that does not end within `grace` s (stopped, hung) is killed."""
        with self._sending:
            pipe, self.pipe = self.pipe, None
        if pipe is None:
            return
        pipe.close()
        deadline = time.monotonic() + grace
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() >= deadline:
                self.kill()
                os.waitpid(self.pid, 0)
                return
            time.sleep(0.01)


def _child(pipe: Connection, other_end: Connection, body: Callable[[Connection], None]) -> None:
    """The child's whole life: `body`, then ``os._exit``."""
    code = 1
    try:
        # Ctrl+C reaches the whole process group: the server decides what becomes of its runs
        # (they are `interrupted` when it dies), and the child ends when its pipe closes
        for number in IGNORED_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, IGNORED_SIGNALS)
        other_end.close()
        gc.freeze()  # what the server's threads left half-done must never be finalized here
        _close_inherited(pipe.fileno())
        body(pipe)
        code = 0
    finally:
        os._exit(code)


def _close_inherited(keep: int) -> None:
    """Close every inherited file descriptor above stderr but `keep`."""
    highest = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if highest == resource.RLIM_INFINITY or highest <= keep:
        highest = 1 << 20
    os.closerange(3, keep)
    os.closerange(keep + 1, highest)
