"""Running the command line on a bad input and checking what it says.

Every table-driven case in this package goes through :func:`assert_one_line_error`:
the command exits with status 2 and prints exactly one ``sparsa: error:`` line that
holds the expected fragment (never a traceback, never "internal error").
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from simulator.cli import EXIT_USAGE, main

__all__ = ["assert_one_line_error", "run_cli"]


def run_cli(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> tuple[int, str, str]:
    """``sparsa ARGV`` in this process: exit status, stdout, stderr."""
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(
    capsys: pytest.CaptureFixture[str], argv: Sequence[str], fragment: str
) -> str:
    """Run ``sparsa ARGV``; assert one ``sparsa: error:`` line holding ``fragment``."""
    code, _, err = run_cli(capsys, argv)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == EXIT_USAGE, f"exit {code}, stderr:\n{err}"
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    assert lines[0].startswith("sparsa") and "error: " in lines[0], lines[0]
    assert "internal error" not in lines[0], lines[0]
    assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]
