"""Systolic arrays of ``rows x cols`` PEs, with their skew and de-skew registers inside.

Both arrays take whole vectors in and give whole vectors out; all registers move only
when ``en`` is high. Timing, counting cycles in which ``en`` is high, from the cycle in
which input vector ``j`` is presented (``j = 0`` is the first):

Weight-stationary (:class:`WeightStationaryArray`), ``C = A @ W`` with ``W`` in the PEs
(the ``k`` of a fold on the rows, ``n`` on the columns)
    - load: with ``load`` high, ``w_in`` (one row of ``cols`` weights) enters the top
      row and every row shifts down by one, so after ``rows`` load cycles the first row
      fed sits in the bottom row: feed the weight rows bottom row first;
    - stream: ``a_in`` is activation row ``A[j, k-slice]`` (``rows`` lanes, lane ``r``
      skewed by ``r`` cycles, flowing right) and ``psum_in`` the partial sums it adds
      to (``cols`` lanes, lane ``c`` skewed by ``c``, flowing down);
    - ``psum_out`` shows ``psum_in[j] + A[j] @ W`` (with the overflow rule applied at
      every row) ``rows + cols - 1`` cycles after vector ``j`` was presented.

Output-stationary (:class:`OutputStationaryArray`), ``C = A @ B`` with ``C`` in the PEs
(the ``m`` of a fold on the rows, ``n`` on the columns, ``k`` streamed)
    - stream: ``a_in`` is ``A[m-slice, j]`` (``rows`` lanes, lane ``r`` skewed by ``r``,
      flowing right) and ``b_in`` is ``B[j, n-slice]`` (``cols`` lanes, lane ``c``
      skewed by ``c``, flowing down); ``clear`` with vector 0 starts new sums;
    - PE ``(r, c)`` holds its final sum from ``T + r + c`` cycles after vector 0 (``T``
      vectors streamed), so row ``r`` of the result is complete ``T + cols - 1 + r``
      cycles after vector 0. ``out`` shows accumulator row ``row``: the accumulators are
      the output registers, read one row per cycle (rows of the last fold stay readable
      until the next fold's data reaches them).

Inputs must be zero when there is nothing to stream (the tile controller does this), so
that the pipeline registers are zero between folds.
"""

from __future__ import annotations

from amaranth import Array, Module, Shape, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from rtl.pe import OutputStationaryPE, WeightStationaryPE
from rtl.skew import Skew
from simulator.config import Dataflow, Overflow

__all__ = ["ARRAYS", "OutputStationaryArray", "WeightStationaryArray"]


class _ArrayBase(wiring.Component):
    """Validates the size and builds the ports that a subclass lists in its static
    ``_members(rows, cols, a, w, acc)`` from the activation, weight and accumulator
    shapes; the widths and the overflow rule are checked by the PEs."""

    pe_class: type

    def __init__(
        self,
        rows: int,
        cols: int,
        activation_bits: int = 8,
        weight_bits: int = 8,
        accumulator_bits: int = 32,
        overflow: Overflow = Overflow.WRAP,
    ) -> None:
        for name, value in (("rows", rows), ("cols", cols)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"array {name} must be a positive integer, not {value!r}")
        self.rows, self.cols = rows, cols
        self.widths = (activation_bits, weight_bits, accumulator_bits)
        self.overflow = Overflow(overflow)
        super().__init__(
            self._members(
                rows, cols, signed(activation_bits), signed(weight_bits), signed(accumulator_bits)
            )
        )

    def _pe_grid(self, m: Module, a_first) -> list[list[wiring.Component]]:
        """The PEs, as submodules ``pe_<r>_<c>`` enabled by ``en``, with activations
        entering row ``r`` from ``a_first[r]`` and passing right."""
        pes = [
            [self.pe_class(*self.widths, self.overflow) for _ in range(self.cols)]
            for _ in range(self.rows)
        ]
        for r, row in enumerate(pes):
            for c, pe in enumerate(row):
                m.submodules[f"pe_{r}_{c}"] = pe
                m.d.comb += [
                    pe.en.eq(self.en),
                    pe.a_in.eq(a_first[r] if c == 0 else row[c - 1].a_out),
                ]
        return pes


class WeightStationaryArray(_ArrayBase):
    """A ``rows x cols`` weight-stationary array (timing in the module docstring).

    ``pe_class`` is the PE it is built of.

    Members
    -------
    en, load : In(1)
        Advance; shift the weights down one row (with ``en``).
    w_in : In(ArrayLayout(signed(weight_bits), cols))
        Weight row entering the top row.
    a_in : In(ArrayLayout(signed(activation_bits), rows))
        Activation vector (skewed inside).
    psum_in : In(ArrayLayout(signed(accumulator_bits), cols))
        Partial sums the column sums add to (skewed inside).
    psum_out : Out(ArrayLayout(signed(accumulator_bits), cols))
        Column sums, realigned into one vector.
    """

    pe_class = WeightStationaryPE

    @staticmethod
    def _members(rows: int, cols: int, a: Shape, w: Shape, acc: Shape) -> dict:
        return {
            "en": In(1),
            "load": In(1),
            "w_in": In(data.ArrayLayout(w, cols)),
            "a_in": In(data.ArrayLayout(a, rows)),
            "psum_in": In(data.ArrayLayout(acc, cols)),
            "psum_out": Out(data.ArrayLayout(acc, cols)),
        }

    def elaborate(self, platform) -> Module:
        m = Module()
        a_bits, _, acc_bits = self.widths
        m.submodules.a_skew = a_skew = Skew(signed(a_bits), self.rows)
        m.submodules.psum_skew = psum_skew = Skew(signed(acc_bits), self.cols)
        m.submodules.psum_deskew = deskew = Skew(signed(acc_bits), self.cols, reverse=True)
        m.d.comb += [
            a_skew.i.eq(self.a_in),
            psum_skew.i.eq(self.psum_in),
            self.psum_out.eq(deskew.o),
        ]
        for skew in (a_skew, psum_skew, deskew):
            m.d.comb += skew.en.eq(self.en)
        pes = self._pe_grid(m, a_skew.o)
        for r, row in enumerate(pes):
            for c, pe in enumerate(row):
                m.d.comb += [
                    pe.load.eq(self.load),
                    pe.w_in.eq(self.w_in[c] if r == 0 else pes[r - 1][c].w_out),
                    pe.psum_in.eq(psum_skew.o[c] if r == 0 else pes[r - 1][c].psum_out),
                ]
        m.d.comb += [deskew.i[c].eq(pes[-1][c].psum_out) for c in range(self.cols)]
        return m


class OutputStationaryArray(_ArrayBase):
    """A ``rows x cols`` output-stationary array (timing in the module docstring).

    ``pe_class`` is the PE it is built of.

    Members
    -------
    en, clear : In(1)
        Advance; start new sums (with ``en``, on the cycle vector 0 is presented).
    a_in : In(ArrayLayout(signed(activation_bits), rows))
        Column of activations (skewed inside).
    b_in : In(ArrayLayout(signed(weight_bits), cols))
        Row of weights (skewed inside).
    row : In(range(rows))
        Which accumulator row ``out`` shows.
    out : Out(ArrayLayout(signed(accumulator_bits), cols))
        Accumulators of row ``row``.
    """

    pe_class = OutputStationaryPE

    @staticmethod
    def _members(rows: int, cols: int, a: Shape, w: Shape, acc: Shape) -> dict:
        return {
            "en": In(1),
            "clear": In(1),
            "a_in": In(data.ArrayLayout(a, rows)),
            "b_in": In(data.ArrayLayout(w, cols)),
            "row": In(range(max(rows, 2))),
            "out": Out(data.ArrayLayout(acc, cols)),
        }

    def elaborate(self, platform) -> Module:
        m = Module()
        a_bits, b_bits, _ = self.widths
        m.submodules.a_skew = a_skew = Skew(signed(a_bits), self.rows)
        m.submodules.b_skew = b_skew = Skew(signed(b_bits), self.cols)
        m.d.comb += [
            a_skew.i.eq(self.a_in),
            b_skew.i.eq(self.b_in),
            a_skew.en.eq(self.en),
            b_skew.en.eq(self.en),
        ]
        pes = self._pe_grid(m, a_skew.o)
        for r, row in enumerate(pes):
            for c, pe in enumerate(row):
                m.d.comb += [
                    pe.clear.eq(self.clear),
                    pe.b_in.eq(b_skew.o[c] if r == 0 else pes[r - 1][c].b_out),
                ]
        for c in range(self.cols):
            column = Array(pes[r][c].acc for r in range(self.rows))
            m.d.comb += self.out[c].eq(column[self.row])
        return m


# One row per dataflow: the array (and, through it, the PE) that implements it.
ARRAYS: dict[Dataflow, type[_ArrayBase]] = {
    Dataflow.WS: WeightStationaryArray,
    Dataflow.OS: OutputStationaryArray,
}
