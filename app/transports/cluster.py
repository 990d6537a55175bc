"""`python -m app.cluster [--web 2] [--workers 2]`: scaled mode on this machine, for trying it
out (`make run-scaled`), for the integration tests and for `benchmarks/scaleout.py`.

It starts, on loopback and free ports: redis-server (no persistence), a throwaway PostgreSQL
(unless ``DATABASE_URL`` names one), the web processes (``python -m app --redis-url ...``) and
the workers (``python -m app.worker``), prints the URLs and stops everything on Ctrl-C.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from redis import Redis

from app.config.wording import counted
from app.settings import ROOT


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    """True once a web process answers at all (an access token's 401 counts)."""
    try:
        urllib.request.urlopen(f"{url}/api/tasks", timeout=2)
    except urllib.error.HTTPError:
        pass
    return True


def wait_for(condition: object, timeout: float, what: str) -> None:
    """Poll `condition()` until true; raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():  # type: ignore[operator]
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


class RedisServer:
    """redis-server on a free loopback port, without persistence (`restart` keeps the port)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        """Start it (again) and wait until it answers."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)
        wait_for(client.ping, 20, "redis-server")

    def stop(self) -> None:
        """Stop it (its data is gone: no persistence)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class Postgres:
    """A throwaway PostgreSQL cluster (trust authentication, loopback; as root it runs as the
    ``postgres`` user, since initdb refuses root)."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        self.folder = Path(tempfile.mkdtemp(prefix="bpst-pg-"))
        self.folder.chmod(0o755)
        self.root = os.geteuid() == 0
        if self.root:
            shutil.chown(self.folder, "postgres", "postgres")
        self.port = free_port()
        data = str(self.folder / "data")
        self._run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", data, "-o", options, "-l", str(self.folder / "log"), "-w",
                  "start")  # fmt: skip
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        except Exception:  # stopped already
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def _spawn(args: list[str], log_path: Path | None,
           env: dict[str, str] | None = None) -> subprocess.Popen:  # fmt: skip
    output = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    environment = {**os.environ, **env} if env else None
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=output, stderr=output,
                            env=environment)  # fmt: skip


class Cluster:
    """redis-server, a database, `webs` web processes and `workers` workers (see the module
    docstring). `database` is an existing URL (else a throwaway PostgreSQL is started)."""

    def __init__(self, webs: int = 2, workers: int = 2, database: str | None = None,
                 log_dir: str | None = None, web_args: tuple[str, ...] = (),
                 worker_args: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.log_dir = Path(log_dir) if log_dir else None
        self.postgres = None if database else Postgres()
        self.database = database or self.postgres.url  # type: ignore[union-attr]
        self.redis = RedisServer()
        self.webs: list[tuple[str, subprocess.Popen]] = []
        self.workers: list[subprocess.Popen] = []
        self.worker_args = worker_args  # e.g. ("--mnist-dir", folder), as the web processes'
        try:  # every process starts at once: they migrate the database one at a time
            for _ in range(workers):
                self.start_worker()
            for number in range(webs):
                self.start_web(number, web_args, wait=False)
            for url in self.urls:
                wait_for(lambda url=url: answers(url), 60, url)
        except BaseException:
            self.stop()
            raise

    def _log(self, name: str) -> Path | None:
        return None if self.log_dir is None else self.log_dir / f"{name}.log"

    def start_web(self, number: int = 0, extra: tuple[str, ...] = (), wait: bool = True,
                  env: dict[str, str] | None = None) -> str:  # fmt: skip
        """One more web process (`env`: more environment variables, e.g.
        ``STUDIO_DB_SYNC_SECONDS``); returns its URL (once it answers, if `wait`)."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = _spawn(
            ["-m", "app", "--port", str(port), "--redis-url", self.redis.url,
             "--database-url", self.database, *extra],  # fmt: skip
            self._log(f"web{number}"),
            env,
        )
        self.webs.append((url, process))
        if wait:
            wait_for(lambda: answers(url), 60, url)
        return url

    def start_worker(self) -> subprocess.Popen:
        """One more worker process."""
        process = _spawn(
            ["-m", "app.worker", "--redis-url", self.redis.url, "--database-url",
            self.database,  *self.worker_args],  # fmt: skip
            self._log(f"worker{len(self.workers)}"),
        )
        self.workers.append(process)
        return process

    @property
    def urls(self) -> list[str]:
        """The web processes' URLs."""
        return [url for url, _process in self.webs]

    def stop(self) -> None:
        """Stop every process, then Redis and the database."""
        processes = [process for _url, process in self.webs] + self.workers
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        for process in processes:
            process.wait(10)
        self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, prog: str = "python -m app.cluster") -> None:
    """Start a cluster, print its URLs and wait for Ctrl-C."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--web", type=int, default=2, help="web processes (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="workers (default 2)")
    args = parser.parse_args(argv)
    # SIGTERM (a service manager, `timeout`, `kill`) ends it as Ctrl-C does: everything it
    # started is stopped, also while it is starting
    signal.signal(signal.SIGTERM, _interrupt)
    cluster = Cluster(args.web, args.workers, os.environ.get("DATABASE_URL") or None)
    print(f"redis: {cluster.redis.url}\ndatabase: {cluster.database}", flush=True)
    for url in cluster.urls:
        print(f"Backprop Studio web process on {url}", flush=True)
    print(f"{counted(args.workers, 'worker')} training; Ctrl-C stops everything", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the stop short
        cluster.stop()


if __name__ == "__main__":
    main()
