"""`backprop-studio` (or `python -m app`) `[--host 127.0.0.1] [--port 5000]`: serve Backprop Studio.

Loopback by default. `--blas-threads` limits the BLAS library for the whole process (it is
process-global), 0 leaves the library default. The server answers only for the hosts it was
started for (localhost, 127.0.0.1, ::1, `--host` and every `--allow-host`) and takes
state-changing requests only from its own origin and every `--allow-origin`. It serves with
gunicorn (one process, `--threads` threads), or with Werkzeug's development server with `--dev`;
SIGTERM or Ctrl-C end it gracefully (app/serve.py).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from sqlalchemy.engine import make_url

from app import DEFAULT_CONFIG, create_app
from app.data.tasks import mnist_files_present
from app.serve import THREADS, serve_dev, serve_production
from app.settings import data_dir, database_url
from app.web.access import new_token
from app.web.security import LOOPBACK_HOSTS, WILDCARD_HOSTS, host_name, machine_names


def _storage_arguments(parser: argparse.ArgumentParser) -> None:
    """``--database-url``: where runs are stored."""
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="where runs are stored: sqlite:///path or postgresql+psycopg://user@host/db, "
        "'none' for memory only (default: $DATABASE_URL, else runs.sqlite3 in the data folder, "
        "which also keeps uploads: $BACKPROP_DATA_DIR, else a clone's data/, else the user's "
        "data folder, e.g. ~/.local/share/backprop-studio)",
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        metavar="URL",
        help="scaled mode: this process trains nothing, it queues runs on this Redis for "
        "`python -m app.worker` processes and streams them from the shared database "
        "(default: $REDIS_URL, else train here)",
    )


def _add_front_door(parser: argparse.ArgumentParser) -> None:
    """The limits and the hosts and origins the server takes (see app/web/security.py)."""
    parser.add_argument(
        "--max-unfinished-runs",
        type=int,
        default=DEFAULT_CONFIG["MAX_UNFINISHED_RUNS"],
        help="runs queued, running or paused at once; more are refused with 429 "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--unwatched-pause-minutes",
        type=float,
        default=DEFAULT_CONFIG["UNWATCHED_PAUSE_SECONDS"] / 60,
        help="a paused run that no page watches for this many minutes is stopped, its weights "
        "kept for Continue (default %(default)g); 0: never",
    )
    parser.add_argument(
        "--inside-interval",
        type=float,
        default=DEFAULT_CONFIG["INSIDE_INTERVAL"],
        help="seconds between two looks inside a training network (neuron maps, layer "
        "statistics; default %(default)s); 0 turns them off",
    )
    parser.add_argument(
        "--training-threads",
        action="store_true",
        help="train each run on a thread of the server instead of in a child process forked "
        "from it (the server's threads then slow training down by 5-10 %%)",
    )
    parser.add_argument(
        "--work-budget",
        type=float,
        default=DEFAULT_CONFIG["WORK_BUDGET"],
        help="multiply-adds one run may cost; costlier runs are refused (default %(default)g)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this Host name (repeatable; '*' for any)",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also take state-changing requests from this origin, e.g. "
        "http://example.org:8000 (repeatable; '*' for any)",
    )
    _storage_arguments(parser)
    parser.add_argument(
        "--mnist-dir",
        default=None,
        metavar="DIR",
        help="a folder with the four MNIST IDX files (train/t10k images and labels, raw or "
        ".gz): adds the task mnist (nothing is downloaded)",
    )


def _access_arguments(parser: argparse.ArgumentParser) -> None:
    """``--token`` and ``--admin-token`` (app/web/access.py)."""
    parser.add_argument(
        "--token",
        default=os.environ.get("BACKPROP_TOKEN") or None,
        help="the access token every request must carry (default $BACKPROP_TOKEN; bound to "
        "anything but localhost, 127.0.0.1 or ::1 without one, a token is generated and "
        "printed in the address to open)",
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("BACKPROP_ADMIN_TOKEN") or None,
        help="a second token, for the administrator (default $BACKPROP_ADMIN_TOKEN)",
    )
    parser.add_argument(
        "--max-runs-per-owner",
        type=int,
        default=DEFAULT_CONFIG["MAX_RUNS_PER_OWNER"],
        help="with a token, runs one owner may have queued, running or paused at once; more "
        "are refused with 429 (default %(default)s)",
    )
    parser.add_argument(
        "--max-uploads-per-owner",
        type=int,
        default=DEFAULT_CONFIG["MAX_UPLOADS_PER_OWNER"],
        help="with a token, uploads one owner may keep; more are refused with 429 until they "
        "delete one (default %(default)s)",
    )


def access_tokens(args: argparse.Namespace) -> tuple[str | None, bool]:
    """(the access token, whether it was generated): the given one; else a new one when the
    server binds anything but loopback or has an admin token; else None (no token)."""
    if args.token:
        return args.token, False
    if host_name(args.host) not in LOOPBACK_HOSTS or args.admin_token:
        return new_token(), True
    return None, False


def address(host: str, port: int, token: str | None = None) -> str:
    """The address to open: a wildcard bind as this machine's name, with ``?token=``."""
    name = machine_names()[0] if host in WILDCARD_HOSTS else host
    name = f"[{name}]" if ":" in name else name
    return f"http://{name}:{port}/" + (f"?token={token}" if token else "")


def parse_args(argv: list[str] | None = None, prog: str = "python -m app") -> argparse.Namespace:
    """The command line as a namespace (host, port, max_active_runs, blas_threads, ...)."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind (default 127.0.0.1; use 0.0.0.0 to serve other machines)",
    )
    parser.add_argument("--port", type=int, default=5000, help="TCP port (default 5000)")
    parser.add_argument(
        "--dev",
        action="store_true",
        help="serve with Werkzeug's development server instead of gunicorn (app/serve.py)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=THREADS,
        help="gunicorn's threads: one per open websocket, the rest serve requests "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--max-active-runs",
        type=int,
        default=DEFAULT_CONFIG["MAX_ACTIVE_RUNS"],
        help="runs training at once; later ones are queued (default %(default)s)",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=DEFAULT_CONFIG["BLAS_THREADS"],
        help="threads of the BLAS library, for the server and its training processes (default "
        "%(default)s: runs train in parallel, each in its own process, so more oversubscribes "
        "the cores; 0 leaves the library's default)",
    )
    _add_front_door(parser)
    _access_arguments(parser)
    args = parser.parse_args(argv)
    if args.mnist_dir is not None:
        if not mnist_files_present(args.mnist_dir):
            parser.error(
                f"--mnist-dir {args.mnist_dir}: needs train-images-idx3-ubyte, "
                "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte "
                "(raw or .gz)"
            )
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.blas_threads < 0:
        parser.error("--blas-threads must be 0 (library default) or a positive number")
    if not args.unwatched_pause_minutes >= 0:
        parser.error("--unwatched-pause-minutes must be 0 (never) or a positive number")
    return args


def app_config(args: argparse.Namespace) -> dict[str, Any]:
    """The `create_app` config the command line asks for."""
    return {
        "MAX_ACTIVE_RUNS": args.max_active_runs,
        "BLAS_THREADS": args.blas_threads or None,
        "MAX_UNFINISHED_RUNS": args.max_unfinished_runs,
        "UNWATCHED_PAUSE_SECONDS": args.unwatched_pause_minutes * 60,
        "WORK_BUDGET": args.work_budget,
        "INSIDE_INTERVAL": args.inside_interval,
        "TRAINING_PROCESSES": not args.training_threads,
        "ALLOWED_HOSTS": (args.host, *args.allow_host),
        "ALLOWED_ORIGINS": tuple(args.allow_origin),
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "MNIST_DIR": args.mnist_dir,
        "ACCESS_TOKEN": args.token,
        "ADMIN_TOKEN": args.admin_token,
        "MAX_RUNS_PER_OWNER": args.max_runs_per_owner,
        "MAX_UPLOADS_PER_OWNER": args.max_uploads_per_owner,
    }


def _shown(url: str | None) -> str:
    """A database URL as printed: its password hidden."""
    if url is None:
        return "memory only"
    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None, prog: str = "python -m app") -> None:
    """Parse the command line and serve until interrupted."""
    args = parse_args(argv, prog)
    args.token, generated = access_tokens(args)
    config = app_config(args)
    shown = address(args.host, args.port, args.token if generated else None)
    needs = " (the access token is needed)" if args.token and not generated else ""
    print(f"Backprop Studio on {shown}{needs}", flush=True)
    print(f"Data folder: {data_dir(config)} (runs stored in {_shown(database_url(config))})",
          flush=True)  # fmt: skip
    if args.dev:
        serve_dev(create_app(config), args.host, args.port)
    else:  # gunicorn: the app is created in its worker process
        serve_production(config, args.host, args.port, args.threads)


if __name__ == "__main__":
    main()
