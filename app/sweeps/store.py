"""Sweeps kept: in memory, and in the run database when there is one (tables ``sweeps`` and
``sweep_runs``, migration 0003), so that a restarted server goes on starting a sweep's waiting
runs. The runs themselves are ordinary stored runs; ``sweep_runs.run_id`` tags them.

Ownership: one process starts a sweep's runs, its ``owner`` (the one that created it, else the
first that `claim`s it once it has no owner or its owner's heartbeat is `STALE_SECONDS` old: a
server that shuts down `release`s its sweeps, so a restart takes them over at once). Other
processes (scaled mode's web processes) read the sweep from the database (`refresh`)."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, select, update

from app.outages import store_writes
from app.sweeps.spec import Planned

log = logging.getLogger(__name__)

METADATA = MetaData()
SWEEPS = Table(
    "sweeps", METADATA,
    Column("id", String(32), primary_key=True),
    Column("config", Text),
    Column("status", String(16)),
    Column("created", Float),
    Column("ended", Float),
    Column("owner", String(32)),
    Column("updated", Float),
    Column("creator", String(80)),  # who started it, with an access token (migration 0006)
)  # fmt: skip
STALE_SECONDS = 10.0  # a sweep whose owner has not beaten for this long may be claimed
SWEEP_RUNS = Table(
    "sweep_runs", METADATA,
    Column("sweep_id", String(32), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("run_id", String(32)),
    Column("state", String(16)),
    Column("values", Text),
    Column("seed", Integer),
    Column("params", Integer),
    Column("config", Text),
)  # fmt: skip


@dataclass
class Sweep:
    """A sweep: its checked body (`spec.check_body`), status (``running``, ``finished``,
    ``stopped``) and runs (`spec.Planned`, in order)."""

    id: str
    config: dict[str, Any]
    runs: list[Planned]
    status: str = "running"
    created: float = field(default_factory=time.time)
    ended: float | None = None
    in_flight: int = 0  # runs this process started that have not ended yet
    rungs: dict[int, dict[str, float]] = field(default_factory=dict)  # halving: epoch -> values
    creator: str | None = None  # its owner (app/web/owners.py; None: no access token)

    def waiting(self) -> list[Planned]:
        """The runs not started yet, in order."""
        return [planned for planned in self.runs if planned.state == "waiting"]


class SweepStore:
    """The sweeps of this server; written through to `run_store` (an
    `app.storage.store.RunStore`, or None: memory only). Thread-safe."""

    def __init__(self, run_store: Any = None) -> None:
        self.run_store = run_store
        self.lock = threading.RLock()
        self.sweeps: dict[str, Sweep] = {}
        self.me = uuid.uuid4().hex  # this process, as an owner
        self.owned: set[str] = set()  # the sweeps whose runs this process starts
        if run_store is not None:
            self.refresh()

    def _load(self, sweep_id: str | None = None) -> list[Sweep]:
        rows_of, runs_of = select(SWEEPS), select(SWEEP_RUNS)
        if sweep_id is not None:
            rows_of = rows_of.where(SWEEPS.c.id == sweep_id)
            runs_of = runs_of.where(SWEEP_RUNS.c.sweep_id == sweep_id)
        with self.run_store.session() as session:
            rows = session.execute(rows_of.order_by(SWEEPS.c.created)).all()
            planned = session.execute(runs_of.order_by(SWEEP_RUNS.c.position)).all()
        runs: dict[str, list[Planned]] = {}
        for row in planned:
            runs.setdefault(row.sweep_id, []).append(Planned(
                row.position, json.loads(row.values), row.seed, json.loads(row.config),
                row.params, row.run_id, row.state))  # fmt: skip
        return [Sweep(row.id, json.loads(row.config), runs.get(row.id, []), row.status,
                      row.created, row.ended, creator=row.creator) for row in rows]  # fmt: skip

    def add(self, sweep: Sweep) -> None:
        """Keep a new sweep (raises `StorageUnavailable` if it cannot be stored)."""
        if self.run_store is not None:
            with store_writes(), self.run_store.session() as session:
                session.execute(SWEEPS.insert().values(
                    id=sweep.id, config=json.dumps(sweep.config), status=sweep.status,
                    created=sweep.created, ended=None, owner=self.me,
                    updated=time.time(), creator=sweep.creator))  # fmt: skip
                session.execute(SWEEP_RUNS.insert(), [
                    {"sweep_id": sweep.id, "position": p.position, "run_id": p.run_id,
                     "state": p.state, "values": json.dumps(p.values), "seed": p.seed,
                     "params": p.params, "config": json.dumps(p.config)}
                    for p in sweep.runs])  # fmt: skip
        with self.lock:
            self.sweeps[sweep.id] = sweep
            self.owned.add(sweep.id)

    def refresh(self) -> None:
        """Read the sweeps that others own from the database (this process's own stay)."""
        if self.run_store is None:
            return
        loaded = {sweep.id: sweep for sweep in self._load()}
        with self.lock:
            kept = {key: sweep for key, sweep in self.sweeps.items() if key in self.owned}
            self.sweeps = {**loaded, **kept}
            for key in set(self.sweeps) - set(loaded):
                self.sweeps.pop(key)  # deleted by another process
                self.owned.discard(key)

    def claim(self, stale_after: float = STALE_SECONDS) -> list[Sweep]:
        """Take over the running sweeps with no owner, or whose owner's heartbeat is older than
        `stale_after` s; renew the heartbeat of this process's own. Returns the sweeps taken."""
        if self.run_store is None:
            return []
        now = time.time()
        with self.run_store.session() as session:
            session.execute(update(SWEEPS).where(SWEEPS.c.owner == self.me).values(updated=now))
            free = session.execute(select(SWEEPS.c.id).where(
                SWEEPS.c.status == "running",
                SWEEPS.c.owner.is_(None) | (SWEEPS.c.updated < now - stale_after))).scalars()
            taken = [sweep_id for sweep_id in list(free) if session.execute(
                update(SWEEPS).where(SWEEPS.c.id == sweep_id, SWEEPS.c.owner.is_(None)
                                     | (SWEEPS.c.updated < now - stale_after))
                .values(owner=self.me, updated=now)).rowcount == 1]  # fmt: skip
        sweeps = [sweep for sweep_id in taken for sweep in self._load(sweep_id)]
        with self.lock:
            for sweep in sweeps:
                self.sweeps[sweep.id] = sweep
                self.owned.add(sweep.id)
        return sweeps

    def stored_status(self, sweep: Sweep) -> str | None:
        """The sweep's status in the database (None: deleted there; its own without one)."""
        if self.run_store is None:
            return sweep.status
        with self.run_store.session() as session:
            return session.scalar(select(SWEEPS.c.status).where(SWEEPS.c.id == sweep.id))

    def release(self) -> None:
        """This process starts no more runs: its sweeps may be claimed at once."""
        with self.lock:
            self.owned.clear()
        if self.run_store is None:
            return
        try:
            with self.run_store.session() as session:
                session.execute(update(SWEEPS).where(SWEEPS.c.owner == self.me).values(owner=None))
        except Exception:  # a database away at exit: the heartbeat runs out instead
            return

    def get(self, sweep_id: str) -> Sweep | None:
        """The sweep as this process holds it (None: unknown here)."""
        with self.lock:
            return self.sweeps.get(sweep_id)

    def fresh(self, sweep_id: str) -> Sweep | None:
        """The sweep: this process's own as held, another's as stored now (None: unknown)."""
        with self.lock:
            if sweep_id in self.owned or self.run_store is None:
                return self.sweeps.get(sweep_id)
        loaded = self._load(sweep_id) if isinstance(sweep_id, str) else []
        with self.lock:
            if not loaded:
                self.sweeps.pop(sweep_id, None)
                return None
            if sweep_id in self.owned:  # claimed meanwhile
                return self.sweeps.get(sweep_id)
            self.sweeps[sweep_id] = loaded[0]
            return loaded[0]

    def sweep_of_runs(self) -> dict[str, str]:
        """The id of the sweep that started each run, by run id: every process's as stored, or
        this process's when there is no database."""
        if self.run_store is None:
            with self.lock:
                return {planned.run_id: sweep.id for sweep in self.sweeps.values()
                        for planned in sweep.runs if planned.run_id}  # fmt: skip
        with self.run_store.session() as session:
            rows = session.execute(select(SWEEP_RUNS.c.run_id, SWEEP_RUNS.c.sweep_id)
                                   .where(SWEEP_RUNS.c.run_id.is_not(None)))  # fmt: skip
            return {run_id: sweep_id for run_id, sweep_id in rows}

    def all(self) -> list[Sweep]:
        """Every sweep, oldest first."""
        with self.lock:
            return sorted(self.sweeps.values(), key=lambda sweep: sweep.created)

    def running_of(self, creator: str) -> int:
        """How many running sweeps `creator` started (each counts as one run toward its
        owner's limit, app/web/owners.py): other processes' as last read if the database is
        out of reach now."""
        try:
            self.refresh()
        except Exception:  # an outage: the run's own write tells (503)
            log.warning("sweeps not read: counting the ones read before")
        with self.lock:
            return sum(s.status == "running" and s.creator == creator for s in self.sweeps.values())

    def mine(self) -> list[Sweep]:
        """The sweeps whose runs this process starts, oldest first."""
        with self.lock:
            return [sweep for sweep in self.all() if sweep.id in self.owned or
                    self.run_store is None]  # fmt: skip

    def save_run(self, sweep: Sweep, planned: Planned) -> None:
        """Write a run's id and state (started, cancelled)."""
        if self.run_store is None:
            return
        with self.run_store.session() as session:
            session.execute(update(SWEEP_RUNS).where(
                SWEEP_RUNS.c.sweep_id == sweep.id, SWEEP_RUNS.c.position == planned.position
            ).values(run_id=planned.run_id, state=planned.state))  # fmt: skip

    def save_status(self, sweep: Sweep) -> None:
        """Write a sweep's status and end."""
        if self.run_store is None:
            return
        with self.run_store.session() as session:
            session.execute(update(SWEEPS).where(SWEEPS.c.id == sweep.id).values(
                status=sweep.status, ended=sweep.ended))  # fmt: skip

    def remove(self, sweep_id: str) -> None:
        """Forget a sweep (its runs are deleted by the caller)."""
        with self.lock:
            self.sweeps.pop(sweep_id, None)
            self.owned.discard(sweep_id)
        if self.run_store is None:
            return
        with self.run_store.session() as session:
            session.execute(delete(SWEEP_RUNS).where(SWEEP_RUNS.c.sweep_id == sweep_id))
            session.execute(delete(SWEEPS).where(SWEEPS.c.id == sweep_id))
