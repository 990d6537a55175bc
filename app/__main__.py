"""`python -m app [--host 127.0.0.1] [--port 5000]`: serve Backprop Studio (loopback by default)."""

from __future__ import annotations

import argparse

from . import DEFAULT_CONFIG, create_app


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
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
    args = parser.parse_args(argv)

    app = create_app({"MAX_ACTIVE_RUNS": args.max_active_runs})
    socketio = app.extensions["socketio"]
    print(f"Backprop Studio on http://{args.host}:{args.port}", flush=True)
    # Werkzeug is the server in threading mode; fine for this local, single-process tool.
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
