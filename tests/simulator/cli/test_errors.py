"""The command line's error contract: user errors one line (2), bugs one line (70)."""

from __future__ import annotations

import pytest

from simulator import cli
from simulator.cli import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, main
from tests.bad_inputs.harness import assert_one_line_error, run_cli


def _failing(exc: BaseException):
    def command(args):
        raise exc

    return command


@pytest.fixture
def broken_zoo(monkeypatch):
    """Make ``sparsa zoo`` raise whatever the test sets."""
    holder: dict[str, BaseException] = {}
    real = cli.build_parser

    def build():
        parser = real()
        for action in parser._subparsers._actions:
            if getattr(action, "choices", None) and "zoo" in action.choices:
                action.choices["zoo"].set_defaults(func=lambda args: _failing(holder["exc"])(args))
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    return holder


def test_a_library_value_error_is_an_internal_error(capsys, broken_zoo):
    broken_zoo["exc"] = ValueError("dictionary update sequence element #0 has length 1")
    code, _, err = run_cli(capsys, ["zoo"])
    assert code == EXIT_INTERNAL
    assert err.count("\n") == 1
    assert err.startswith("sparsa: internal error: ValueError: dictionary update")
    assert "please report" in err


def test_a_key_error_is_an_internal_error_and_debug_shows_it(capsys, broken_zoo):
    broken_zoo["exc"] = KeyError("point_id")
    code, _, err = run_cli(capsys, ["zoo"])
    assert code == EXIT_INTERNAL and "KeyError: 'point_id'" in err
    with pytest.raises(KeyError):
        main(["--debug", "zoo"])


def test_an_os_error_names_its_file(capsys, broken_zoo):
    broken_zoo["exc"] = PermissionError(13, "Permission denied", "/x/out")
    assert_one_line_error(capsys, ["zoo"], "/x/out: Permission denied")


def test_interrupt_is_one_line(capsys, broken_zoo):
    broken_zoo["exc"] = KeyboardInterrupt("run the same command again to resume")
    code, _, err = run_cli(capsys, ["zoo"])
    assert code == EXIT_INTERRUPTED
    assert err == "sparsa: interrupted: run the same command again to resume\n"


def test_usage_errors_are_one_line(capsys):
    line = assert_one_line_error(
        capsys, ["simulate", "--batch", "x"], "must be an integer >= 1, not 'x'"
    )
    assert line.startswith("sparsa simulate: error: ")
    code, _, _ = run_cli(capsys, ["nonsense"])
    assert code == EXIT_USAGE
