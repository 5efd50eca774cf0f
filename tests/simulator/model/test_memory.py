"""Memory traffic and DRAM stalls: hand-worked cases, the SCALE-Sim oracle, invariants."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import AcceleratorConfig, Conv2d, Gemm, Layer, Workload, simulate
from simulator.config import Dataflow
from simulator.model.mapping import OPERAND_ROLES, Operand, Role, dataflow_code
from simulator.workloads.scalesim import load_scalesim_cfg, load_scalesim_topology
from tests.conftest import DATA
from tests.simulator.config_helpers import roomy_config
from tests.simulator.model.arrays import stall_arrays, timing_arrays, traffic_arrays

HUGE = 1 << 40  # bytes: every operand fits


def traffic(
    m, n, k, rows, cols, dataflow, usable_bytes=HUGE, bits=(8, 8, 32, 8), groups=1, limit=0
):
    """Traffic of one GEMM with ``usable_bytes`` resident capacity in every buffer (or a
    per-operand mapping) and stream tiles of at most ``limit`` vectors (0: untiled)."""
    a, b, acc, out = bits
    code = dataflow_code(dataflow)
    timing = timing_arrays(m, n, k, groups, rows, cols, code, 0, limit)
    if not isinstance(usable_bytes, dict):
        usable_bytes = dict.fromkeys(Operand, usable_bytes)
    usable = {op: usable_bytes[op] * 8 for op in Operand}
    return traffic_arrays(m, n, k, groups, a, b, acc, out, rows, cols, code, usable, timing)


def one_layer(m, n, k, **config) -> tuple[Workload, AcceleratorConfig]:
    return Workload("w", (Layer("g", Gemm(m, n, k)),)), AcceleratorConfig(**config)


# ---- roles and hand-worked cases -------------------------------------------------------


def test_roles_follow_the_loop_nest():
    roles = OPERAND_ROLES
    by_df = {df: dict(zip(Operand, roles[dataflow_code(df)], strict=True)) for df in Dataflow}
    # os: outer over n (column folds), inner over m: a weight block reused by the row
    # folds, A re-streamed for every column block.
    assert by_df[Dataflow.OS] == {
        Operand.INPUT: Role.INNER_ONLY,
        Operand.WEIGHT: Role.OUTER_ONLY,
        Operand.OUTPUT: Role.BOTH,
    }
    # ws: outer over n, inner over k: A re-streamed per column block, C accumulates.
    assert by_df[Dataflow.WS] == {
        Operand.INPUT: Role.INNER_ONLY,
        Operand.WEIGHT: Role.BOTH,
        Operand.OUTPUT: Role.OUTER_ONLY,
    }
    assert by_df[Dataflow.IS] == {
        Operand.INPUT: Role.BOTH,
        Operand.WEIGHT: Role.INNER_ONLY,
        Operand.OUTPUT: Role.OUTER_ONLY,
    }


def test_ws_psums_written_and_read_back_per_row_fold_and_spilled_when_too_big():
    # ws on 4x4: k=10 -> 3 row folds, n=6 -> 2 column folds, m=5 streamed.
    t = traffic(5, 6, 10, 4, 4, "ws")
    assert int(t.output.array_writes) == 5 * 6 * 3  # a psum write per row fold
    assert int(t.output.array_reads) == 5 * 6 * 2  # read back before every fold but the first
    assert int(t.output.dram_write_bits) == 5 * 6 * 8  # only final outputs, at 8 bits
    assert int(t.output.dram_read_bits) == 0
    assert int(t.input.array_reads) == 5 * 10 * 2  # A re-streamed per column fold
    assert int(t.weight.array_reads) == 6 * 10  # every weight once
    # 40 usable bits: an output block is 5 x 4 psums x 32 bits = 640 bits (the last block
    # 5 x 2 = 320 bits): the excess spills after each fold but the last and comes back.
    t = traffic(5, 6, 10, 4, 4, "ws", usable_bytes=5)
    spill = (3 - 1) * ((640 - 40) + (320 - 40))
    assert int(t.output.dram_read_bits) == spill
    assert int(t.output.dram_write_bits) == 5 * 6 * 8 + spill
    # A (5 x 10 bytes = 400 bits) re-streamed twice with 40 bits resident.
    assert int(t.input.dram_read_bits) == 400 + (2 - 1) * (400 - 40)


def test_os_reuses_a_weight_block_across_row_folds():
    # os 4x4: n=6 -> column blocks of 4 and 2, m=8 -> 2 row folds, k=3 streamed.
    t = traffic(8, 6, 3, 4, 4, "os", usable_bytes=2)  # 16 usable bits
    blocks = [3 * 4 * 8, 3 * 2 * 8]  # 96 and 48 bits of weights
    assert int(t.weight.dram_read_bits) == 3 * 6 * 8 + (2 - 1) * sum(x - 16 for x in blocks)
    # A (8 x 3 x 8 bits = 192) is needed in both column blocks: 176 bits re-fetched.
    assert int(t.input.dram_read_bits) == 192 + (2 - 1) * (192 - 16)
    assert int(t.output.array_writes) == 8 * 6 and int(t.output.array_reads) == 0


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 200),
    st.integers(1, 200),
    st.integers(1, 200),
    st.integers(1, 3),
    st.integers(1, 32),
    st.integers(1, 32),
    st.sampled_from(["os", "ws", "is"]),
)
def test_a_layer_that_fits_reads_each_operand_from_dram_once(m, n, k, g, rows, cols, df):
    t = traffic(m, n, k, rows, cols, df, groups=g, bits=(8, 4, 32, 8))
    assert int(t.input.dram_read_bits) == g * m * k * 8
    assert int(t.weight.dram_read_bits) == g * k * n * 4
    assert int(t.output.dram_write_bits) == g * m * n * 8
    assert int(t.output.dram_read_bits) == 0


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 300),
    st.integers(1, 300),
    st.integers(1, 300),
    st.integers(1, 32),
    st.integers(1, 32),
    st.sampled_from(["os", "ws", "is"]),
    st.integers(0, 20_000),
    st.integers(1, 20_000),
)
def test_more_capacity_never_adds_dram_traffic(m, n, k, rows, cols, df, small, extra):
    less = traffic(m, n, k, rows, cols, df, usable_bytes=small)
    more = traffic(m, n, k, rows, cols, df, usable_bytes=small + extra)
    assert int(more.dram_bits) <= int(less.dram_bits)
    # The array-side accesses do not depend on capacity at all.
    for op in Operand:
        assert int(more.operands[op].array_reads) == int(less.operands[op].array_reads)


# ---- SCALE-Sim's SRAM and DRAM columns --------------------------------------------------


def _oracle_rows():
    with (DATA / "scalesim" / "results.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "row", _oracle_rows(), ids=lambda r: f"{r['layer']}-{r['array_rows']}-{r['dataflow']}"
)
def test_access_counts_against_scalesim(row):
    """Column by column:

    - ``sram_ifmap_reads``, ``sram_filter_reads``: equal on every row.
    - ``sram_ofmap_writes``: equal in ws and is (a psum write per row fold); in os SCALE-Sim
      adds ``R + C`` per fold from its skewed drain matrix, which sparsa does not follow
      (it counts one write per output).
    - ``dram_*``: SCALE-Sim's CALC-mode fill model (10 words/cycle, its own prefetch
      windows) is indicative only. sparsa reads an operand that fits its half buffer once,
      so wherever SCALE-Sim reads an input operand exactly once ours are equal, and ours
      never read more than SCALE-Sim's; for outputs SCALE-Sim writes every partial sum
      to DRAM (ws/is ``dram_ofmap_writes`` ~ ``sram_ofmap_writes``), sparsa only final
      outputs plus the partial sums that do not fit.
    """
    config = load_scalesim_cfg(DATA / "scalesim" / "configs" / row["config_file"])
    workload = load_scalesim_topology(DATA / "scalesim" / "topologies" / row["topology_file"])
    layer = simulate(workload, config.replace(activation_bits=8, weight_bits=8)).layers[0]
    mem = layer.memory
    assert mem.input.sram_reads == int(row["sram_ifmap_reads"])
    assert mem.weight.sram_reads == int(row["sram_filter_reads"])
    folds = layer.row_folds * layer.col_folds
    quirk = folds * (config.rows + config.cols) if config.dataflow is Dataflow.OS else 0
    assert mem.output.sram_writes + quirk == int(row["sram_ofmap_writes"])

    m, n, k = layer.m, layer.n, layer.k
    for ours, theirs, size in (
        (mem.input.dram_read_bytes, int(row["dram_ifmap_reads"]), m * k),
        (mem.weight.dram_read_bytes, int(row["dram_filter_reads"]), k * n),
    ):
        assert size <= ours <= max(theirs, size)
        if theirs == size:
            assert ours == size
    if config.dataflow is Dataflow.OS:
        assert mem.output.dram_write_bytes == m * n
    else:
        assert mem.output.dram_write_bytes <= int(row["dram_ofmap_writes"]) * 4  # 32-bit psums


# ---- stalls ---------------------------------------------------------------------------

configs = st.builds(
    roomy_config,
    rows=st.integers(1, 64),
    cols=st.integers(1, 64),
    dataflow=st.sampled_from(["os", "ws", "is"]),
    fold_schedule=st.sampled_from(["sequential", "overlapped"]),
    ifmap_sram_bytes=st.integers(64, 1 << 20),
    filter_sram_bytes=st.integers(64, 1 << 20),
    ofmap_sram_bytes=st.integers(64, 1 << 20),
    dram_bytes_per_cycle=st.floats(0.25, 256),
    sram_double_buffered=st.booleans(),
    accumulator_bits=st.sampled_from([16, 24, 32]),
    stream_tiling=st.sampled_from(["none", "fit"]),
)
shapes = st.tuples(st.integers(1, 400), st.integers(1, 400), st.integers(1, 400))


@settings(max_examples=200, deadline=None)
@given(shapes, configs, st.floats(1.0, 16.0))
def test_more_bandwidth_never_adds_cycles_and_stalls_are_never_negative(shape, config, factor):
    wl = Workload("w", (Layer("g", Gemm(*shape)),))
    slow = simulate(wl, config).layers[0]
    fast = simulate(wl, config.replace(dram_bytes_per_cycle=config.dram_bytes_per_cycle * factor))
    fast = fast.layers[0]
    assert 0 <= fast.cycles.stall <= slow.cycles.stall
    assert fast.cycles.total <= slow.cycles.total
    assert slow.cycles.total == slow.cycles.compute + slow.cycles.stall
    # Never faster than moving the DRAM bytes at the full bandwidth.
    assert slow.cycles.total >= slow.memory.dram_bytes / config.dram_bytes_per_cycle - 1e-6


def test_doubling_bandwidth_on_a_memory_bound_layer():
    # A GEMV on ws streams every weight once and reuses nothing: DRAM-bound. 1 MiB of
    # weights at 4 B/cycle is 262k cycles against 97k of compute.
    wl, config = one_layer(1, 1024, 1024, rows=32, cols=32, dram_bytes_per_cycle=4.0)
    slow = simulate(wl, config).layers[0]
    assert slow.cycles.compute == 32 * 32 * (2 * 32 + 32 + 1 - 2)
    assert slow.roofline.bound == "dram"
    assert slow.cycles.total == pytest.approx(slow.memory.dram_bytes / 4, rel=0.01)
    # Twice the bandwidth: still DRAM-bound, half the time.
    fast = simulate(wl, config.replace(dram_bytes_per_cycle=8.0)).layers[0]
    assert fast.cycles.total == pytest.approx(slow.cycles.total / 2, rel=0.01)
    assert fast.cycles.stall < slow.cycles.stall
    # Twice again: the traffic hides under compute; only the exposed first load (the
    # first fold's 32 inputs and 32 x 32 weights) and last store (32 outputs) remain.
    faster = simulate(wl, config.replace(dram_bytes_per_cycle=16.0)).layers[0]
    assert faster.cycles.stall == math.ceil((32 + 32 * 32 + 32) / 16)


def test_exposed_first_load_by_hand():
    # os 4x4 GEMM 4x4x8: one fold; first load = A block 4x8 + B block 8x4 (bytes), last
    # store = the 4x4 output bytes; at 2 bytes/cycle: (32 + 32 + 16) / 2 = 40 cycles.
    wl, config = one_layer(4, 4, 8, rows=4, cols=4, dataflow="os", dram_bytes_per_cycle=2.0)
    layer = simulate(wl, config).layers[0]
    assert layer.cycles.compute == 4 + 4 + 8 - 2
    assert layer.cycles.stall == 40


def test_without_double_buffering_nothing_overlaps():
    wl, config = one_layer(300, 200, 100, rows=16, cols=16, dram_bytes_per_cycle=3.0)
    single = simulate(wl, config.replace(sram_double_buffered=False)).layers[0]
    assert single.cycles.stall == math.ceil(single.memory.dram_bytes / 3.0)
    double = simulate(wl, config).layers[0]
    assert double.cycles.stall < single.cycles.stall


def test_stalls_vectorize_over_configs():
    t = timing_arrays(100, 50, 70, 1, np.array([[4], [8]]), 8, dataflow_code("ws"), 0)
    usable = {op: np.array([[100], [1_000_000]]) for op in Operand}
    tr = traffic_arrays(100, 50, 70, 1, 8, 8, 32, 8, np.array([[4], [8]]), 8, 1, usable, t)
    stall = stall_arrays(tr, t, 1, np.array([[4], [8]]), 8, 0, 16.0, True)
    assert stall.shape == (2, 1)
    for i, rows in enumerate((4, 8)):
        ti = timing_arrays(100, 50, 70, 1, rows, 8, 1, 0)
        ui = {op: usable[op][i, 0] for op in Operand}
        tri = traffic_arrays(100, 50, 70, 1, 8, 8, 32, 8, rows, 8, 1, ui, ti)
        assert stall[i, 0] == stall_arrays(tri, ti, 1, rows, 8, 0, 16.0, True)


def test_a_convolution_reads_its_feature_map_not_its_im2col_matrix():
    conv = Layer("c", Conv2d(h=16, w=16, c=8, k=16, r=3, s=3, padding=1))
    config = AcceleratorConfig(rows=8, cols=8, ifmap_sram_bytes=1 << 20)
    layer = simulate(Workload("c", (conv,)), config).layers[0]
    assert (layer.m, layer.n, layer.k) == (256, 16, 72)
    assert layer.memory.input.dram_read_bytes == 16 * 16 * 8  # the feature map, once
    assert layer.memory.input.sram_reads == 256 * 72 * 2  # im2col elements, per column fold
    # A strided 1x1 conv samples a quarter of the pixels: only those are fetched.
    strided = Layer("s", Conv2d(h=8, w=8, c=4, k=4, r=1, s=1, stride=2))
    layer = simulate(Workload("s", (strided,)), config).layers[0]
    assert layer.memory.input.dram_read_bytes == layer.m * layer.k == 4 * 4 * 4
    # Too small a buffer: the feature map, not the 9x larger im2col matrix, is re-fetched.
    small = simulate(Workload("c", (conv,)), config.replace(ifmap_sram_bytes=1024)).layers[0]
    assert small.memory.input.dram_read_bytes == 2048 + (2 - 1) * (2048 - 512)


# ---- stream tiling ----------------------------------------------------------------------


def _pieces(extent: int, side: int) -> list[range]:
    return [range(lo, min(lo + side, extent)) for lo in range(0, extent, side)]


def reference_traffic(m, n, k, rows, cols, dataflow, limit, usable_bits, bits):
    """The loop nest walked fold by fold, for differential tests (plain Python).

    Each operand's tiles are traced in fold order. The residency policy of the model
    (keep ``U`` of a unit's ``S`` bits resident, refetch the rest) is applied on every
    reuse of a tile, with the unit taken from the trace: every tile of the operand touched
    since the tile's previous use. Returns per operand ``array_reads``, ``array_writes``
    (outputs) and the refetched DRAM bits (for outputs: the partial sums spilled).
    """
    dims = {"m": m, "n": n, "k": k}
    row_dim, col_dim, stream_dim = {"os": "mnk", "ws": "knm", "is": "kmn"}[dataflow]
    row_blocks, col_blocks = _pieces(dims[row_dim], rows), _pieces(dims[col_dim], cols)
    tile = dims[stream_dim]
    if dataflow != "os" and len(row_blocks) > 1 and 0 < limit < tile:
        tile = limit
    operands = {Operand.INPUT: "mk", Operand.WEIGHT: "kn", Operand.OUTPUT: "mn"}
    traces = {op: [] for op in Operand}
    for o, cb in enumerate(col_blocks):
        for s, sb in enumerate(_pieces(dims[stream_dim], tile)):
            for i, rb in enumerate(row_blocks):
                where = {row_dim: (i, rb), col_dim: (o, cb), stream_dim: (s, sb)}
                for op, spans in operands.items():
                    key = tuple(where[d][0] for d in spans)
                    traces[op].append((key, len(where[spans[0]][1]) * len(where[spans[1]][1])))
    out = {}
    for op, trace in traces.items():
        size = dict(trace)
        last_use, refetch, reuses = {}, 0.0, 0
        for p, (key, elems) in enumerate(trace):
            if key in last_use:
                reuses += elems
                unit = sum(size[x] for x in {x for x, _ in trace[last_use[key] : p]})
                unit_bits = unit * bits[op]
                refetch += elems * bits[op] * max(0.0, 1 - usable_bits[op] / unit_bits)
            last_use[key] = p
        touched = sum(e for _, e in trace)
        out[op] = (touched, reuses, refetch)
    return out


@settings(max_examples=120, deadline=None)
@given(
    st.integers(1, 24),
    st.integers(1, 24),
    st.integers(1, 24),
    st.integers(1, 6),
    st.integers(1, 6),
    st.sampled_from(["os", "ws", "is"]),
    st.integers(0, 30),
    st.tuples(*[st.integers(0, 2000)] * 3),
    st.booleans(),
)
def test_traffic_equals_the_loop_nest_walked_fold_by_fold(
    m, n, k, rows, cols, df, limit, usable, tiled
):
    """``limit = 0`` is the untiled model (``stream_tiling: none``), the rest tiles."""
    limit = limit if tiled else 0
    bits = {Operand.INPUT: 8, Operand.WEIGHT: 4, Operand.OUTPUT: 24}
    usable_bits = dict(zip(Operand, usable, strict=True))
    t = traffic(
        m, n, k, rows, cols, df, {op: u / 8 for op, u in usable_bits.items()},
        bits=(8, 4, 24, 8), limit=limit,
    )  # fmt: skip
    ref = reference_traffic(m, n, k, rows, cols, df, limit, usable_bits, bits)
    for op in (Operand.INPUT, Operand.WEIGHT):
        touched, _, refetch = ref[op]
        assert int(t.operands[op].array_reads) == touched
        expected = (m * k if op is Operand.INPUT else k * n) * bits[op] + refetch
        assert float(t.operands[op].dram_read_bits) == pytest.approx(expected, rel=1e-9)
    touched, reuses, spill = ref[Operand.OUTPUT]
    assert int(t.output.array_writes) == touched
    assert int(t.output.array_reads) == reuses
    assert float(t.output.dram_read_bits) == pytest.approx(spill, rel=1e-9, abs=1e-9)
    assert float(t.output.dram_write_bits) == pytest.approx(m * n * 8 + spill, rel=1e-9)


def test_ws_stream_tiles_by_hand():
    # ws on 16 rows x 4 cols: k=64 -> Fi=4 row folds, n=4 -> Fo=1, m=5 streamed.
    # 64 usable bytes (512 bits) per buffer; 32-bit psums: Ts = 512 / (4 x 32) = 4, so
    # m is streamed as tiles of 4 and 1 vectors (nt = 2).
    none = traffic(5, 4, 64, 16, 4, "ws", usable_bytes=64)
    fit = traffic(5, 4, 64, 16, 4, "ws", usable_bytes=64, limit=4)
    # Untiled: the 5 x 4 psum block (640 bits) exceeds 512 by 128, spilled after each of
    # the first 3 row folds and read back before each of the last 3.
    assert int(none.output.dram_read_bits) == 3 * 128
    assert int(none.output.dram_write_bits) == 5 * 4 * 8 + 3 * 128
    # Tiled: blocks of 4 x 4 (512 bits) and 1 x 4: they fit, nothing spills.
    assert int(fit.output.dram_read_bits) == 0
    assert int(fit.output.dram_write_bits) == 5 * 4 * 8
    # The array still writes every psum once per row fold and reads it back 3 times.
    assert int(fit.output.array_writes) == int(none.output.array_writes) == 5 * 4 * 4
    assert int(fit.output.array_reads) == int(none.output.array_reads) == 5 * 4 * 3
    # Weights (the stationary operand) are preloaded once per stream tile: twice.
    assert int(none.weight.array_reads) == 64 * 4
    assert int(fit.weight.array_reads) == 2 * 64 * 4
    # The column block's weight slab (64 x 4 x 8 = 2048 bits) keeps 512 bits resident:
    # the second stream tile refetches 1536 bits.
    assert int(none.weight.dram_read_bits) == 2048
    assert int(fit.weight.dram_read_bits) == 2048 + (2 - 1) * (2048 - 512)
    # The streamed inputs are read the same: once by the array per column fold, once
    # from DRAM (Fo = 1, no re-streaming).
    assert int(fit.input.array_reads) == int(none.input.array_reads) == 5 * 64
    assert int(fit.input.dram_read_bits) == int(none.input.dram_read_bits) == 5 * 64 * 8
    # First load: the first fold's 16 x 4 weights and 4 x 16 inputs of the first tile
    # (untiled: all 5 rows); last store: the last tile's 1 x 4 outputs (untiled: 5 x 4).
    assert int(fit.first_load_bits) == (16 * 4 + 4 * 16) * 8
    assert int(none.first_load_bits) == (16 * 4 + 5 * 16) * 8
    assert (int(fit.last_store_bits), int(none.last_store_bits)) == (1 * 4 * 8, 5 * 4 * 8)
    # This is also where fit moves MORE DRAM bytes than none: the weight refetch (1536
    # bits) outweighs the spills saved (2 x 384 bits).
    assert int(fit.dram_bits) - int(none.dram_bits) == 1536 - 2 * 384


fit_configs = st.builds(
    roomy_config,
    rows=st.integers(1, 64),
    cols=st.integers(1, 64),
    dataflow=st.sampled_from(["ws", "is"]),
    fold_schedule=st.sampled_from(["sequential", "overlapped"]),
    ifmap_sram_bytes=st.integers(64, 1 << 20),
    filter_sram_bytes=st.integers(64, 1 << 20),
    ofmap_sram_bytes=st.integers(64, 1 << 20),
    sram_double_buffered=st.booleans(),
    accumulator_bits=st.sampled_from([16, 24, 32]),
    stream_tiling=st.just("fit"),
)


def _usable_bits(config: AcceleratorConfig, sram_bytes: int) -> int:
    return sram_bytes * 8 // (2 if config.sram_double_buffered else 1)


@settings(max_examples=200, deadline=None)
@given(shapes, fit_configs)
def test_fit_never_spills_partial_sums_and_never_adds_psum_traffic(shape, config):
    wl = Workload("w", (Layer("g", Gemm(*shape)),))
    fit = simulate(wl, config).layers[0]
    none = simulate(wl, config.replace(stream_tiling="none")).layers[0]
    one_vector = config.cols * config.accumulator_bits
    if one_vector <= _usable_bits(config, config.ofmap_sram_bytes):
        assert fit.memory.output.dram_read_bytes == 0
        assert fit.memory.output.dram_write_bytes == shape[0] * shape[1]  # final outputs
    assert fit.memory.output.dram_bytes <= none.memory.output.dram_bytes
    # The streamed operand's traffic does not change; the array-side output counts neither.
    streamed = "input" if config.dataflow == "ws" else "weight"
    assert getattr(fit.memory, streamed) == getattr(none.memory, streamed)
    assert fit.memory.output.sram_reads == none.memory.output.sram_reads
    assert fit.memory.output.sram_writes == none.memory.output.sram_writes


@settings(max_examples=200, deadline=None)
@given(shapes, fit_configs)
def test_fit_moves_no_more_dram_bytes_when_the_stationary_slab_fits(shape, config):
    """fit trades psum spills for stationary refetches; with no refetch it only saves.

    Not true in general: see ``test_ws_stream_tiles_by_hand`` for a layer where the
    stationary slab does not fit and fit moves more DRAM bytes than none.
    """
    m, n, k = shape
    ws = config.dataflow == "ws"
    slab = min(config.cols, n if ws else m) * k * 8  # one column block's stationary tiles
    usable = _usable_bits(config, config.filter_sram_bytes if ws else config.ifmap_sram_bytes)
    wl = Workload("w", (Layer("g", Gemm(*shape)),))
    fit = simulate(wl, config).layers[0]
    none = simulate(wl, config.replace(stream_tiling="none")).layers[0]
    if slab <= usable:
        assert fit.memory.dram_bytes <= none.memory.dram_bytes
        stationary = "weight" if ws else "input"
        assert getattr(fit.memory, stationary).dram_read_bytes == (k * n if ws else m * k)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 300),
    st.integers(1, 300),
    st.integers(1, 300),
    st.integers(1, 32),
    st.integers(1, 32),
    st.sampled_from(["ws", "is"]),
    st.integers(1, 300),
)
def test_with_tiles_an_operand_that_fits_is_read_from_dram_once(m, n, k, rows, cols, df, limit):
    t = traffic(m, n, k, rows, cols, df, bits=(8, 4, 32, 8), limit=limit)
    assert int(t.input.dram_read_bits) == m * k * 8
    assert int(t.weight.dram_read_bits) == k * n * 4
    assert int(t.output.dram_write_bits) == m * n * 8
    assert int(t.output.dram_read_bits) == 0


def test_os_k_tiles_read_the_inputs_once_by_hand():
    # os on 2x2, GEMM m=4, n=4, k=8 at 8 bits, 32-bit sums, single-buffered: a 16-byte
    # input buffer holds 128 bits, a 4 x Ks slab of A takes 32 bits per k column: Ks = 4,
    # nt = 2. Untiled, A (256 bits) is streamed by both column blocks and 128 bits of it
    # are refetched; C (16 x 32 bits) fits the 64-byte output buffer, so tiling spills
    # nothing and is used.
    from simulator import AcceleratorConfig, Gemm, Layer, Workload, simulate

    workload = Workload("g", (Layer("g", Gemm(m=4, n=4, k=8)),))
    base = AcceleratorConfig(
        rows=2, cols=2, dataflow="os", ifmap_sram_bytes=16, ofmap_sram_bytes=64,
        sram_double_buffered=False,
    )  # fmt: skip
    none = simulate(workload, base).layers[0]
    fit = simulate(workload, base.replace(stream_tiling="fit")).layers[0]
    assert (none.stream_tiles, fit.stream_tiles) == (1, 2)
    # 4 fold positions of (R + C - 2) + T = 2 + 8 untiled; a fill and drain per k tile.
    assert none.cycles.compute == 4 * (2 + 8)
    assert fit.cycles.compute == 4 * (2 * 2 + 8)
    assert none.memory.input.dram_read_bytes == (256 + 128) / 8
    assert fit.memory.input.dram_read_bytes == 256 / 8
    assert fit.memory.weight.dram_read_bytes == none.memory.weight.dram_read_bytes == 32
    # The sums of each k tile are added into the output buffer: 2 writes, 1 read-back each.
    assert (fit.memory.output.sram_writes, fit.memory.output.sram_reads) == (32, 16)
    assert fit.memory.output.dram_write_bytes == none.memory.output.dram_write_bytes == 16
    # An output buffer too small for C makes tiling cost more than it saves: untiled.
    small = simulate(workload, base.replace(stream_tiling="fit", ofmap_sram_bytes=32))
    assert small.layers[0].stream_tiles == 1
