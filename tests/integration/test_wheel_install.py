"""The installable package (issue 23): a wheel built from the repository, installed into a fresh
virtualenv, serves the whole dashboard with `backprop-studio` from an empty folder, trains a
run, and keeps its data in the user's data folder, never in the folder it was started from.

Offline: the wheel is built with this environment's setuptools (no build isolation), and the
fresh virtualenv gets this environment's dependencies through a path file naming its
site-packages folder, never the repository (the path files in that folder, e.g. an editable
install's finder, are not run for a folder a path file adds).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from server_helpers import start_run, wait_status, wait_until

from app.transports.cluster import free_port

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
# not copied: these at the top level only (app/data is a package), the caches anywhere
TOP_LEVEL_ONLY = {".git", ".venv", "data", "build", "dist", "node_modules", "screenshots"}
CACHES = shutil.ignore_patterns("*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache")


def _not_sources(folder: str, names: list[str]) -> set[str]:
    top = TOP_LEVEL_ONLY & set(names) if Path(folder) == ROOT else set()
    return top | CACHES(folder, names)
# what would lead the installed command to this repository or elsewhere than the user's folder
UNSET = ("PYTHONPATH", "BACKPROP_DATA_DIR", "DATABASE_URL", "REDIS_URL", "MNIST_DIR",
         "XDG_DATA_HOME", "PYTHONHOME")  # fmt: skip


def _run(*command: object, **options: object) -> str:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                          timeout=300, **options)  # type: ignore[call-overload]  # fmt: skip
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel built from a copy of the repository installed."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_not_sources)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", work / "dist", source)  # fmt: skip
    (wheel,) = (work / "dist").glob("backprop_studio-*.whl")
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                        env=_environment(work)).strip())  # fmt: skip
    shared = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    assert str(ROOT) not in shared
    (purelib / "shared_dependencies.pth").write_text("\n".join(sorted(shared)) + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         wheel)  # fmt: skip
    return venv


def _environment(home: Path) -> dict[str, str]:
    """This process's environment for the installed command, with HOME = `home`."""
    environment = {name: value for name, value in os.environ.items() if name not in UNSET}
    return {**environment, "HOME": str(home)}


def test_the_wheel_holds_the_package_not_the_repository(venv: Path, tmp_path: Path) -> None:
    found = _run(venv / "bin" / "python", "-c", "import app; print(app.__file__)",
                 cwd=tmp_path, env=_environment(tmp_path))  # fmt: skip
    assert Path(found.strip()).is_relative_to(venv), found


class Server:
    """`backprop-studio --port P` started in `folder`; its output is collected in `lines`."""

    def __init__(self, venv: Path, folder: Path, home: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(venv / "bin" / "backprop-studio"), "--port", str(self.port)],
            cwd=folder, env=_environment(home), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.append(line)

    def answers(self) -> bool:
        assert self.process.poll() is None, "".join(self.lines)
        try:
            return requests.get(f"{self.url}/api/tasks", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@pytest.fixture
def started(venv: Path, tmp_path: Path) -> Iterator[tuple[Server, Path, Path]]:
    """The installed server, started from an empty folder with HOME a temporary folder."""
    folder, home = tmp_path / "start", tmp_path / "home"
    folder.mkdir()
    home.mkdir()
    server = Server(venv, folder, home)
    try:
        wait_until(server.answers, 60, "the installed backprop-studio to answer")
        yield server, folder, home
    finally:
        server.stop()


def test_installed_command_serves_the_dashboard_and_trains(
    started: tuple[Server, Path, Path],
) -> None:
    server, folder, home = started
    page = requests.get(f"{server.url}/", timeout=10)
    assert page.status_code == 200, page.text[:300]
    assert "/static/js/main.js" in re.findall(r'src="([^"?#]+)', page.text)
    for asset in sorted((ROOT / "static").rglob("*")):  # byte for byte the repository's files
        if asset.is_file():
            path = asset.relative_to(ROOT).as_posix()
            answer = requests.get(f"{server.url}/{path}", timeout=10)
            assert answer.status_code == 200, path
            assert answer.content == asset.read_bytes(), path
    assert requests.get(f"{server.url}/runs", timeout=10).status_code == 200
    assert requests.get(f"{server.url}/vendor/plotly.min.js", timeout=10).status_code == 200
    tasks = requests.get(f"{server.url}/api/tasks", timeout=10).json()
    assert "sin" in {task["id"] for task in tasks}, tasks
    live = SimpleNamespace(url=server.url)
    run_id = start_run(live, task="sin", samples=50, epochs=30)
    assert wait_status(live, run_id, "finished", timeout=120)["epoch"] == 30

    data = home / ".local" / "share" / "backprop-studio"
    assert (data / "runs.sqlite3").is_file()
    assert f"Data folder: {data} " in "".join(server.lines), server.lines
    assert list(folder.iterdir()) == []  # nothing written where it was started
    # nor in the home folder beside its data (gunicorn's control socket would be ~/.gunicorn)
    assert sorted(path.name for path in home.iterdir()) == [".local"]


COMMANDS = {  # command line -> the usage line it prints, and one of its flags
    ("backprop-studio", "--help"): ("backprop-studio", "--database-url"),
    ("backprop-studio", "worker", "--help"): ("backprop-studio worker", "--redis-url"),
    ("backprop-studio", "cluster", "--help"): ("backprop-studio cluster", "--workers"),
    ("python", "-m", "app", "--help"): ("python -m app", "--database-url"),
    ("python", "-m", "app.worker", "--help"): ("python -m app.worker", "--redis-url"),
    ("python", "-m", "app.cluster", "--help"): ("python -m app.cluster", "--workers"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_subcommands_and_modules_are_installed(venv: Path, tmp_path: Path,
                                               command: tuple[str, ...]) -> None:  # fmt: skip
    shown = _run(venv / "bin" / command[0], *command[1:], cwd=tmp_path, env=_environment(tmp_path))
    prog, flag = COMMANDS[command]
    assert shown.startswith(f"usage: {prog} "), shown
    assert flag in shown
