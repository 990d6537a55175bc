"""Sweeps kept: in memory, and in the run database when there is one (tables ``sweeps`` and
``sweep_runs``, migration 0003), so that a restarted server goes on starting a sweep's waiting
runs. The runs themselves are ordinary stored runs; ``sweep_runs.run_id`` tags them."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, select, update

from app.sweeps.spec import Planned

METADATA = MetaData()
SWEEPS = Table(
    "sweeps", METADATA,
    Column("id", String(32), primary_key=True),
    Column("config", Text),
    Column("status", String(16)),
    Column("created", Float),
    Column("ended", Float),
)  # fmt: skip
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
        if run_store is not None:
            self.sweeps = {sweep.id: sweep for sweep in self._load()}

    def _load(self) -> list[Sweep]:
        with self.run_store.session() as session:
            rows = session.execute(select(SWEEPS).order_by(SWEEPS.c.created)).all()
            planned = session.execute(select(SWEEP_RUNS).order_by(SWEEP_RUNS.c.position)).all()
        runs: dict[str, list[Planned]] = {}
        for row in planned:
            runs.setdefault(row.sweep_id, []).append(Planned(
                row.position, json.loads(row.values), row.seed, json.loads(row.config),
                row.params, row.run_id, row.state))  # fmt: skip
        return [Sweep(row.id, json.loads(row.config), runs.get(row.id, []), row.status,
                      row.created, row.ended) for row in rows]  # fmt: skip

    def add(self, sweep: Sweep) -> None:
        """Keep a new sweep (raises `StorageUnavailable` if it cannot be stored)."""
        if self.run_store is not None:
            from app.storage.store import _writable

            with _writable(), self.run_store.session() as session:
                session.execute(SWEEPS.insert().values(
                    id=sweep.id, config=json.dumps(sweep.config), status=sweep.status,
                    created=sweep.created, ended=None))  # fmt: skip
                session.execute(SWEEP_RUNS.insert(), [
                    {"sweep_id": sweep.id, "position": p.position, "run_id": p.run_id,
                     "state": p.state, "values": json.dumps(p.values), "seed": p.seed,
                     "params": p.params, "config": json.dumps(p.config)}
                    for p in sweep.runs])  # fmt: skip
        with self.lock:
            self.sweeps[sweep.id] = sweep

    def get(self, sweep_id: str) -> Sweep | None:
        with self.lock:
            return self.sweeps.get(sweep_id)

    def all(self) -> list[Sweep]:
        """Every sweep, oldest first."""
        with self.lock:
            return sorted(self.sweeps.values(), key=lambda sweep: sweep.created)

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
        if self.run_store is None:
            return
        with self.run_store.session() as session:
            session.execute(delete(SWEEP_RUNS).where(SWEEP_RUNS.c.sweep_id == sweep_id))
            session.execute(delete(SWEEPS).where(SWEEPS.c.id == sweep_id))
