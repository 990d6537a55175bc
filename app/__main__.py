"""`python -m app [--host 127.0.0.1] [--port 5000] [--blas-threads 1]`: serve Backprop Studio.

Loopback by default. `--blas-threads` limits the BLAS library for the whole process (it is
process-global), 0 leaves the library default. The server answers only for the hosts it was
started for (localhost, 127.0.0.1, ::1, `--host` and every `--allow-host`) and takes
state-changing requests only from its own origin and every `--allow-origin`.
"""

from __future__ import annotations

import argparse
from typing import Any

from app import DEFAULT_CONFIG, create_app
from app.data.tasks import mnist_files_present


def _storage_arguments(parser: argparse.ArgumentParser) -> None:
    """``--database-url``: where runs are stored."""
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="where runs are stored: sqlite:///path or postgresql+psycopg://user@host/db, "
        "'none' for memory only (default: $DATABASE_URL, else runs.sqlite3 in the data folder: "
        "$BACKPROP_DATA_DIR, else ./data, which also keeps uploads)",
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line as a namespace (host, port, max_active_runs, blas_threads, ...)."""
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind (default 127.0.0.1; use 0.0.0.0 to serve other machines)",
    )
    parser.add_argument("--port", type=int, default=5000, help="TCP port (default 5000)")
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
    args = parser.parse_args(argv)
    if args.mnist_dir is not None:
        if not mnist_files_present(args.mnist_dir):
            parser.error(
                f"--mnist-dir {args.mnist_dir}: needs train-images-idx3-ubyte, "
                "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte "
                "(raw or .gz)"
            )
    if args.blas_threads < 0:
        parser.error("--blas-threads must be 0 (library default) or a positive number")
    return args


def app_config(args: argparse.Namespace) -> dict[str, Any]:
    """The `create_app` config the command line asks for."""
    return {
        "MAX_ACTIVE_RUNS": args.max_active_runs,
        "BLAS_THREADS": args.blas_threads or None,
        "MAX_UNFINISHED_RUNS": args.max_unfinished_runs,
        "WORK_BUDGET": args.work_budget,
        "INSIDE_INTERVAL": args.inside_interval,
        "TRAINING_PROCESSES": not args.training_threads,
        "ALLOWED_HOSTS": (args.host, *args.allow_host),
        "ALLOWED_ORIGINS": tuple(args.allow_origin),
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "MNIST_DIR": args.mnist_dir,
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    args = parse_args(argv)
    app = create_app(app_config(args))
    socketio = app.extensions["socketio"]
    print(f"Backprop Studio on http://{args.host}:{args.port}", flush=True)
    # Werkzeug is the server in threading mode; fine for this local, single-process tool.
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
