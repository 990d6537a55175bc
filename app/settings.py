"""What every process of the app needs from its settings, the web server and the workers alike:
where its page files and data folder are (a clone or an installed wheel), the database a config
opens, the BLAS thread limit.

No Flask here: a training worker (app/transports/worker.py) imports this module, not the app
factory (app/__init__.py).

A **clone** is told apart from an installed package by ``pyproject.toml`` beside the ``app``
package (the repository root; an editable install, ``pip install -e .``, is a clone too). A
wheel puts ``app`` in site-packages with the repository's ``templates/`` and ``static/`` copied
inside it (``setup.py``'s build step), and no ``pyproject.toml`` next to it.

The data folder (runs.sqlite3, uploaded MNIST files): ``DATA_DIR`` in the app's config, else
``$BACKPROP_DATA_DIR``, else the clone's ``data/`` (what ``make run`` uses), else, installed,
the user's data folder (`platformdirs.user_data_dir`, ``~/.local/share/backprop-studio`` on
Linux). Nothing is ever kept in the folder the server was started from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy  # noqa: F401  (loads the BLAS library, so that threadpoolctl can find it)
from platformdirs import user_data_dir
from threadpoolctl import threadpool_limits

APP_NAME = "backprop-studio"
PACKAGE = Path(__file__).resolve().parent  # the ``app`` package
ROOT = PACKAGE.parent  # the repository in a clone; site-packages when installed


def is_clone() -> bool:
    """True when running from the repository (or an editable install of it)."""
    return (ROOT / "pyproject.toml").is_file()


def _bundled(name: str) -> Path:
    """The installed copy inside the package if there is one, else the repository's folder."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else ROOT / name


TEMPLATES = _bundled("templates")
STATIC = _bundled("static")


def data_dir(config: dict[str, Any] | None = None) -> Path:
    """The data folder for an app `config` (see the module docstring); not created here."""
    chosen = (config or {}).get("DATA_DIR") or os.environ.get("BACKPROP_DATA_DIR")
    if chosen:
        return Path(chosen)
    if is_clone():
        return ROOT / "data"
    return Path(user_data_dir(APP_NAME))


def default_database_url(data_dir: str | os.PathLike) -> str:
    """The default database: ``runs.sqlite3`` in the data folder."""
    return f"sqlite:///{Path(data_dir).resolve() / 'runs.sqlite3'}"


def database_url(config: dict[str, Any]) -> str | None:
    """The database `create_app` opens for `config` (None: no storage, runs live in memory)."""
    url = config.get("DATABASE_URL") or os.environ.get("DATABASE_URL") or None
    if url is None:
        if config.get("TESTING"):
            return "sqlite://"
        return default_database_url(data_dir(config))
    return None if url.lower() == "none" else url


def limit_blas_threads(threads: int | None) -> None:
    """Limit every loaded BLAS library (numpy's OpenBLAS, MKL, ...) to `threads` threads.

    Process-global: it applies to every thread of the process, every app created in it and any
    numpy code running there (including tests), until changed again; None leaves BLAS alone.
    """
    if threads is None:
        return
    threadpool_limits(limits=int(threads), user_api="blas")
