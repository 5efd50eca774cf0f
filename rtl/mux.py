"""Multiplexers as trees of 2:1 ``Mux`` expressions.

Amaranth turns a ``Switch`` in the ``comb`` domain into a Verilog ``always @*`` block,
which an event-driven simulator evaluates only once one of its inputs changes: a
multiplexer whose inputs are registers still at their initial value (a PE's position
and lanes before the first fold) then shows ``x`` in Icarus, and ``x * 0`` is ``x``. A
tree of ``Mux`` expressions becomes continuous assignments, evaluated from time 0, and
maps to the same 2:1 cells.
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth import Mux, Value

__all__ = ["highest_set", "mux_tree"]


def mux_tree(select: Value, choices: Sequence) -> Value:
    """``choices[select]`` (0 past the end), as one level of ``Mux`` per bit of
    ``select``, least significant first."""
    select = Value.cast(select)
    level = list(choices)[: 1 << len(select)] or [0]
    for bit in range(len(select)):
        if len(level) % 2:
            level.append(0)
        level = [Mux(select[bit], level[i + 1], level[i]) for i in range(0, len(level), 2)]
    return Value.cast(level[0])


def highest_set(bits: Value, width: int) -> Value:
    """The index of the highest set bit of ``bits[:width]`` (0 when none is set): a
    priority chain of ``Mux`` expressions."""
    out = Value.cast(0)
    for e in range(1, width):
        out = Mux(bits[e], e, out)
    return out
