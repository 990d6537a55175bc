"""A real PostgreSQL server for the storage tests, started by the tests themselves.

One cluster per test session (`cluster()` starts it on first use, on a free loopback port, in a
temporary folder; it is stopped at exit); each caller gets a fresh database (`database_url()`).
Without PostgreSQL's server binaries the tests skip, unless ``REQUIRE_POSTGRES=1`` (CI) makes them
fail instead. As root, initdb and the server run as the ``postgres`` user (initdb refuses root).
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

_cluster: PostgresCluster | None = None


def _binaries() -> Path | None:
    """The folder of pg_ctl/initdb (Debian's newest, or on PATH), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    """A throwaway PostgreSQL cluster (trust authentication, loopback only)."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="bpst-pg-"))
        self.folder.chmod(0o755)
        self.data = self.folder / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
                  "-w", "start")  # fmt: skip

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.binaries / program), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database of this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database; return its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except Exception:  # already stopped
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def cluster() -> PostgresCluster:
    """The session's cluster (started on first use); skips (or fails under REQUIRE_POSTGRES=1)
    when PostgreSQL is not installed."""
    global _cluster
    if _cluster is None:
        binaries = _binaries()
        if binaries is None:
            message = "PostgreSQL server binaries not found (apt-get install postgresql)"
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                pytest.fail(message + " and REQUIRE_POSTGRES=1")
            pytest.skip(message)
        _cluster = PostgresCluster(binaries)
        atexit.register(_cluster.stop)
    return _cluster


def database_url() -> str:
    """A fresh, empty PostgreSQL database of the session's cluster."""
    return cluster().new_database()
