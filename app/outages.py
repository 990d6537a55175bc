"""A database out of reach, as every layer that waits on it sees it: `StorageUnavailable` (the
API's 503 with ``Retry-After``), which errors are outages, and turning them into it.

Kept apart from `app.storage.store` so that the run manager (below storage in the layering,
docs/architecture.md) can refuse what cannot be stored.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

RETRY_AFTER = 10  # seconds a client refused for a database that cannot be written is asked to wait


class StorageUnavailable(RuntimeError):
    """The database cannot be written now (locked by another process beyond the busy timeout,
    read-only, unreachable): what needed the write did not happen. The API answers 503 with
    ``Retry-After: retry_after`` and ``{error, reason}``. `action` says what failed
    (``written``, or ``read`` for a read of a database out of reach)."""

    def __init__(
        self, reason: str, retry_after: int = RETRY_AFTER, action: str = "written"
    ) -> None:
        super().__init__(f"the database cannot be {action} now ({reason})")
        self.reason = reason
        self.retry_after = retry_after


def is_outage(error: BaseException) -> bool:
    """Whether `error` says the database is out of reach or unusable (locked, away, its file
    unreadable or not a database), rather than a bug in a query: `StorageUnavailable`,
    SQLAlchemy's `OperationalError` and `InterfaceError`, and its plain `DatabaseError` (SQLite's
    "file is not a database", "database disk image is malformed")."""
    if isinstance(error, (StorageUnavailable, OperationalError, InterfaceError)):
        return True
    return type(error) is DatabaseError


def unavailable_for_reading(error: BaseException) -> StorageUnavailable:
    """The `StorageUnavailable` of a read that failed with the outage `error`."""
    if isinstance(error, StorageUnavailable):
        return error
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return StorageUnavailable(reason, action="read")


@contextlib.contextmanager
def store_writes() -> Iterator[None]:
    """Turn a database that refuses a write (an outage, `is_outage`: locked, read-only, away)
    into `StorageUnavailable` naming the database's reason."""
    try:
        yield
    except StorageUnavailable:
        raise
    except Exception as error:
        if not is_outage(error):
            raise
        raise StorageUnavailable(str(getattr(error, "orig", None) or error)) from error


def remove_leftovers(store: Any, run_id: str) -> None:
    """Delete again what a deleted run's writer stored between its deletion and its end (a
    history chunk, a checkpoint); a failure is only logged (the rows are unreachable)."""
    try:
        store.delete_run(run_id)
    except Exception as error:  # noqa: BLE001 - best effort: nothing refers to them
        log.warning("leftovers of run %s kept: %s", run_id, error)
