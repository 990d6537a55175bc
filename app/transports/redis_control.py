"""Run control through Redis, for scaled mode (`app.transports.scaled` web processes,
`app.transports.worker`).

The keys of one run (all expire after a day, so an abandoned run leaves nothing behind):

- ``bpst:run:<id>:alive`` — the worker's heartbeat: set every second with a `ALIVE_TTL_MS` TTL
  while it trains the run. A web process's watchdog ends a run whose key lapsed.
- ``bpst:run:<id>:control`` — a hash ``{pause: "0"|"1", stop: "1"}`` the web processes set.
- ``bpst:run:<id>:inbox`` — a list of JSON requests: ``{"step": [unit, count]}`` or
  ``{"changes": {...}}`` (live PATCHes), taken in order.
- ``bpst:run:<id>:watched`` — set (TTL `WATCHED_TTL_MS`) by every web process that streams the
  run to a client, renewed every second: without it the worker relays no views
  (`app.transports.relay`).

`ControlRelay` runs in the worker: a thread that, every `POLL_SECONDS`, renews the heartbeat,
reads the hash and the inbox and hands them to the run's ordinary `RunControl`, which the
unchanged run loop (`app.runs.runner.execute`) reads between mini-batches. If Redis stays out of
reach for `REDIS_LOST_AFTER` seconds the relay ends the run as ``interrupted``: no web process
could control or watch it any more.

(What a run does travels the other way through Flask-SocketIO's message queue on the same
Redis, not through these keys: see `app.transports.relay`.)
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from app.runs.control import ControlError, obey

log = logging.getLogger(__name__)

QUEUE = "backprop"  # the RQ queue of runs to train
ALIVE_TTL_MS = 5000  # the heartbeat key lapses this long after a worker stopped renewing it
HEARTBEAT_SECONDS = 1.0
POLL_SECONDS = 0.1  # the relay reads the control keys this often
REDIS_LOST_AFTER = 8.0  # a worker that cannot reach Redis this long ends its run
KEY_TTL_SECONDS = 86_400
WATCHED_TTL_MS = 3000  # a run's watched key lapses this long after the last web process renewed it


def alive_key(run_id: str) -> str:
    """The worker's heartbeat key of a run."""
    return f"bpst:run:{run_id}:alive"


def control_key(run_id: str) -> str:
    """The hash of pause/stop requests of a run."""
    return f"bpst:run:{run_id}:control"


def inbox_key(run_id: str) -> str:
    """The list of step and live-change requests of a run."""
    return f"bpst:run:{run_id}:inbox"


def watched_key(run_id: str) -> str:
    """The key that says some web process streams the run to a client."""
    return f"bpst:run:{run_id}:watched"


class RedisControls:
    """The web side: the commands of a run (pause, resume, stop, step, live changes; `send`),
    written to Redis, and which runs are watched."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    def _set(self, run_id: str, **fields: str) -> None:
        key = control_key(run_id)
        with self.redis.pipeline() as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, KEY_TTL_SECONDS)
            pipe.execute()

    def _push(self, run_id: str, request: dict[str, Any]) -> None:
        key = inbox_key(run_id)
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, json.dumps(request))
            pipe.expire(key, KEY_TTL_SECONDS)
            pipe.execute()

    def send(self, run_id: str, command: tuple) -> None:
        """One command of the trainer protocol for the run's worker (`app.runs.control.obey`:
        pause and resume set the hash's ``pause``, stop its ``stop``; a step or live changes
        join the inbox, in order). Raises `ValueError` for anything else."""
        name, *args = command
        if name in ("pause", "resume"):
            self._set(run_id, pause="1" if name == "pause" else "0")
        elif name == "stop":  # a web process never interrupts: the worker's shutdown does
            self._set(run_id, stop="1")
        elif name == "step":
            self._push(run_id, {"step": [args[0], int(args[1])]})
        elif name == "change":
            self._push(run_id, {"changes": args[0]})
        else:
            raise ValueError(f"not a command: {name!r}")

    def watched(self, run_ids: list[str]) -> None:
        """Say that this process streams these runs to clients (for `WATCHED_TTL_MS`)."""
        if not run_ids:
            return
        with self.redis.pipeline() as pipe:
            for run_id in run_ids:
                pipe.set(watched_key(run_id), "1", px=WATCHED_TTL_MS)
            pipe.execute()

    def alive(self, run_id: str) -> bool:
        """True while the run's worker renews its heartbeat."""
        return bool(self.redis.exists(alive_key(run_id)))

    def forget(self, run_id: str) -> None:
        """Remove a run's keys."""
        self.redis.delete(alive_key(run_id), control_key(run_id), inbox_key(run_id),
                          watched_key(run_id))  # fmt: skip


class ControlRelay:
    """The worker side: a thread relaying a run's Redis keys to its `RunControl` and renewing
    its heartbeat until `stop()` (see the module docstring)."""

    def __init__(self, redis: Any, run: Any, owner: str,
                 ended_elsewhere: Callable[[], tuple[str, str | None] | None] | None = None,
                 ) -> None:  # fmt: skip
        self.redis = redis
        self.run = run
        self.owner = owner
        # (status, reason) once the stored run was ended by another process (a watchdog)
        self.ended_elsewhere = ended_elsewhere
        self._paused = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"relay-{run.id}", daemon=True)
        self._beat = 0.0
        self._reached = time.monotonic()

    def beat(self) -> None:
        """Renew the heartbeat now (raises if Redis is out of reach)."""
        self.redis.set(alive_key(self.run.id), self.owner, px=ALIVE_TTL_MS)
        self._beat = time.monotonic()

    def start(self) -> None:
        """Start relaying."""
        self._thread.start()

    def stop(self) -> None:
        """Stop relaying and remove the run's keys (best effort)."""
        self._done.set()
        self._thread.join(timeout=5)
        try:
            RedisControls(self.redis).forget(self.run.id)
        except Exception:  # Redis away: the keys expire by themselves
            log.warning("could not remove the Redis keys of run %s", self.run.id)

    def _loop(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            try:
                if time.monotonic() - self._beat >= HEARTBEAT_SECONDS:
                    self.beat()
                    self._check_ended()
                self._relay()
                self._reached = time.monotonic()
            except Exception as error:
                if time.monotonic() - self._reached >= REDIS_LOST_AFTER:
                    self._lost(error)
                    return

    def _check_ended(self) -> None:
        """A run ended elsewhere (e.g. judged lost) stops here too, with the same status."""
        if self.ended_elsewhere is None:
            return
        try:
            ended = self.ended_elsewhere()
        except Exception:  # the database away: the recorder retries its writes meanwhile
            log.warning("could not read the stored status of run %s", self.run.id)
            return
        if ended is not None:
            self.run.control.request_stop(0.0)
            self.run.control.set_status(*ended)

    def _lost(self, error: Exception) -> None:
        control = self.run.control
        log.error("run %s: Redis out of reach (%s): ending it", self.run.id, error)
        control.request_stop(0.0)
        control.set_status("interrupted", "the worker lost the job queue (Redis)")

    def _relay(self) -> None:
        run_id, control = self.run.id, self.run.control
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(control_key(run_id))
            pipe.exists(watched_key(run_id))
            requested, watched = pipe.execute()
        self.run.watched = bool(watched)  # see `app.transports.relay.RunRelay`
        if requested.get(b"stop") == b"1":
            obey(control, ("stop",))
        paused = requested.get(b"pause") == b"1"
        if paused != self._paused:
            self._paused = paused
            obey(control, ("pause",) if paused else ("resume",))
        while (raw := self.redis.lpop(inbox_key(run_id))) is not None:
            self._apply(json.loads(raw))

    def _apply(self, request: dict[str, Any]) -> None:
        control = self.run.control
        try:
            if "step" in request:
                obey(control, ("step", *request["step"]))
            elif "changes" in request:
                obey(control, ("change", request["changes"]))
        except (ControlError, ValueError) as error:
            log.info("run %s: request %s not taken: %s", self.run.id, request, error)
