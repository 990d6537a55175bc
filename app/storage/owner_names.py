"""The names owners choose to be shown by (app/web/owners.py, ``GET``/``PUT /api/me``).

With an access token a run, sweep or upload remembers its owner's id: ``browser:<cookie id>``
(shown as ``browser 1a2b3c``), ``name:<X-Client-Name>`` or ``token``. A student names
themselves once and every page shows that name beside their work. The names are kept in the
database when there is one (the ``owner_names`` table, migration 0008: every web process
sharing it shows the same, each reading it at most every `CACHE_SECONDS`), else in memory.
A name is one owner's: no two owners share one (compared without case; in the database a
unique column of the casefolded name is the judge, so two web processes cannot both give one
name away).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.outages import is_outage
from app.storage.store import OwnerNameRow, RunStore

log = logging.getLogger(__name__)

CACHE_SECONDS = 2.0  # a name chosen on another web process shows here within this
MAX_LENGTH = 40  # characters
RESERVED = frozenset({"admin", "token"})  # what the pages call the admin and a bare token


class NameTaken(ValueError):
    """The name is another owner's (the message names it)."""


def checked_name(value: object) -> str | None:
    """`value` as a name: stripped, 1 to `MAX_LENGTH` printable characters; None (or "") clears
    a name. Raises `ValueError` saying what is wrong with it."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be a string (your name as others see it) or null")
    name = " ".join(value.split())
    if not name:
        return None
    if len(name) > MAX_LENGTH or not name.isprintable():
        raise ValueError(f"use 1 to {MAX_LENGTH} printable characters")
    if name.casefold() in RESERVED or name.casefold().startswith("browser "):
        raise ValueError(f"“{name}” reads like the server's own words: choose another")
    return name


class OwnerNames:
    """``{owner id: name}``: in `store` when given, else in memory (see the module docstring)."""

    def __init__(self, store: RunStore | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.store = store
        self.clock = clock
        self._names: dict[str, str] = {}
        self._read = float("-inf")  # when the store was last read (clock seconds)
        self._lock = threading.Lock()

    def all(self) -> dict[str, str]:
        """Every chosen name by owner id; during a database outage, the names last read (they
        only label the pages)."""
        if self.store is None or self.clock() - self._read < CACHE_SECONDS:
            return self._names
        try:
            with self.store.session() as session:
                rows = session.execute(select(OwnerNameRow.owner, OwnerNameRow.name)).all()
        except Exception as error:
            if not is_outage(error):
                raise
            log.warning("owner names not read (database unavailable): %s", error)
            return self._names
        with self._lock:
            self._names, self._read = dict(rows), self.clock()
        return self._names

    def name_of(self, owner: str) -> str | None:
        """The name `owner` chose, or None."""
        return self.all().get(owner)

    def set(self, owner: str, name: str | None) -> None:
        """Show `owner` as `name` from now on (None: by its id again); raises `NameTaken` when
        another owner goes by that name."""
        self._read = float("-inf")  # the latest names decide
        if name is not None and any(
            other != owner and taken.casefold() == name.casefold()
            for other, taken in self.all().items()
        ):
            raise NameTaken(f"“{name}” is another owner's name: choose another")
        if self.store is not None:
            self._write(owner, name)
            self._read = float("-inf")
            return
        with self._lock:
            names = dict(self._names)
            if name is None:
                names.pop(owner, None)
            else:
                names[owner] = name
            self._names = names

    def _write(self, owner: str, name: str | None) -> None:
        """Raises `NameTaken` when another owner's write of the same name came first (the
        unique ``folded`` column decides, whichever web process each write came through)."""
        try:
            with self.store.session() as session:
                row = session.get(OwnerNameRow, owner)
                if name is None:
                    if row is not None:
                        session.delete(row)
                elif row is None:
                    session.add(OwnerNameRow(owner=owner, name=name, folded=name.casefold()))
                else:
                    row.name, row.folded = name, name.casefold()
        except IntegrityError as error:
            raise NameTaken(f"“{name}” is another owner's name: choose another") from error
