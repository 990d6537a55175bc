"""Storage of runs: SQLAlchemy 2 tables, the migrations at start, and the queries the app needs.

`RunStore(url)` opens the database (`DATABASE_URL`: an SQLite file by default, WAL mode; or
PostgreSQL through psycopg 3) and brings it to the latest Alembic migration (`app/migrations`)
under a cross-process lock, so several processes may start at once on an empty database: a
PostgreSQL advisory lock, or an exclusive file lock beside an SQLite file.

Tables (see `app/migrations/versions`):

- ``runs``: one row per run: config (JSON), status, reason, timestamps, the latest and best losses
  and accuracies (what the runs list shows and sorts by), the process that trains it (``owner``)
  and its heartbeat (``updated``);
- ``history_chunks``: the per-epoch history, a chunk per write (about one a second): epochs
  ``start+1 .. stop`` as float32 columns in the run's column order, zlib-compressed
  (`app.data.encoding.pack_history`, the relay's form too), with the
  training seconds at ``stop`` (for wall-time axes);
- ``checkpoints``: the latest weights and scalers of a run (an ``.npz`` blob; ``final`` once the
  run has ended);
- ``film_frames``: a run's weights and scalers at the epochs replay keeps (`app.training.film`;
  one zlib-compressed ``.npz`` per epoch, written with the checkpoints, see `app.storage.film`);
- ``datasets``: uploaded CSV datasets (an ``.npz`` blob of the parsed arrays), their file names
  and owners (``creator``);
- ``owner_names``: the names owners chose to be shown by (`app.storage.owner_names`).

Plain Python and SQLAlchemy: no Flask, no threads (the writer is `app.storage.recorder`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

from app.data.encoding import unpack_history
from app.data.uploads import ParsedDataset, parse_csv
from app.outages import store_writes
from app.training.diagnosis import sentences
from app.training.session import Checkpoint

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ADVISORY_LOCK_KEY = 0x6270_7374  # "bpst": the PostgreSQL advisory lock of the migrations
# An SQLite writer waits this long for another's lock (SQLite's own bounded retry of a busy
# database); a write still locked then fails (`StorageUnavailable`). DATABASE_BUSY_SECONDS sets it.
SQLITE_BUSY_MS = 10_000
UNFINISHED = ("queued", "running", "paused")


class Base(DeclarativeBase):
    """The declarative base of the storage tables."""


class RunRow(Base):
    """A run: its config, status and the numbers the runs list shows."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    task: Mapped[str] = mapped_column(String(200), index=True)
    config: Mapped[str] = mapped_column(Text)  # JSON
    name: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created: Mapped[float] = mapped_column(Float, index=True)  # Unix time
    ended: Mapped[float | None] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)  # heartbeat of the training process
    owner: Mapped[str | None] = mapped_column(String(32))  # the process training it
    elapsed: Mapped[float] = mapped_column(Float, default=0.0)  # seconds of training
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    epochs: Mapped[int] = mapped_column(Integer)
    columns: Mapped[str] = mapped_column(Text)  # JSON list of the history column names
    train_loss: Mapped[float | None] = mapped_column(Float)
    test_loss: Mapped[float | None] = mapped_column(Float)
    best_test_loss: Mapped[float | None] = mapped_column(Float)
    best_epoch: Mapped[int | None] = mapped_column(Integer)  # the epoch of best_test_loss
    train_acc: Mapped[float | None] = mapped_column(Float)
    test_acc: Mapped[float | None] = mapped_column(Float)
    best_test_acc: Mapped[float | None] = mapped_column(Float)
    warnings: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    continued_from: Mapped[str | None] = mapped_column(String(32))
    creator: Mapped[str | None] = mapped_column(String(80))  # its owner (app/web/owners.py)
    # JSON list of {epoch, lr}: the learning rate from the start and each live change (None:
    # stored before 0009)
    lr_changes: Mapped[str | None] = mapped_column(Text)


class HistoryChunk(Base):
    """Epochs ``start+1 .. stop`` of a run's history (see the module docstring)."""

    __tablename__ = "history_chunks"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    start: Mapped[int] = mapped_column(Integer, primary_key=True)
    stop: Mapped[int] = mapped_column(Integer)
    elapsed: Mapped[float] = mapped_column(Float)  # seconds of training at `stop`
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CheckpointRow(Base):
    """A run's latest weights and scalers (`encode_checkpoint`)."""

    __tablename__ = "checkpoints"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    updated: Mapped[float] = mapped_column(Float)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FilmFrameRow(Base):
    """A run's weights and scalers after `epoch` epochs (`app.training.film.encode_frame`)."""

    __tablename__ = "film_frames"
    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DatasetRow(Base):
    """An uploaded dataset (`encode_arrays` of its fields)."""

    __tablename__ = "datasets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created: Mapped[float] = mapped_column(Float)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    name: Mapped[str | None] = mapped_column(String(200))  # the uploaded file's (None before 0004)
    creator: Mapped[str | None] = mapped_column(String(80))  # its owner (app/web/owners.py; 0007)


class OwnerNameRow(Base):
    """The name an owner (app/web/owners.py: ``browser:<id>``, ``name:<it>``) is shown by."""

    __tablename__ = "owner_names"
    owner: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    # the name casefolded: unique, so the database judges two owners claiming one name at once
    folded: Mapped[str] = mapped_column(String(160), unique=True)


# ------------------------------------------------------------------ encodings


def encode_arrays(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> bytes:
    """An ``.npz`` blob of `arrays` plus `meta` (JSON) under ``__meta__``."""
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.array(json.dumps(meta)), **arrays)
    return buffer.getvalue()


def decode_arrays(blob: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The inverse of `encode_arrays`."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if key != "__meta__"}
        meta = json.loads(str(archive["__meta__"]))
    return arrays, meta


def encode_checkpoint(checkpoint: Checkpoint) -> bytes:
    """A `Checkpoint` as an ``.npz`` blob."""
    arrays = {f"state/{name}": value for name, value in checkpoint.state.items()}
    arrays["x_mean"], arrays["x_std"] = checkpoint.x_scaler
    if checkpoint.y_scaler is not None:
        arrays["y_mean"], arrays["y_std"] = checkpoint.y_scaler
    meta = {
        "architecture": checkpoint.architecture,
        "features": checkpoint.features,
        "epoch": checkpoint.epoch,
    }
    if checkpoint.best is not None:
        meta["best_epoch"], best_state = checkpoint.best
        arrays.update({f"best/{name}": value for name, value in best_state.items()})
    return encode_arrays(arrays, meta)


def decode_checkpoint(blob: bytes) -> Checkpoint:
    """The inverse of `encode_checkpoint`."""
    arrays, meta = decode_arrays(blob)
    state, best = (
        {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}
        for prefix in ("state/", "best/")
    )
    y_scaler = (arrays["y_mean"], arrays["y_std"]) if "y_mean" in arrays else None
    return Checkpoint(
        state=state,
        architecture=meta["architecture"],
        x_scaler=(arrays["x_mean"], arrays["x_std"]),
        y_scaler=y_scaler,
        features=meta["features"],
        epoch=int(meta["epoch"]),
        best=(int(meta["best_epoch"]), best) if meta.get("best_epoch") is not None else None,
    )


def encode_dataset(dataset: ParsedDataset) -> bytes:
    """An uploaded dataset as an ``.npz`` blob: the CSV as uploaded, zlib-compressed
    (``source_z``; read back by parsing it again, so a table's one-hot columns are never
    stored), else (no source) its arrays."""
    if dataset.source is not None:
        packed = np.frombuffer(zlib.compress(dataset.source, 6), dtype=np.uint8)
        meta = {"kind": dataset.kind, "inputs": dataset.inputs, "n_rows": dataset.n_rows,
                "name": dataset.name}  # fmt: skip
        return encode_arrays({"source_z": packed}, meta)
    arrays = {"X": dataset.features()}
    if dataset.Y is not None:
        arrays["Y"] = dataset.Y
    if dataset.labels is not None:
        arrays["labels"] = dataset.labels
    meta = {
        "kind": dataset.kind,
        "inputs": dataset.inputs,
        "classes": list(dataset.classes),
        "domain": [list(pair) for pair in dataset.domain],
        "n_rows": dataset.n_rows,
        "name": dataset.name,
    }
    return encode_arrays(arrays, meta)


def decode_dataset(blob: bytes) -> ParsedDataset:
    """The inverse of `encode_dataset` (arrays read-only, as `parse_csv` makes them)."""
    arrays, meta = decode_arrays(blob)
    if "source_z" in arrays:
        source = zlib.decompress(arrays["source_z"].tobytes())
        return dataclasses.replace(parse_csv(source), source=source, name=meta.get("name"))
    if "source" in arrays:  # stored before issue 24: uncompressed, beside its arrays
        source = arrays["source"].tobytes()
        return dataclasses.replace(parse_csv(source), source=source, name=meta.get("name"))
    for array in arrays.values():
        array.flags.writeable = False
    return ParsedDataset(
        kind=meta["kind"],
        inputs=meta["inputs"],
        X=arrays["X"],
        Y=arrays.get("Y"),
        labels=arrays.get("labels"),
        classes=meta["classes"],
        domain=meta["domain"],
        n_rows=meta["n_rows"],
        name=meta.get("name"),
    )


# ------------------------------------------------------------------ what is read back


@dataclass
class StoredHistory:
    """A run's stored history: `columns` (float32, `length` epochs each) and the training
    seconds at the end of each epoch (`seconds`, interpolated between writes)."""

    names: list[str]
    columns: dict[str, np.ndarray]
    seconds: np.ndarray
    length: int


def run_summary(row: RunRow) -> dict[str, Any]:
    """A ``runs`` row as a plain dict (config and JSON fields decoded)."""
    answer = {column.name: getattr(row, column.name) for column in RunRow.__table__.columns}
    answer["config"] = json.loads(row.config)
    answer["columns"] = json.loads(row.columns)
    # the column holds the diagnosis's findings (plain warning sentences before version 0.2)
    answer["findings"] = json.loads(row.warnings or "[]")
    answer["lr_changes"] = json.loads(row.lr_changes) if row.lr_changes else None
    answer["warnings"] = sentences(answer["findings"], "warning")
    answer["observations"] = sentences(answer["findings"], "observation")
    return answer


def interpolate_seconds(marks: list[tuple[int, float]], length: int) -> np.ndarray:
    """Training seconds at the end of epochs 1..`length` from ``(epoch, seconds)`` marks taken
    at writes (linear between marks, from (0, 0))."""
    epochs = np.array([0] + [epoch for epoch, _seconds in marks], dtype=np.float64)
    seconds = np.array([0.0] + [value for _epoch, value in marks], dtype=np.float64)
    return np.interp(np.arange(1, length + 1), epochs, seconds).astype(np.float32)


# ------------------------------------------------------------------ the store


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 (the driver installed)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(busy_ms: int) -> Any:
    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        with contextlib.suppress(Exception):  # an in-memory (or read-only) database: no WAL
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: safe against process kills
        cursor.close()

    return pragmas


# A process stopped (SIGSTOP) inside a transaction holds its row locks: PostgreSQL ends such a
# session after 5 s idle in its transaction, and its locks go with it (scaled mode's watchdog
# never waits on such a lock: `SKIP LOCKED`, `app.transports.scaled.end_unfinished`).
POSTGRES_OPTIONS = "-c idle_in_transaction_session_timeout=5000"


def make_engine(url: str, busy_ms: int = SQLITE_BUSY_MS) -> Engine:
    """An engine for `url`: SQLite (WAL, a busy timeout of `busy_ms` ms; one shared connection
    in memory) or a server database (pre-pinged pool; PostgreSQL with `POSTGRES_OPTIONS`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        options = {"options": POSTGRES_OPTIONS} if parsed.get_backend_name() == "postgresql" else {}
        return create_engine(url, pool_pre_ping=True, connect_args=options)
    if parsed.database in (None, "", ":memory:"):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas(busy_ms))
    return engine


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` across processes (fcntl), released on exit."""
    import fcntl  # POSIX only: imported where a SQLite file is migrated, not on import

    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def migrate(engine: Engine) -> None:
    """Bring the database to the latest migration, one process at a time."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            try:
                _upgrade(connection)
                connection.commit()
            finally:
                connection.rollback()
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
                connection.commit()
        return
    database = engine.url.database
    lock = (
        _file_lock(Path(f"{database}.migrate-lock"))
        if database not in (None, "", ":memory:")
        else contextlib.nullcontext()
    )
    with lock, engine.connect() as connection:
        _upgrade(connection)
        connection.commit()


class RunStore:
    """The database of runs (see the module docstring). Thread-safe: every call opens its own
    session; SQLite calls are serialised in the process (SQLite has one writer anyway)."""

    def __init__(self, url: str, busy_seconds: float = SQLITE_BUSY_MS / 1000) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, round(busy_seconds * 1000))
        self.sqlite = self.engine.dialect.name == "sqlite"
        self._lock = threading.RLock() if self.sqlite else contextlib.nullcontext()
        migrate(self.engine)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success (rolled back on error)."""
        with self._lock, Session(self.engine) as session, session.begin():
            yield session

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # -------------------------------------------------------------- runs

    def insert_run(self, **fields: Any) -> None:
        """A new ``runs`` row (config, columns and warnings given as Python values). Raises
        `StorageUnavailable` if the database cannot be written (SQLite: still locked after the
        busy timeout)."""
        fields = _encoded(fields)
        with store_writes(), self.session() as session:
            session.add(RunRow(**fields))

    def write(self, batch: list[dict[str, Any]], unfinished_only: bool = False) -> None:
        """One transaction of the recorder: for each item ``{id, fields, chunk?, checkpoint?,
        film?}`` update the run's row, append its history chunk, replace its checkpoint and
        store its new film frames (``[{epoch, data}]``). With
        `unfinished_only` (a scaled worker's), a row that has ended already (a watchdog judged
        the worker lost, a stop while queued) is left as it is, so such an end is final.
        Raises `StorageUnavailable` if the database cannot be written."""
        with store_writes(), self.session() as session:
            for item in batch:
                run_id = item["id"]
                chunk = item.get("chunk")
                if chunk is not None:
                    session.add(HistoryChunk(run_id=run_id, **chunk))
                checkpoint = item.get("checkpoint")
                if checkpoint is not None:
                    session.merge(CheckpointRow(run_id=run_id, **checkpoint))
                for frame in item.get("film", ()):
                    session.merge(FilmFrameRow(run_id=run_id, **frame))
                if item.get("fields"):
                    rows = update(RunRow).where(RunRow.id == run_id)
                    if unfinished_only:
                        rows = rows.where(RunRow.status.in_(UNFINISHED))
                    session.execute(rows.values(**_encoded(item["fields"])))

    def update_run(self, run_id: str, **fields: Any) -> bool:
        """Change a run's row (e.g. ``name``, ``notes``); False if there is no such run."""
        with self.session() as session:
            result = session.execute(
                update(RunRow).where(RunRow.id == run_id).values(**_encoded(fields))
            )
            return result.rowcount > 0

    def heartbeat(self, run_ids: list[str], owner: str) -> None:
        """The runs this process trains are alive (their rows' ``updated`` is now)."""
        if not run_ids:
            return
        with self.session() as session:
            session.execute(
                update(RunRow)
                .where(RunRow.id.in_(run_ids), RunRow.owner == owner)
                .values(updated=time.time())
            )

    def recover(self, owner: str, stale_after: float) -> int:
        """Runs left unfinished by a process that is gone (not `owner`, no heartbeat for
        `stale_after` s) become ``interrupted``; returns how many."""
        cutoff = time.time() - stale_after
        with self.session() as session:
            result = session.execute(
                update(RunRow)
                .where(
                    RunRow.status.in_(UNFINISHED),
                    (RunRow.owner != owner) | RunRow.owner.is_(None),
                    RunRow.updated < cutoff,
                )
                .values(
                    status="interrupted",
                    reason="the server stopped while the run was unfinished (training or paused)",
                    ended=RunRow.updated,
                )
            )
            return result.rowcount

    def ids_starting(self, prefix: str, limit: int = 2) -> list[str]:
        """Up to `limit` run ids that start with `prefix`."""
        with self.session() as session:
            found = session.scalars(
                select(RunRow.id).where(RunRow.id.startswith(prefix, autoescape=True)).limit(limit)
            )
            return list(found)

    def summary(self, run_id: str) -> dict[str, Any] | None:
        """A run's row as a dict (`run_summary`), or None."""
        with self.session() as session:
            row = session.get(RunRow, run_id)
            return None if row is None else run_summary(row)

    def ended_as(self, run_id: str) -> tuple[str, str | None] | None:
        """(status, reason) if the run's row has ended (or is gone), else None."""
        summary = self.summary(run_id)
        if summary is None:
            return "failed", "the run was deleted"
        if summary["status"] in UNFINISHED:
            return None
        return summary["status"], summary["reason"]

    def summaries(self, task: str | None = None) -> list[dict[str, Any]]:
        """Every run's row (of one task if given), oldest first."""
        query = select(RunRow).order_by(RunRow.created, RunRow.id)
        if task is not None:
            query = query.where(RunRow.task == task)
        with self.session() as session:
            return [run_summary(row) for row in session.scalars(query)]

    def history(self, run_id: str, names: list[str]) -> StoredHistory:
        """A run's stored history (chunks in order; a gap or overlap keeps the first write)."""
        query = (
            select(HistoryChunk.start, HistoryChunk.stop, HistoryChunk.elapsed, HistoryChunk.data)
            .where(HistoryChunk.run_id == run_id)
            .order_by(HistoryChunk.start)
        )
        with self.session() as session:
            chunks = list(session.execute(query))
        length = max((chunk.stop for chunk in chunks), default=0)
        columns = {name: np.full(length, np.nan, dtype=np.float32) for name in names}
        marks = []
        for chunk in chunks:
            decoded = unpack_history(chunk.data, names)
            for name in names:
                columns[name][chunk.start : chunk.stop] = decoded[name]
            marks.append((chunk.stop, chunk.elapsed))
        return StoredHistory(names, columns, interpolate_seconds(marks, length), length)

    def checkpoint(self, run_id: str) -> Checkpoint | None:
        """A run's latest checkpoint, or None."""
        with self.session() as session:
            row = session.get(CheckpointRow, run_id)
            return None if row is None else decode_checkpoint(row.data)

    def delete_run(self, run_id: str) -> bool:
        """Remove a run with its history and checkpoint; False if there was none."""
        with self.session() as session:
            session.execute(delete(HistoryChunk).where(HistoryChunk.run_id == run_id))
            session.execute(delete(CheckpointRow).where(CheckpointRow.run_id == run_id))
            session.execute(delete(FilmFrameRow).where(FilmFrameRow.run_id == run_id))
            return session.execute(delete(RunRow).where(RunRow.id == run_id)).rowcount > 0

    def stored_bytes(self, run_id: str) -> int:
        """Bytes of a run's history chunks (payloads only; for the storage benchmark)."""
        with self.session() as session:
            total = session.scalar(
                select(func.sum(func.length(HistoryChunk.data))).where(
                    HistoryChunk.run_id == run_id
                )
            )
            return int(total or 0)

    # -------------------------------------------------------------- datasets

    def save_dataset(self, dataset_id: str, blob: bytes, name: str | None = None,
                     creator: str | None = None) -> None:  # fmt: skip
        """Store an uploaded dataset's blob (and its file's `name` and its owner, `creator`,
        listed by `dataset_sizes`)."""
        row = DatasetRow(id=dataset_id, created=time.time(), data=blob, name=name, creator=creator)
        with self.session() as session:
            session.merge(row)

    def dataset(self, dataset_id: str) -> bytes | None:
        """A stored dataset's blob, or None."""
        with self.session() as session:
            row = session.get(DatasetRow, dataset_id)
            return None if row is None else row.data

    def delete_dataset(self, dataset_id: str) -> bool:
        """Remove a stored dataset; False when there was none."""
        with self.session() as session:
            row = session.get(DatasetRow, dataset_id)
            if row is None:
                return False
            session.delete(row)
            return True

    def dataset_creator(self, dataset_id: str) -> str | None:
        """A stored dataset's owner (None: none, or no such dataset)."""
        with self.session() as session:
            return session.scalar(select(DatasetRow.creator).where(DatasetRow.id == dataset_id))

    def dataset_sizes(self) -> list[dict[str, Any]]:
        """``[{id, created, bytes, name, creator}]`` of every stored dataset, oldest first (bytes
        as stored; `name` the uploaded file's, None for one stored before names were; `creator`
        its owner, None without one)."""
        columns = (DatasetRow.id, DatasetRow.created, func.length(DatasetRow.data), DatasetRow.name,
                   DatasetRow.creator)  # fmt: skip
        with self.session() as session:
            rows = session.execute(select(*columns).order_by(DatasetRow.created)).all()
        return [{"id": row[0], "created": row[1], "bytes": int(row[2] or 0), "name": row[3],
                 "creator": row[4]} for row in rows]  # fmt: skip


class StoredDatasets:
    """`DatasetStore`'s persistence in a `RunStore`: uploads survive restarts (runs of an
    uploaded dataset can be shown, exported and continued later)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def save(self, dataset_id: str, dataset: ParsedDataset) -> None:
        """Store an upload (with its owner)."""
        self.store.save_dataset(dataset_id, encode_dataset(dataset), dataset.name, dataset.creator)

    def load(self, dataset_id: str) -> ParsedDataset | None:
        """A stored upload, or None."""
        blob = self.store.dataset(dataset_id)
        return None if blob is None else decode_dataset(blob)

    def delete(self, dataset_id: str) -> bool:
        """Remove a stored upload; False when there was none."""
        return self.store.delete_dataset(dataset_id)

    def sizes(self) -> list[dict[str, Any]]:
        """``[{id, created, bytes, name, creator}]`` of the stored uploads (see
        `RunStore.dataset_sizes`)."""
        return self.store.dataset_sizes()

    def creator(self, dataset_id: str) -> str | None:
        """A stored upload's owner (None: none, or unknown)."""
        return self.store.dataset_creator(dataset_id)


def _encoded(fields: dict[str, Any]) -> dict[str, Any]:
    """JSON-encode the fields stored as JSON text."""
    encoded = dict(fields)
    for name in ("config", "columns", "warnings", "lr_changes"):
        if name in encoded and not isinstance(encoded[name], str):
            encoded[name] = json.dumps(encoded[name])
    return encoded
