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

N:M weight-stationary arrays (``group = M > 1``)
------------------------------------------------
The same array, built of N:M PEs (:class:`~rtl.pe.WeightStationaryPE` with ``M``
lanes). A fold runs its PE rows in *row groups* of ``n`` rows, ``n`` one of
``row_group_sizes`` (the supported N values and M) and chosen per fold by ``mode``
(an index into ``row_group_sizes``; held by the engine for the whole fold):

- row group ``q`` is PE rows ``q*n .. q*n + n - 1``; it covers one group of M
  consecutive ``k`` of the GEMM, and its ``n`` PEs in a column hold that column's kept
  weights of the group (the ``i``-th kept one in its ``i``-th row, ascending position;
  zero weights where the column keeps fewer), each with its position in ``[0, M)``;
  the ``rows mod n`` rows below the last whole row group hold zeros;
- ``a_in`` carries ``M`` lanes per row group for the most row groups any mode has,
  ``rows // min(row_group_sizes)`` (lanes ``q*M .. q*M + M - 1``: ``A[j, M-group]``);
- the *lane router*, one ``len(row_group_sizes)``-input multiplexer per PE row
  (switched by ``mode``), gives PE row ``r`` the M lanes of row group ``r // n``
  (zeros for rows past the last whole row group); after it, each row's M lanes are
  skewed by ``r`` cycles as in the dense array and passed right through the PEs (every
  PE has an M-lane activation register), and each PE multiplies the lane its position
  selects;
- the dense mode (``n = M``, columns that keep more than the largest N) runs as a dense
  array: PE row ``r`` holds ``k0 + r`` and the router gives it lane ``r`` (``A[j,
  k0 + r]``) on all M of its lanes, so its position does not matter. A dense fold thus
  covers ``rows`` consecutive ``k`` even when M does not divide ``rows``, the model's
  ``ceil(k / R)`` row folds (the feed has at least ``rows`` lanes: ``rows // n_min``
  row groups of M, ``n_min <= M / 2``).

So columns of one fold may carry different patterns (a 1:4 column's second row in a
row group of 2 holds a zero weight), a fold's timing is the dense fold's (``rows``
pipeline stages down, ``cols`` across), and ``group = 1`` with ``row_group_sizes =
(1,)`` is exactly the dense array (one lane per row, no positions, no router).
"""

from __future__ import annotations

from typing import Any

from amaranth import Array, Cat, Module, Shape, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from rtl.mux import mux_tree
from rtl.params import RtlParams
from rtl.pe import OutputStationaryPE, WeightStationaryPE
from rtl.skew import Skew
from simulator.config import Dataflow, Overflow

__all__ = ["ARRAYS", "OutputStationaryArray", "WeightStationaryArray"]


def _check_sides(rows: int, cols: int) -> None:
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"array {name} must be a positive integer, not {value!r}")


class _ArrayBase(wiring.Component):
    """Validates the size and builds the ports that a subclass lists in its
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
        _check_sides(rows, cols)
        self.rows, self.cols = rows, cols
        self.widths = (activation_bits, weight_bits, accumulator_bits)
        self.overflow = Overflow(overflow)
        super().__init__(
            self._members(
                rows, cols, signed(activation_bits), signed(weight_bits), signed(accumulator_bits)
            )
        )

    @staticmethod
    def options(params: RtlParams) -> dict[str, Any]:
        """Keyword arguments of this array's constructor that come from ``params``."""
        return {}

    @classmethod
    def from_params(cls, params: RtlParams) -> _ArrayBase:
        """The array of ``params``' size, widths, overflow rule and PE options."""
        p = params
        widths = (p.activation_bits, p.weight_bits, p.accumulator_bits)
        return cls(p.rows, p.cols, *widths, p.overflow, **cls.options(p))

    @staticmethod
    def pe_options(params: RtlParams) -> dict[str, Any]:
        """Keyword arguments of the PE's constructor that come from ``params``."""
        return {}

    @classmethod
    def pe_for(cls, params: RtlParams) -> wiring.Component:
        """One PE of the array of ``params`` (what ``--stats`` synthesizes)."""
        p = params
        widths = (p.activation_bits, p.weight_bits, p.accumulator_bits)
        return cls.pe_class(*widths, p.overflow, **cls.pe_options(p))

    def make_pe(self) -> wiring.Component:
        """One PE of this array."""
        return self.pe_class(*self.widths, self.overflow)

    def _pe_grid(self, m: Module, a_first) -> list[list[wiring.Component]]:
        """The PEs, as submodules ``pe_<r>_<c>`` enabled by ``en``, with activations
        entering row ``r`` from ``a_first[r]`` and passing right."""
        pes = [[self.make_pe() for _ in range(self.cols)] for _ in range(self.rows)]
        for r, row in enumerate(pes):
            for c, pe in enumerate(row):
                m.submodules[f"pe_{r}_{c}"] = pe
                m.d.comb += [
                    pe.en.eq(self.en),
                    pe.a_in.eq(a_first[r] if c == 0 else row[c - 1].a_out),
                ]
        return pes


class WeightStationaryArray(_ArrayBase):
    """A ``rows x cols`` weight-stationary array, dense or N:M (module docstring).

    ``pe_class`` is the PE it is built of.

    Parameters
    ----------
    rows, cols, activation_bits, weight_bits, accumulator_bits, overflow
        Size, signed widths and overflow rule.
    group : int
        M: activation lanes per PE and ``k`` positions per row group (1: dense).
    row_group_sizes : tuple of int
        The row-group sizes ``n`` a fold can run with, ascending, each in ``1..group``
        and at most ``rows``; ``(1,)`` when dense.
    zero_gating : bool
        Operand isolation in every PE (:class:`~rtl.pe.WeightStationaryPE`).

    Members
    -------
    en, load : In(1)
        Advance; shift the weights (and positions) down one row (with ``en``).
    w_in : In(ArrayLayout(signed(weight_bits), cols))
        Weight row entering the top row.
    pos_in : In(ArrayLayout(unsigned(ceil(log2 group)), cols))
        N:M only: the positions of ``w_in``'s weights in their groups.
    mode : In(range(len(row_group_sizes)))
        Only with several sizes: the fold's row-group size, as an index.
    a_in : In(ArrayLayout(signed(activation_bits), (rows // row_group_sizes[0]) * group))
        Activation lanes, ``group`` per row group (routed and skewed inside).
    psum_in : In(ArrayLayout(signed(accumulator_bits), cols))
        Partial sums the column sums add to (skewed inside).
    psum_out : Out(ArrayLayout(signed(accumulator_bits), cols))
        Column sums, realigned into one vector.
    """

    pe_class = WeightStationaryPE

    def __init__(
        self,
        rows: int,
        cols: int,
        activation_bits: int = 8,
        weight_bits: int = 8,
        accumulator_bits: int = 32,
        overflow: Overflow = Overflow.WRAP,
        *,
        group: int = 1,
        row_group_sizes: tuple[int, ...] = (1,),
        zero_gating: bool = False,
    ) -> None:
        _check_sides(rows, cols)
        if isinstance(group, bool) or not isinstance(group, int) or group < 1:
            raise ValueError(f"group must be a positive integer, not {group!r}")
        sizes = tuple(row_group_sizes)
        if (
            not sizes
            or list(sizes) != sorted(set(sizes))
            or not all(isinstance(n, int) and 1 <= n <= min(group, rows) for n in sizes)
        ):
            raise ValueError(
                f"row_group_sizes must be ascending integers from 1 to min(group, rows) = "
                f"{min(group, rows)}, not {row_group_sizes!r}"
            )
        self.group, self.row_group_sizes = group, sizes
        self.zero_gating = bool(zero_gating)
        super().__init__(rows, cols, activation_bits, weight_bits, accumulator_bits, overflow)

    @staticmethod
    def options(params: RtlParams) -> dict[str, Any]:
        return {
            "group": params.nm_group,
            "row_group_sizes": params.row_group_sizes,
            "zero_gating": params.zero_gating,
        }

    @staticmethod
    def pe_options(params: RtlParams) -> dict[str, Any]:
        return {"lanes": params.nm_group, "zero_gating": params.zero_gating}

    def make_pe(self) -> wiring.Component:
        return self.pe_class(
            *self.widths, self.overflow, lanes=self.group, zero_gating=self.zero_gating
        )

    @property
    def feed_lanes(self) -> int:
        return (self.rows // self.row_group_sizes[0]) * self.group

    def _members(self, rows: int, cols: int, a: Shape, w: Shape, acc: Shape) -> dict:
        members = {
            "en": In(1),
            "load": In(1),
            "w_in": In(data.ArrayLayout(w, cols)),
        }
        if self.group > 1:
            position = unsigned((self.group - 1).bit_length())
            members["pos_in"] = In(data.ArrayLayout(position, cols))
        if len(self.row_group_sizes) > 1:
            members["mode"] = In(range(len(self.row_group_sizes)))
        members.update(
            {
                "a_in": In(data.ArrayLayout(a, self.feed_lanes)),
                "psum_in": In(data.ArrayLayout(acc, cols)),
                "psum_out": Out(data.ArrayLayout(acc, cols)),
            }
        )
        return members

    def _route_lanes(self, m: Module, row_lanes) -> None:
        """The lane router: in a sparse mode PE row ``r`` gets the M lanes of row group
        ``r // n``; in the dense mode (``n = M``) lane ``r``, on all M of its lanes."""
        a_bits = self.widths[0]
        lane_bits = self.group * a_bits
        raw = self.a_in.as_value()
        for r in range(self.rows):
            sources = []
            for n in self.row_group_sizes:
                q = r // n
                if n == self.group:
                    lane = raw[r * a_bits : (r + 1) * a_bits]
                    sources.append(Cat(*[lane] * self.group))
                elif q < self.rows // n:
                    sources.append(raw[q * lane_bits : (q + 1) * lane_bits])
                else:
                    sources.append(None)
            sources = [0 if source is None else source for source in sources]
            if len(sources) == 1:
                m.d.comb += row_lanes[r].eq(sources[0])
            else:
                m.d.comb += row_lanes[r].eq(mux_tree(self.mode, sources))

    def elaborate(self, platform) -> Module:
        m = Module()
        a_bits, _, acc_bits = self.widths
        lane = signed(a_bits)
        lane_shape = lane if self.group == 1 else data.ArrayLayout(lane, self.group)
        m.submodules.a_skew = a_skew = Skew(lane_shape, self.rows)
        m.submodules.psum_skew = psum_skew = Skew(signed(acc_bits), self.cols)
        m.submodules.psum_deskew = deskew = Skew(signed(acc_bits), self.cols, reverse=True)
        self._route_lanes(m, a_skew.i)
        m.d.comb += [
            psum_skew.i.eq(self.psum_in),
            self.psum_out.eq(deskew.o),
        ]
        for skew in (a_skew, psum_skew, deskew):
            m.d.comb += skew.en.eq(self.en)
        pes = self._pe_grid(m, a_skew.o)
        for r, row in enumerate(pes):
            for c, pe in enumerate(row):
                above = pes[r - 1][c] if r else None
                m.d.comb += [
                    pe.load.eq(self.load),
                    pe.w_in.eq(self.w_in[c] if r == 0 else above.w_out),
                    pe.psum_in.eq(psum_skew.o[c] if r == 0 else above.psum_out),
                ]
                if self.group > 1:
                    m.d.comb += pe.pos_in.eq(self.pos_in[c] if r == 0 else above.pos_out)
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

    def _members(self, rows: int, cols: int, a: Shape, w: Shape, acc: Shape) -> dict:
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
