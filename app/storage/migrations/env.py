"""Alembic environment: migrations run programmatically at start (`app.storage.store.migrate`), on
the connection it passes in ``config.attributes["connection"]`` (under its cross-process lock)."""

from __future__ import annotations

from alembic import context

from app.storage.store import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the CLI: `alembic` needs a URL of its own
    raise RuntimeError("run migrations through app.storage.store.migrate (RunStore does at start)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
)
with context.begin_transaction():
    context.run_migrations()
