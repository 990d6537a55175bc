"""A local scaled-mode cluster for a test module: redis-server, PostgreSQL (tests/
postgres_helpers.py), web processes and workers (`app.transports.cluster.Cluster`).

Skipped without redis-server unless ``REQUIRE_REDIS=1`` (CI), which makes it fail instead.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import postgres_helpers  # noqa: E402

from app.transports.cluster import Cluster  # noqa: E402


def scaled_cluster(tmp_path_factory: Any, web: int, workers: int, label: str,
                   **options: Any) -> Iterator[Cluster]:  # fmt: skip
    """Yield a started `Cluster` of `web` web processes and `workers` workers (logs in a temporary
    folder named after `label`; `options` for `Cluster`, e.g. ``web_args``); stop it afterwards.
    For a module-scoped fixture:
    ``yield from scaled_cluster(tmp_path_factory, 2, 2, "scaled")``."""
    if shutil.which("redis-server") is None:
        message = "redis-server not found (apt-get install redis-server)"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message + " and REQUIRE_REDIS=1")
        pytest.skip(message)
    logs = tmp_path_factory.mktemp(f"{label}-logs")
    started = Cluster(web, workers, database=postgres_helpers.database_url(), log_dir=str(logs),
                      **options)  # fmt: skip
    try:
        yield started
    finally:
        started.stop()
