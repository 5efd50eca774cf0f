"""Skew and de-skew register triangles at the edges of a systolic array.

A systolic array wants lane ``i`` of a vector ``i`` cycles after lane 0 (the wavefront
reaches row ``i`` or column ``i`` that much later); its outputs leave the same way,
lane ``i`` ``i`` cycles late. :class:`Skew` delays lane ``i`` by ``i`` cycles, or by
``lanes - 1 - i`` cycles with ``reverse=True`` (the de-skew that realigns outputs), so
the outside world feeds and reads whole vectors. It holds
``lanes * (lanes - 1) / 2`` registers of the lane's shape.
"""

from __future__ import annotations

from amaranth import Module, Shape, Signal
from amaranth.hdl import ShapeLike
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Skew"]


class Skew(wiring.Component):
    """Delay lane ``i`` of a vector by ``i`` cycles (``lanes - 1 - i`` if ``reverse``).

    Parameters
    ----------
    shape : ShapeLike
        Shape of one lane.
    lanes : int
        Number of lanes (vector length).
    reverse : bool
        De-skew: the last lane passes straight through, lane 0 waits longest.

    Members
    -------
    en : In(1)
        The delay registers shift only when ``en`` is high.
    i : In(ArrayLayout(shape, lanes))
        Input vector; lane 0 (or lane ``lanes - 1`` if ``reverse``) reaches ``o`` at once.
    o : Out(ArrayLayout(shape, lanes))
        Output vector.
    """

    def __init__(self, shape: ShapeLike, lanes: int, *, reverse: bool = False) -> None:
        if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1:
            raise ValueError(f"lanes must be a positive integer, not {lanes!r}")
        self.shape = Shape.cast(shape)
        self.lanes = lanes
        self.reverse = bool(reverse)
        layout = data.ArrayLayout(shape, lanes)
        super().__init__({"en": In(1), "i": In(layout), "o": Out(layout)})

    def delay(self, lane: int) -> int:
        """Cycles by which ``lane`` is delayed."""
        return self.lanes - 1 - lane if self.reverse else lane

    def elaborate(self, platform) -> Module:
        m = Module()
        for lane in range(self.lanes):
            value = self.i[lane]
            for stage in range(self.delay(lane)):
                reg = Signal(self.shape, name=f"lane{lane}_d{stage + 1}")
                with m.If(self.en):
                    m.d.sync += reg.eq(value)
                value = reg
            m.d.comb += self.o[lane].eq(value)
        return m
