"""Argument types that check an option's value where it enters, for argparse ``type=``.

Each raises :class:`argparse.ArgumentTypeError`, which the parser prints as one usage
line naming the option, the value and what is allowed. Nothing heavy is imported here.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

__all__ = ["non_negative_int", "number_in", "output_dir", "positive_int"]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None


def positive_int(text: str) -> int:
    """An integer >= 1 (``--batch 0`` is refused, not run as 1)."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be a positive integer (1 or more)")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0 (a seed)."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be an integer >= 0")
    return value


def number_in(low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """A finite number from ``low`` to ``high`` (``unit`` names what it counts)."""
    allowed = f"a number from {low:g} to {high:g}{f' ({unit})' if unit else ''}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid float value: {text!r}; {allowed}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {allowed}")
        return value

    return parse


def output_dir(text: str) -> Path:
    """A directory to write into: not empty (which would be the working directory) and not
    an existing file."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "an output directory is required ('' would write into the current directory; "
            "give '.' for that)"
        )
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a directory")
    return path
