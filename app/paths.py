"""Where Backprop Studio finds its page files and keeps its data: a clone or an installed wheel.

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

APP_NAME = "backprop-studio"
PACKAGE = Path(__file__).resolve().parent
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
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))
