"""Memory traffic and DRAM stalls: closed form per layer, vectorized over layers and configs.

Hierarchy: DRAM -> three SRAM buffers (input, weight, output/partial sums) -> the array.
Operand ``A`` (``m x k``, inputs) lives in the input buffer, ``B`` (``k x n``, weights, or
an activation in attention matmuls) in the weight buffer, ``C`` (``m x n``) in the output
buffer. Widths: ``A`` at ``activation_bits``, ``B`` at ``weight_bits`` (``activation_bits``
when it is an activation), partial sums at ``accumulator_bits`` everywhere on chip; final
outputs are requantized to ``activation_bits`` on their way to DRAM (the next layer's
inputs).

Loop nest
---------
Each of a layer's ``G`` GEMMs runs its folds (:mod:`simulator.model.timing`) in SCALE-Sim's
order, the same in all three dataflows, with the streamed dimension cut into ``nt``
tiles when ``stream_tiling: fit`` tiles the layer (``nt = 1`` otherwise)::

    for o in column folds (Fo = ceil(Sc / cols)):     os: over n   ws: over n   is: over m
        for s in stream tiles (nt = ceil(T / Ts)):    os: 1        ws: over m   is: over n
            for i in row folds (Fi = ceil(Sr / rows)):    os: over m   ws: over k   is: over k
                fold (o, s, i): preload tile (o, i), stream tile s

so in ws and is, where ``k`` is folded, the folds of one output block (``T x cols``, or
``Ts x cols`` when tiled) run back to back and its partial sums finish as early as
possible. Every operand spans two of the three GEMM dimensions (outer ``o``, inner ``i``,
streamed ``s``), which gives it one of three roles:

=============  =====================================  ==============  =================
role           the operand ...                        passes ``P``    os / ws / is
=============  =====================================  ==============  =================
both           spans outer and inner (not streamed):  ``nt``          C / B / A
               each fold position's tile, used once
               per stream tile (the stationary
               operand in ws and is)
outer-only     spans outer and streamed: one block    ``Fi``          B / C / C
               per (column block, stream tile),
               reused by its Fi folds
inner-only     spans inner and streamed: all of it    ``Fo``          A / A / B
               is needed again in every column block
=============  =====================================  ==============  =================

Untiled (``nt = 1``) the "both" operand is used exactly once, as in SCALE-Sim.

Reuse model (``U`` = usable buffer capacity: half the buffer when
``sram_double_buffered``, the other half receiving the prefetch; all of it otherwise)
------------------------------------------------------------------------------------------
- The array reads an input operand from its SRAM once per pass: ``E * P`` elements
  (``E`` = its elements). These are exactly SCALE-Sim's ``sram_ifmap_reads`` /
  ``sram_filter_reads`` untiled; tiling multiplies the stationary operand's by ``nt``
  (it is preloaded once per stream tile) and leaves the streamed operand's unchanged.
- DRAM: each residency unit keeps ``min(S, U)`` of its ``S`` bits resident between two
  uses; every later pass refetches the rest::

      dram_read_bits = E * bits + (P - 1) * sum_over_units max(0, S_unit - U)

  The unit is what the loop nest touches between two uses of a tile: the whole operand
  when inner-only; one (column block, stream tile) block (``cols x Ts``, ``cols x T``
  untiled) when outer-only; one column block's stationary slab (``cols x Sr``: every
  row fold's tile of that block) when "both". So an operand that fits (``S <= U``) is
  read from DRAM exactly once; one that does not is partly re-streamed, and more
  capacity never adds traffic. With tiling, the stationary operand is refetched only
  when its column slab does not fit; the streamed operand's traffic is unchanged.
- Outputs: the array writes each output block once per pass and reads it back before
  every pass but the first (``E * P`` writes, ``E * (P - 1)`` reads: a partial-sum write
  and read-back per row fold when ``k`` is folded in ws/is; one write per output in os).
  SCALE-Sim's ``sram_ofmap_writes`` equal ``E * P`` in ws/is; in os it adds ``R + C``
  per fold (a quirk of its skewed drain matrix), which sparsa does not follow. The part
  of a block's partial sums that fits stays on chip; the rest is spilled to DRAM after
  each pass but the last and read back before each pass but the first, at
  ``accumulator_bits``. Final outputs are written to DRAM once. With ``fit``, a block is
  ``Ts x cols`` partial sums, which fit by the choice of ``Ts`` unless even one vector's
  (``cols x accumulator_bits``) exceeds ``U`` (then ``Ts = 1`` and the excess spills).
- ``fit`` trades partial-sum spills (``2 (Fi - 1) sum max(0, T w acc - U)`` bits per
  column block) for stationary refetches (``(nt - 1) max(0, S_slab - U)``). It moves
  fewer DRAM bytes than ``none`` whenever the stationary slab fits its buffer, but not
  always: with a slab much larger than its buffer and ``T`` just above ``Ts`` the
  refetches outweigh the spills saved. E.g. ws on 16 x 4, ``m, n, k = 5, 4, 64``, 64
  usable bytes per buffer, 32-bit partial sums: ``Ts = 4``, ``nt = 2``; ``none`` spills
  ``2 x 3 x 128`` bits, ``fit`` refetches ``2048 - 512 = 1536`` bits of weights: 768
  bits more (``test_ws_stream_tiles_by_hand`` in ``tests/simulator/model/test_memory.py``).
- Every DRAM byte also passes through its SRAM: fills are SRAM writes, write-backs SRAM
  reads, so the SRAM bit counts used for energy are the array-side accesses plus the
  DRAM-side ones.

Convolutions
------------
A convolution's ``A`` is its im2col matrix, in which every input pixel appears up to
``r * s`` times. The input buffer holds the feature map and the address generator
expands it, so the array-side reads count im2col elements (as SCALE-Sim's do), while
DRAM traffic and residency count the distinct elements: the operand's footprint is
``E_unique = h * w * c / groups * batch`` (at most ``m * k``), and every DRAM-side
quantity above (``S``, tiles, first load) is scaled by ``E_unique / (m * k)``, i.e. a
fold's tile is charged its proportional share of the feature map (halo overlap between
tiles is not tracked).

Stalls
------
DRAM bandwidth ``bw`` bits per cycle. With double-buffered SRAMs a fold's data is
prefetched during the previous fold and its outputs written back during the next, so
the loads of the first fold and the store of the last are exposed, and the rest
overlaps compute fold by fold. Traffic is uneven over folds (an inner-only operand is
loaded in full during the first column block and only topped up later), so the folds are
taken in two phases with even traffic inside each: phase 1 is every group's first column
block (``c1`` compute cycles, ``D1`` bits), phase 2 the rest (``c2``, ``D2``); a column
block takes ``Fi`` fold positions of ``pass + nt * P`` cycles (sequential) or ``pass``
(overlapped, plus the first preload in phase 1), with ``pass`` from :mod:`simulator.model.timing`.
The first load is the first fold's tiles (its stream tile, when tiled) and the last
store the last fold's final outputs::

    stall = ceil( (first_load + last_store) / bw
                  + max(0, D1' / bw - c1) + max(0, D2' / bw - c2) )

with ``D1'``, ``D2'`` the phase traffic less the exposed first load and last store.
Without double buffering nothing overlaps: ``stall = ceil(all DRAM bits / bw)``. Either
way stalls are never negative, never grow with bandwidth, and
``compute + stall >= all DRAM bits / bw``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from simulator.config import Dataflow, FoldSchedule
from simulator.model.mapping import (
    OPERAND_EDGES,
    OPERAND_ROLES,
    SCHEDULE_CODES,
    Edge,
    Operand,
    Role,
    dataflow_code,
)
from simulator.model.timing import DenseTiming

if TYPE_CHECKING:
    from simulator.model.columns import ConfigColumns, LayerColumns, Widths
    from simulator.model.residency import Residency

__all__ = [
    "MemoryTraffic",
    "OperandTraffic",
    "memory_traffic",
    "sram_port_bits",
    "stall_cycles",
]


class OperandTraffic(NamedTuple):
    """One operand's traffic in one layer (arrays broadcast over configs and layers)."""

    array_reads: np.ndarray
    """Elements the array reads from the buffer (SCALE-Sim's sram reads)."""
    array_writes: np.ndarray
    """Elements the array writes into the buffer (outputs and partial sums)."""
    sram_read_bits: np.ndarray
    """All bits read from the buffer: by the array, and for write-back to DRAM."""
    sram_write_bits: np.ndarray
    """All bits written into the buffer: by the array, and fills from DRAM."""
    dram_read_bits: np.ndarray
    dram_write_bits: np.ndarray


class MemoryTraffic(NamedTuple):
    """Traffic of every operand plus what the stall model needs (bits, whole layer)."""

    input: OperandTraffic
    weight: OperandTraffic
    output: OperandTraffic
    first_load_bits: np.ndarray
    last_store_bits: np.ndarray
    phase1_bits: np.ndarray
    """DRAM bits moved during every group's first outer block."""
    phase2_bits: np.ndarray

    @property
    def operands(self) -> dict[Operand, OperandTraffic]:
        return {Operand.INPUT: self.input, Operand.WEIGHT: self.weight, Operand.OUTPUT: self.output}

    @property
    def dram_bits(self) -> np.ndarray:
        return sum(t.dram_read_bits + t.dram_write_bits for t in self.operands.values())


class _Loops(NamedTuple):
    """Extents of the folded loops (outer: column folds, middle: stream tiles, inner: row
    folds): their trip counts and the sizes of their first, full and last pieces."""

    outer_folds: np.ndarray
    inner_folds: np.ndarray
    stream_tiles: np.ndarray
    inner_extent: np.ndarray
    outer_side: np.ndarray
    outer_first: np.ndarray
    outer_last: np.ndarray
    inner_first: np.ndarray
    inner_last: np.ndarray
    tile_side: np.ndarray
    """Streamed vectors per full tile (``T`` untiled); also the first tile's."""
    tile_last: np.ndarray
    stream: np.ndarray
    stream_outer: np.ndarray
    """True where the stream tiles are the outermost loop (os with k tiles)."""


def _loops(timing: DenseTiming, rows: np.ndarray, cols: np.ndarray, dataflow=None) -> _Loops:
    fo, fi, nt = timing.col_folds, timing.inner_passes, timing.stream_tiles
    os_code = dataflow_code(Dataflow.OS)
    stream_outer = (np.asarray(dataflow) == os_code) & (nt > 1) if dataflow is not None else False
    return _Loops(
        outer_folds=fo,
        inner_folds=fi,
        stream_tiles=nt,
        inner_extent=timing.sr,
        outer_side=cols,
        outer_first=np.minimum(cols, timing.sc),
        outer_last=timing.sc - (fo - 1) * cols,
        inner_first=np.minimum(rows, timing.sr),
        inner_last=timing.sr - (fi - 1) * rows,
        tile_side=timing.stream_tile,
        tile_last=timing.t - (nt - 1) * timing.stream_tile,
        stream=timing.t,
        stream_outer=np.asarray(stream_outer),
    )


def _excess(bits: np.ndarray, usable: np.ndarray) -> np.ndarray:
    return np.maximum(0, bits - usable)


def _line_excess(count, full, last, bits, usable) -> np.ndarray:
    """``sum over pieces of max(0, S - U)`` over ``count`` pieces of ``full`` elements but
    the last, of ``last`` (``bits`` per element, ``usable`` bits resident)."""
    return (count - 1) * _excess(full * bits, usable) + _excess(last * bits, usable)


class _Operand(NamedTuple):
    passes: np.ndarray
    refetch_bits: np.ndarray  # (P - 1) * sum over residency units of max(0, S - U)
    phase1_elems: np.ndarray  # elements of the first outer block
    phase1_refetch_bits: np.ndarray
    first_fold_elems: np.ndarray
    last_fold_elems: np.ndarray


def _by_role(role, outer_only, inner_only, both):
    """Per cell, the value of the operand's role; each value is a callable, evaluated only
    when some cell has that role (every operand has two of the three)."""

    def value(which: Role, make):
        return make() if np.any(role == which) else 0

    return np.where(
        role == Role.OUTER_ONLY,
        value(Role.OUTER_ONLY, outer_only),
        np.where(
            role == Role.INNER_ONLY, value(Role.INNER_ONLY, inner_only), value(Role.BOTH, both)
        ),
    )


def _operand(role, elems, bits, usable, lp: _Loops) -> _Operand:
    """Passes, refetched bits and phase-1 share of one operand, by its role."""
    fo, fi, nt = lp.outer_folds, lp.inner_folds, lp.stream_tiles
    tiled = bool(np.any(nt > 1))

    @functools.cache
    def over_stream() -> tuple[np.ndarray, np.ndarray]:
        """Excess of one outer block's (stream tile) blocks: a full block, the last."""
        if not tiled:  # the same numbers, without the terms that are 0
            return tuple(
                _excess(w * lp.stream * bits, usable) for w in (lp.outer_side, lp.outer_last)
            )
        return tuple(
            _line_excess(nt, w * lp.tile_side, w * lp.tile_last, bits, usable)
            for w in (lp.outer_side, lp.outer_last)
        )

    outer = lp.stream_outer if tiled else False
    whole = functools.cache(lambda: _excess(elems * bits, usable))

    def slabs():  # ws, is: every outer block's slab over all inner folds; os: all of it
        if not tiled:
            return 0
        inner = lp.inner_extent
        slab = _line_excess(fo, lp.outer_side * inner, lp.outer_last * inner, bits, usable)
        return np.where(outer, whole(), slab) if np.any(outer) else slab

    def inner_units():  # ws, is: the whole operand; os k tiles: each tile's slab
        if not np.any(outer):
            return whole()
        inner = lp.inner_extent
        tiles = _line_excess(nt, inner * lp.tile_side, inner * lp.tile_last, bits, usable)
        return np.where(outer, tiles, whole())

    passes = _by_role(role, lambda: fi, lambda: fo, lambda: nt)
    # Residency units: outer-only, an (outer block, stream tile) block; inner-only, the
    # whole operand (os k tiles: one tile's slab); both, an outer block's slab (os k
    # tiles: the whole operand, as every k tile touches all of it).
    per_unit = _by_role(
        role,
        lambda: (fo - 1) * over_stream()[0] + over_stream()[1],
        inner_units,
        slabs,
    )
    # Phase 1 (first outer block): an inner-only operand is loaded whole, with no refetch
    # yet; the others load the first block's share and refetch it within the block.
    first_block = lp.outer_first * lp.inner_extent
    phase1 = _by_role(role, lambda: lp.outer_first * lp.stream, lambda: elems, lambda: first_block)
    phase1_refetch = _by_role(
        role,
        # The first outer block is a full one when there are more (outer_first = cols).
        lambda: (fi - 1) * np.where(fo > 1, *over_stream()),
        lambda: 0,
        lambda: (nt - 1) * _excess(first_block * bits, usable) if tiled else 0,
    )
    first = _by_role(
        role,
        lambda: lp.outer_first * lp.tile_side,
        lambda: lp.inner_first * lp.tile_side,
        lambda: lp.outer_first * lp.inner_first,
    )
    last = _by_role(
        role,
        lambda: lp.outer_last * lp.tile_last,
        lambda: lp.inner_last * lp.tile_last,
        lambda: lp.outer_last * lp.inner_last,
    )
    return _Operand(passes, (passes - 1) * per_unit, phase1, phase1_refetch, first, last)


def _input_counts(op: _Operand, elems, bits, dram_bits, from_dram=1.0):
    """(reads, writes, SRAM read/write bits, DRAM read/write bits) of an input operand,
    per GEMM, and its phase-1 DRAM bits. ``from_dram`` is 0 where the operand is already
    on chip (a resident activation: written once into the buffer by its producer)."""
    reads = elems * op.passes
    dram_read = (elems * dram_bits + op.refetch_bits) * from_dram
    fills = np.where(from_dram == 0, elems * dram_bits, dram_read)
    counts = (reads, np.zeros_like(reads), reads * bits, fills, dram_read, 0 * dram_read)
    return counts, (op.phase1_elems * dram_bits + op.phase1_refetch_bits) * from_dram


def _output_counts(op: _Operand, elems, acc_bits, out_bits, to_dram=1.0):
    """The same for the output: partial sums written every pass and read back before every
    pass but the first; the excess over the usable buffer spilled to DRAM and back. The
    final outputs go to DRAM where ``to_dram`` is 1 (0: they stay on chip)."""
    spill = op.refetch_bits
    reads, writes = elems * (op.passes - 1), elems * op.passes
    sram_read = (reads + elems) * acc_bits + spill  # read-backs, final drain, spills out
    sram_write = writes * acc_bits + spill  # array writes, spills back in
    counts = (reads, writes, sram_read, sram_write, spill, elems * out_bits * to_dram + spill)
    return counts, op.phase1_elems * out_bits * to_dram + 2 * op.phase1_refetch_bits


def memory_traffic(
    hw: ConfigColumns,
    ly: LayerColumns,
    timing: DenseTiming,
    widths: Widths,
    resident: Residency | None = None,
) -> MemoryTraffic:
    """SRAM and DRAM traffic per operand of the layers ``ly`` on the configs ``hw``
    (formulas in the module docstring).

    Parameters
    ----------
    hw, ly : ConfigColumns, LayerColumns
        The configs (array, dataflow, buffers) and the layers (shapes, and the distinct
        input elements of a convolution, whose im2col matrix repeats its feature map: see
        "Convolutions" above).
    timing : DenseTiming
        The layers' timing on the same configs (its folds and extents).
    widths : Widths
        Bits of A, B, partial sums and final outputs.
    resident : Residency, optional
        Activations kept on chip between layers (:mod:`simulator.model.residency`): an
        input on chip is not read from DRAM, an output kept is not written, and residual
        reads of tensors that spilled are read from DRAM (added to the input operand's
        DRAM reads and fills). None: every layer alone (``inter_layer_activations: dram``).

    Returns
    -------
    MemoryTraffic
        Element counts (``array_*``, ``int64``) and bit counts (``float64``; whole
        numbers except for scaled convolution inputs) for the whole layer (all ``groups``),
        broadcast over configs and layers.
    """
    m, n, k, groups = (np.asarray(x, dtype=np.int64) for x in (ly.m, ly.n, ly.k, ly.groups))
    rows, cols, dataflow = (np.asarray(x, dtype=np.int64) for x in (hw.rows, hw.cols, hw.dataflow))
    acc_bits, out_bits = widths.acc, widths.out
    usable_bits = hw.usable_bits
    lp = _loops(timing, rows, cols, dataflow)
    sizes = {Operand.INPUT: m * k, Operand.WEIGHT: k * n, Operand.OUTPUT: m * n}
    bits_of = widths.by_operand
    # DRAM and residency see the distinct input elements; the array reads the im2col
    # ones. Compressed weights have their own DRAM width (stored bits per weight).
    unique = np.asarray(ly.input_elements, dtype=np.int64)
    dram_width = {
        Operand.INPUT: np.multiply(widths.a, unique / (m * k), dtype=np.float64),
        Operand.WEIGHT: np.asarray(widths.b_dram, dtype=np.float64),
        Operand.OUTPUT: np.asarray(widths.acc, dtype=np.float64),
    }
    # A decoder on the fill path (Huffman) may take longer than the DRAM transfer: the
    # stall model sees the weights' fill as max(bits, symbols x bandwidth / rate).
    fill = {Operand.WEIGHT: np.asarray(widths.b_fill) / np.maximum(widths.b_dram, 1e-300)}
    from_dram = 1.0 if resident is None else np.where(resident.input_on_chip, 0.0, 1.0)
    to_dram = 1.0 if resident is None else np.where(resident.output_on_chip, 0.0, 1.0)
    traffic, phase1, first_load, stall_total = {}, 0, 0, 0
    for j, operand in enumerate(Operand):
        role, elems, bits = OPERAND_ROLES[dataflow, j], sizes[operand], bits_of[operand]
        dram_bits = dram_width[operand]
        op = _operand(role, elems, dram_bits, usable_bits[operand], lp)
        ratio = fill.get(operand, 1.0)
        if operand is Operand.OUTPUT:
            counts, share = _output_counts(op, elems, acc_bits, out_bits, to_dram)
            last_store = op.last_fold_elems * out_bits * to_dram
        else:
            own = from_dram if operand is Operand.INPUT else 1.0
            counts, share = _input_counts(op, elems, bits, dram_bits, own)
            first_load = first_load + op.first_fold_elems * dram_bits * ratio * own
        phase1 = phase1 + share * ratio
        traffic[operand] = OperandTraffic(*(groups * x for x in counts))
        stall_total = stall_total + (traffic[operand].dram_read_bits
                                     + traffic[operand].dram_write_bits) * ratio  # fmt: skip
    if resident is not None and np.any(resident.extra_dram_elements):
        extra = resident.extra_dram_elements * widths.a
        t = traffic[Operand.INPUT]
        traffic[Operand.INPUT] = t._replace(
            sram_write_bits=t.sram_write_bits + extra, dram_read_bits=t.dram_read_bits + extra
        )
        stall_total = stall_total + extra
    total = stall_total
    phase1 = groups * phase1
    return MemoryTraffic(
        input=traffic[Operand.INPUT],
        weight=traffic[Operand.WEIGHT],
        output=traffic[Operand.OUTPUT],
        first_load_bits=np.broadcast_to(first_load, np.shape(total)),
        last_store_bits=np.broadcast_to(last_store, np.shape(total)),
        phase1_bits=phase1,
        phase2_bits=total - phase1,
    )


def stall_cycles(
    hw: ConfigColumns, ly: LayerColumns, timing: DenseTiming, traffic: MemoryTraffic
) -> np.ndarray:
    """Cycles the array waits on DRAM, ``int64`` (formula in the module docstring).

    ``traffic`` and ``timing`` are the layers' on the same configs; the configs give the
    fold schedule, the DRAM bandwidth and whether the SRAMs prefetch (double buffering).
    """
    rows, cols = (np.asarray(x, np.int64) for x in (hw.rows, hw.cols))
    schedule, double_buffered = hw.schedule, hw.double_buffered
    dram_bits_per_cycle = hw.dram_bytes_per_cycle * 8
    lp = _loops(timing, rows, cols, hw.dataflow)
    overlapped = np.asarray(schedule) == SCHEDULE_CODES[FoldSchedule.OVERLAPPED]
    # Phase 1 is the first column block of every group, a 1/Fo share of the folds (and
    # the one exposed preload of the overlapped schedule).
    first = np.where(overlapped, timing.preload_cycles, 0)
    folds_cycles = timing.compute_cycles - first
    c1 = first + folds_cycles / lp.outer_folds
    c2 = folds_cycles - folds_cycles / lp.outer_folds
    bw = np.asarray(dram_bits_per_cycle, dtype=np.float64)
    single_outer = lp.outer_folds == 1
    d1 = traffic.phase1_bits - traffic.first_load_bits
    d1 = d1 - np.where(single_outer, traffic.last_store_bits, 0)
    d2 = traffic.phase2_bits - np.where(single_outer, 0, traffic.last_store_bits)
    exposed = (traffic.first_load_bits + traffic.last_store_bits) / bw
    overlapping = exposed + np.maximum(0.0, d1 / bw - c1) + np.maximum(0.0, d2 / bw - c2)
    serial = (traffic.phase1_bits + traffic.phase2_bits) / bw
    stall = np.where(np.asarray(double_buffered, dtype=bool), overlapping, serial)
    # Rounding before the ceiling keeps float noise (7.000000001) from adding a cycle.
    return np.ceil(np.round(stall, 6)).astype(np.int64)


def sram_port_bits(hw: ConfigColumns) -> dict[Operand, np.ndarray]:
    """Width in bits of the array-side SRAM port of each operand's buffer (hardware: the
    same for every layer).

    An input port carries one element per array row or column on the edge its operand
    enters (:meth:`simulator.model.mapping.DataflowMap.edge`): os and ws feed inputs on
    the ``rows`` edge and weights on the ``cols`` edge (streamed in os, preloaded a row
    per cycle in ws); is preloads inputs a row per cycle (``cols`` wide) and streams
    weights on the ``rows`` edge. The weight port is ``max(weight_bits,
    activation_bits)`` wide, since attention matmuls stream an activation through it.
    The output buffer has a write port and a read port (partial sums back, results
    out), each ``cols x accumulator_bits``.
    """
    rows, cols, dataflow = (np.asarray(x, np.int64) for x in (hw.rows, hw.cols, hw.dataflow))
    element_bits = {
        Operand.INPUT: hw.a_bits,
        Operand.WEIGHT: np.maximum(hw.w_bits, hw.a_bits),
        Operand.OUTPUT: hw.acc_bits,
    }
    ports = {}
    for j, operand in enumerate(Operand):
        elements = np.where(OPERAND_EDGES[dataflow, j] == Edge.ROWS, rows, cols)
        ports[operand] = elements * element_bits[operand]
    return ports
