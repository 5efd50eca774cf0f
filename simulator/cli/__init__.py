"""The ``sparsa`` command line: parse, load, call one library function, render.

Each command group lives in its own module with a ``register(subparsers)`` function
that adds its subcommands and sets ``func`` on them. Packages above the simulator
(``rtl``) add commands through the ``sparsa.commands`` entry-point group, so the
simulator never imports them. Errors a user can fix are printed as one line and exit
with status 2; ``--debug`` shows the traceback instead. Errors a user can fix are
:class:`compress.errors.InputError` (every package's input errors derive from it) and
operating-system errors on the files named; anything else is a bug, reported as one
line asking for a report (status 70), with the traceback under ``--debug``.

Start-up is kept short: the command modules register their options with light imports
and import the library they call when they run (``sparsa --help`` imports neither numba,
Amaranth, matplotlib nor the sweep engine), and a process that ran one command skips the
garbage collection of its objects at exit.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys
from typing import Any, NoReturn

from compress.errors import InputError

__all__ = ["EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_USAGE", "build_parser", "main"]

EXIT_USAGE = 2
EXIT_INTERNAL = 70
"""``EX_SOFTWARE`` of sysexits.h: an internal error."""
EXIT_INTERRUPTED = 130

_COMMAND_MODULES = (
    "simulator.cli.run",
    "simulator.cli.sweep",
    "simulator.cli.compress",
    "simulator.cli.codesign",
)
_ENTRY_POINT_GROUP = "sparsa.commands"

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse checks a command against the known ones before it runs the action.
        if isinstance(action, _Commands) and value not in action.choices:
            action.add_plugins()
        super()._check_value(action, value)


class _Commands(argparse._SubParsersAction):
    """The commands: sparsa's own, and those that other packages add through the
    ``sparsa.commands`` entry points, read only when a command is none of sparsa's own
    or the commands are listed (reading the installed packages' metadata takes longer
    than registering every command of sparsa's own)."""

    _plugins_added = False

    def add_plugins(self) -> None:
        if not self._plugins_added:
            self._plugins_added = True
            from importlib.metadata import entry_points

            for entry in entry_points(group=_ENTRY_POINT_GROUP):
                entry.load()(self)

    def _get_subactions(self) -> list[argparse.Action]:  # what --help lists
        self.add_plugins()
        return super()._get_subactions()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sparsa",
        description="Hardware/algorithm co-design simulator for compressed neural networks.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, action=_Commands
    )
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` (default: the process's arguments); its exit status."""
    status = _run(argv)
    if argv is None:
        # The process's entry point (the sparsa script, python -m simulator.cli): what the
        # command made dies with the process, so keep the interpreter from collecting it
        # at exit (tens of ms after a run with plots). Atexit handlers still run.
        gc.freeze()
    return status


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        hint = f": {exc.args[0]}" if exc.args else ""
        print(f"sparsa: interrupted{hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (InputError, OSError) as exc:
        if args.debug:
            raise
        print(f"sparsa: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"sparsa: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(a bug in sparsa, please report it; --debug shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line; an OS error names its file and its cause."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc)
    return " ".join(text.split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
