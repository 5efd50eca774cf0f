"""The steps of one fold on the RTL: which cycles load, feed and drain.

A fold streams ``T`` vectors through an ``R x C`` array. Its steps are numbered from 0,
one per clock cycle in which the tile controller advances (every cycle, when no stream
stalls); step 0 is the cycle in which ``start`` is accepted. The steps, as half-open
ranges (the table is one row per dataflow, in :data:`DRAIN_TABLE` and
:data:`simulator.model.mapping.DATAFLOW_MAPS`)::

              load (weights)   feed (operands)   drain (outputs)
    ws        [0, R)           [R, R + T)        [2R + C - 1, 2R + C - 1 + T)
    os        (none)           [0, T)            [T + C - 1, T + C - 1 + R)

The last step is ``F = P + (R - 1) + T + (C - 1)`` with ``P = R`` in ws and 0 in os:
exactly the per-fold figure of :func:`simulator.model.timing.dense_timing` in the
``sequential`` schedule (``preload_cycles + pass_cycles``). Where the steps come from:

- ws: ``R`` weight rows shift in, one per cycle. Activation vector ``j`` enters at
  step ``R + j``; lane ``r`` waits ``r`` cycles in the input skew and the vector moves
  one column per cycle, so column ``c``'s sum leaves the bottom row after
  ``R + c`` cycles and, de-skewed, the whole vector after ``R + C - 1``:
  output ``j`` is on the output port at step ``2R + C - 1 + j``.
- os: operand pair ``j`` enters at step ``j``; PE ``(r, c)`` does its last MAC at step
  ``T - 1 + r + c`` and shows the final sum from step ``T + r + c``, so accumulator
  row ``r`` is complete at step ``T + C - 1 + r`` and is read out then.

The last step, which transfers the last output, is also the step in which the next
fold may be accepted (its step 0): folds run back to back ``F`` cycles apart, and ``G``
folds take ``G * F`` cycles from the first ``start`` to the last output, the model's
layer count. See :mod:`rtl.controller` for the handshakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.config import Dataflow
from simulator.model.mapping import DATAFLOW_MAPS

__all__ = ["DRAIN_TABLE", "FoldPhases", "fold_phases"]

# Per dataflow: (first drain step counted from the first feed step, drain beats),
# as functions of (rows, cols, t) that work on ints and on Amaranth values alike.
DRAIN_TABLE: dict[Dataflow, Callable[[int, int, Any], tuple[Any, Any]]] = {
    Dataflow.WS: lambda rows, cols, t: (rows + cols - 1, t),
    Dataflow.OS: lambda rows, cols, t: (t + cols - 1, rows),
}


@dataclass(frozen=True)
class FoldPhases:
    """Step ranges of one fold, half-open: ``[load_start, load_end)`` and so on.

    Fields are ints, or Amaranth values when ``t`` was one.
    """

    load_end: Any
    feed_start: Any
    feed_end: Any
    drain_start: Any
    drain_end: Any

    @property
    def last(self) -> Any:
        """The last step, which transfers the fold's last output: the fold's cycles ``F``."""
        return self.drain_end - 1


def fold_phases(dataflow: Dataflow | str, rows: int, cols: int, t: Any) -> FoldPhases:
    """The load, feed and drain steps of a fold of ``t`` streamed vectors.

    Parameters
    ----------
    dataflow : Dataflow or str
        ``ws`` or ``os``.
    rows, cols : int
        Array size.
    t : int or amaranth Value
        Vectors streamed in the fold (``T >= 1``).
    """
    dataflow = Dataflow(dataflow)
    if dataflow not in DRAIN_TABLE:
        raise ValueError(f"dataflow {dataflow.value!r} has no RTL schedule; allowed: ws, os")
    preload = DATAFLOW_MAPS[dataflow].preload_rows * rows
    drain_offset, drain_beats = DRAIN_TABLE[dataflow](rows, cols, t)
    return FoldPhases(
        load_end=preload,
        feed_start=preload,
        feed_end=preload + t,
        drain_start=preload + drain_offset,
        drain_end=preload + drain_offset + drain_beats,
    )
