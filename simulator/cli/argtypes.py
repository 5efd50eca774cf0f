"""Checked option types for the command line: each refuses a bad value as argparse does,
as one line naming the option, the value and what is allowed.

Only the standard library is imported here (the parser is built on every start).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from compress.errors import integer_text

__all__ = [
    "MAX_EPOCHS",
    "MAX_SEED",
    "activation_format",
    "epochs",
    "existing_file",
    "integer",
    "learning_rate",
    "number_in",
    "output_folder",
    "positive_int",
    "seed",
]

MAX_SEED = 2**32 - 1
MAX_EPOCHS = 1000
"""The most fine-tuning epochs per stage (the digits networks converge in a few)."""


def _fail(message: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(message)


def integer(low: int, high: int | None = None, what: str = "") -> Callable[[str], int]:
    """A type accepting integers from ``low`` to ``high`` (``16``, ``1e3``, not ``1.5``)."""
    allowed = f"an integer >= {low}" if high is None else f"an integer from {low} to {high:,}"
    allowed += f" ({what})" if what else ""

    def parse(text: str) -> int:
        value = integer_text(text)
        if value is None or value < low or (high is not None and value > high):
            raise _fail(f"must be {allowed}, not {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


seed = integer(0, MAX_SEED)
positive_int = integer(1)
epochs = integer(0, MAX_EPOCHS, "fine-tuning epochs per stage; 0 skips fine-tuning")


def learning_rate(text: str) -> float:
    """A learning rate: a number in ``(0, 1]``."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= 1):
        raise _fail(f"must be a number in (0, 1] (Adam's step size, e.g. 1e-3), not {text!r}")
    return value


def number_in(low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """A finite number from ``low`` to ``high`` (``unit`` names what it counts)."""
    allowed = f"a number from {low:g} to {high:g}{f' ({unit})' if unit else ''}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise _fail(f"must be {allowed}, not {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def output_folder(text: str) -> Path:
    """A folder to write to: not empty, not an existing file (it is created if missing)."""
    if not text.strip():
        raise _fail("must name a folder, not an empty string (use . for this folder)")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise _fail(f"{text} is a file, not a folder: give a folder to write the outputs into")
    return path


def existing_file(text: str) -> Path:
    """An input file that exists and is not a folder."""
    path = Path(text)
    if not text.strip():
        raise _fail("must name a file, not an empty string")
    if path.is_dir():
        raise _fail(f"{text} is a folder, not a file")
    if not path.exists():
        raise _fail(f"{text} does not exist")
    return path


def activation_format(text: str) -> str:
    """An activation format (``int8``, ``'int8 percentile=99.9'``), checked now."""
    from compress.activations import parse_activation_spec

    try:
        parse_activation_spec(text)
    except ValueError as exc:  # the spec's parser refusing the user's text
        raise _fail(str(exc)) from None
    return text
