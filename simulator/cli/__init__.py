"""The ``sparsa`` command line: parse, load, call one library function, render.

Each command group lives in its own module with a ``register(subparsers)`` function
that adds its subcommands and sets ``func`` on them. Packages above the simulator
(``rtl``) add commands through the ``sparsa.commands`` entry-point group, so the
simulator never imports them. Errors a user can fix are printed as one line and exit
with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from importlib.metadata import entry_points

__all__ = ["build_parser", "main"]

_COMMAND_MODULES = (
    "simulator.cli.run",
    "simulator.cli.sweep",
    "simulator.cli.compress",
    "simulator.cli.codesign",
)
_ENTRY_POINT_GROUP = "sparsa.commands"

log = logging.getLogger(__name__)


class UserError(Exception):
    """A problem with the user's input, reported as one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sparsa",
        description="Hardware/algorithm co-design simulator for compressed neural networks.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    for entry in entry_points(group=_ENTRY_POINT_GROUP):
        entry.load()(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, KeyError, OSError) as exc:
        if args.debug:
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"sparsa: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
