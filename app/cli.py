"""`backprop-studio`: the installed command.

``backprop-studio [flags]`` serves the dashboard, as ``python -m app [flags]``;
``backprop-studio worker [flags]`` is ``python -m app.worker [flags]`` and
``backprop-studio cluster [flags]`` is ``python -m app.cluster [flags]``. ``--help`` after a
subcommand lists its own flags.
"""

from __future__ import annotations

import importlib
import sys

from app.__main__ import main as serve

# the subcommands' modules, loaded only when asked for (RQ and Redis are not the server's)
SUBCOMMANDS = {"worker": "app.worker", "cluster": "app.cluster"}


def main(argv: list[str] | None = None) -> None:
    """Dispatch on the first argument: ``worker``, ``cluster``, else the web server's flags."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[args[0]])
        module.main(args[1:], prog=f"backprop-studio {args[0]}")
    else:
        serve(args, prog="backprop-studio")


if __name__ == "__main__":
    main()
