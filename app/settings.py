"""What every process of the app needs from its settings, the web server and the workers alike:
the repository's folder, the database a config opens, the BLAS thread limit.

No Flask here: a training worker (app/transports/worker.py) imports this module, not the app
factory (app/__init__.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy  # noqa: F401  (loads the BLAS library, so that threadpoolctl can find it)
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent


def default_database_url(data_dir: str | os.PathLike) -> str:
    """The default database: ``runs.sqlite3`` in the data folder."""
    return f"sqlite:///{Path(data_dir).resolve() / 'runs.sqlite3'}"


def database_url(config: dict[str, Any]) -> str | None:
    """The database `create_app` opens for `config` (None: no storage, runs live in memory)."""
    url = config.get("DATABASE_URL") or os.environ.get("DATABASE_URL") or None
    if url is None:
        if config.get("TESTING"):
            return "sqlite://"
        data_dir = config.get("DATA_DIR") or os.environ.get("BACKPROP_DATA_DIR") or ROOT / "data"
        return default_database_url(data_dir)
    return None if url.lower() == "none" else url


def limit_blas_threads(threads: int | None) -> None:
    """Limit every loaded BLAS library (numpy's OpenBLAS, MKL, ...) to `threads` threads.

    Process-global: it applies to every thread of the process, every app created in it and any
    numpy code running there (including tests), until changed again; None leaves BLAS alone.
    """
    if threads is None:
        return
    threadpool_limits(limits=int(threads), user_api="blas")
