"""`backprop-studio`: the installed command.

``backprop-studio [flags]`` serves the dashboard, as ``python -m app [flags]``;
``backprop-studio worker [flags]`` is ``python -m app.worker [flags]`` and
``backprop-studio cluster [flags]`` is ``python -m app.cluster [flags]``. ``--help`` after a
subcommand lists its own flags.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Dispatch on the first argument: ``worker``, ``cluster``, else the web server's flags."""
    args = sys.argv[1:] if argv is None else list(argv)
    command = args[0] if args else None
    if command == "worker":
        from app.worker import main as run

        run(args[1:], prog="backprop-studio worker")
    elif command == "cluster":
        from app.cluster import main as run

        run(args[1:], prog="backprop-studio cluster")
    else:
        from app.__main__ import main as run

        run(args, prog="backprop-studio")


if __name__ == "__main__":
    main()
