"""Dense timing: hand-worked cases, every SCALE-Sim oracle row, and invariants."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import AcceleratorConfig, Gemm, Layer, Workload, simulate
from simulator.config import FoldSchedule
from simulator.model.columns import ConfigColumns, LayerColumns
from simulator.model.mapping import dataflow_code
from simulator.model.timing import SCHEDULE_CODES, dense_timing
from simulator.workloads.scalesim import load_scalesim_cfg, load_scalesim_topology
from tests.conftest import DATA
from tests.simulator.model.arrays import timing_arrays

SEQ = SCHEDULE_CODES[FoldSchedule.SEQUENTIAL]
OVL = SCHEDULE_CODES[FoldSchedule.OVERLAPPED]


def cycles(m, n, k, rows, cols, dataflow, schedule=SEQ, groups=1):
    t = timing_arrays(m, n, k, groups, rows, cols, dataflow_code(dataflow), schedule)
    return int(t.compute_cycles), int(t.scalesim_cycles)


# ---- hand-worked cases -------------------------------------------------------------


def test_os_partial_row_fold():
    # os: rows <- M=5 -> 2 folds (4 + 1 partial), cols <- N=3 -> 1 fold, T = K = 7.
    # Each fold: skew + T + (C-1) drain = 3 + 7 + 3 = 13; two folds = 26.
    assert cycles(5, 3, 7, 4, 4, "os") == (26, 25)


def test_ws_non_square_array():
    # ws on 2 rows x 3 cols: rows <- K=3 -> 2 folds, cols <- N=5 -> 2 folds, T = M = 4.
    # Fold: preload R=2, then (R-1) + T + (C-1) = 1 + 4 + 2 = 7, so 9 per fold, 4 folds.
    assert cycles(4, 5, 3, 2, 3, "ws") == (36, 35)
    # Overlapped: only the first preload shows: 2 + 4 * 7.
    assert cycles(4, 5, 3, 2, 3, "ws", OVL)[0] == 30


def test_is_non_square_array():
    # is on 3 rows x 2 cols: rows <- K=4 -> 2 folds, cols <- M=1 -> 1, T = N = 6.
    # Fold: preload 3 + (2 + 6 + 1) = 12; two folds = 24.
    assert cycles(1, 6, 4, 3, 2, "is") == (24, 23)


def test_gemv_m_equals_1_on_os():
    # os, 4x4, M=1: one row fold (1 of 4 rows used), N=8 -> 2 col folds, T = K = 10.
    assert cycles(1, 8, 10, 4, 4, "os") == (2 * (3 + 10 + 3), 31)


def test_single_mac():
    # M = N = K = 1 on a 1x1 array: os has no preload and no skew: one cycle.
    assert cycles(1, 1, 1, 1, 1, "os") == (1, 0)
    # ws preloads the single weight first.
    assert cycles(1, 1, 1, 1, 1, "ws") == (2, 1)


def test_groups_run_back_to_back():
    # A depthwise-like layer: 3 groups of m=4, n=1, k=9 on 4x4 ws.
    # Per group: rows <- 9 -> 3 folds, cols <- 1 -> 1, T = 4: fold = 4 + (3 + 4 + 3) = 14.
    per_group = 3 * 14
    compute, scalesim = cycles(4, 1, 9, 4, 4, "ws", groups=3)
    assert compute == 3 * per_group
    assert scalesim == 3 * per_group - 3  # SCALE-Sim reports each channel as its own layer
    # Overlapped: one exposed preload for the whole layer.
    assert cycles(4, 1, 9, 4, 4, "ws", OVL, groups=3)[0] == 4 + 9 * 10


def test_mapping_efficiency_closed_form():
    t = timing_arrays(5, 3, 7, 1, 4, 4, dataflow_code("os"), SEQ)
    # Fold 1 uses 4x3 PEs, fold 2 uses 1x3: mean (12 + 3) / 2 / 16.
    assert float(t.mapping_efficiency) == pytest.approx((12 + 3) / 2 / 16)


# ---- the SCALE-Sim 3.0.0 oracle ----------------------------------------------------


def _oracle_rows():
    with (DATA / "scalesim" / "results.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "row", _oracle_rows(), ids=lambda r: f"{r['layer']}-{r['array_rows']}-{r['dataflow']}"
)
def test_scalesim_oracle_row(row):
    """Every oracle row, read through the same files SCALE-Sim read."""
    config = load_scalesim_cfg(DATA / "scalesim" / "configs" / row["config_file"])
    workload = load_scalesim_topology(DATA / "scalesim" / "topologies" / row["topology_file"])
    assert (config.rows, config.cols, config.dataflow.value) == (
        int(row["array_rows"]),
        int(row["array_cols"]),
        row["dataflow"],
    )
    result = simulate(workload, config)
    layer = result.layers[0]
    assert (layer.m, layer.n, layer.k) == (
        int(row["M_ofmap_px"]),
        int(row["N_filters"]),
        int(row["K_window"]),
    )
    assert layer.cycles.scalesim_total == int(row["total_cycles"])
    assert layer.cycles.compute == int(row["total_cycles"]) + 1
    assert layer.mapping_efficiency * 100 == pytest.approx(float(row["mapping_eff_pct"]))


def test_oracle_covers_all_three_dataflows():
    rows = _oracle_rows()
    assert {r["dataflow"] for r in rows} == {"os", "ws", "is"}
    assert len(rows) == 55


# ---- invariants -----------------------------------------------------------------------

dims = st.integers(1, 300)
sides = st.integers(1, 64)
dataflows = st.sampled_from(["os", "ws", "is"])
schedules = st.sampled_from([SEQ, OVL])


@settings(max_examples=300, deadline=None)
@given(dims, dims, dims, st.integers(1, 4), sides, sides, dataflows, schedules)
def test_cycles_at_least_macs_over_pes(m, n, k, g, rows, cols, df, sched):
    compute, _ = cycles(m, n, k, rows, cols, df, sched, groups=g)
    assert compute >= math.ceil(m * n * k * g / (rows * cols))


@settings(max_examples=300, deadline=None)
@given(dims, dims, dims, sides, sides, dataflows, schedules, st.sampled_from([0, 1, 2]))
def test_cycles_never_drop_when_the_gemm_grows(m, n, k, rows, cols, df, sched, axis):
    base = [m, n, k]
    grown = list(base)
    grown[axis] += 1
    assert cycles(*grown, rows, cols, df, sched)[0] >= cycles(*base, rows, cols, df, sched)[0]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 16),
    st.integers(1, 64),
    st.integers(1, 64),
    st.integers(1, 64),
    st.integers(2, 4),
    st.integers(1, 16),
    dataflows,
    schedules,
    st.booleans(),
)
def test_shrinking_a_folded_dimension_never_saves_cycles(
    folds, other, t, side, factor, keep, df, sched, shrink_rows
):
    """With whole folds (the folded dimension a multiple of the array side), shrinking
    that side by an integer factor multiplies the folds and never saves cycles."""
    rows, cols = (side * factor, keep) if shrink_rows else (keep, side * factor)
    spread = folds * side * factor  # the dimension mapped onto the shrinking side
    mapping = {"os": ("m", "n", "k"), "ws": ("k", "n", "m"), "is": ("k", "m", "n")}[df]
    row_dim, col_dim, stream_dim = mapping
    shape = {row_dim: other, col_dim: other, stream_dim: t}
    shape[row_dim if shrink_rows else col_dim] = spread
    small_rows, small_cols = (side, cols) if shrink_rows else (rows, side)
    code = dataflow_code(df)
    big = timing_arrays(shape["m"], shape["n"], shape["k"], 1, rows, cols, code, sched)
    small = timing_arrays(
        shape["m"], shape["n"], shape["k"], 1, small_rows, small_cols, code, sched
    )
    if sched == SEQ:
        assert small.compute_cycles >= big.compute_cycles
    else:
        # Overlapped: a smaller array also has a shorter exposed first preload, so only
        # the steady-state part (all folds' passes) is guaranteed not to shrink.
        steady_small = small.compute_cycles - small.preload_cycles
        assert steady_small >= big.compute_cycles - big.preload_cycles


def test_shrinking_with_partial_folds_can_save_fill_cycles():
    """SCALE-Sim semantics: a fold costs its full fill and drain, which scale with the
    array side, so 30 rows on 15 rows (2 full folds) beat 16 rows (one partial fold)."""
    assert cycles(30, 8, 8, 15, 8, "os")[0] < cycles(30, 8, 8, 16, 8, "os")[0]


@settings(max_examples=200, deadline=None)
@given(dims, dims, dims, st.integers(1, 4), sides, sides, dataflows)
def test_overlap_never_slower_and_scalesim_is_sequential_minus_groups(m, n, k, g, rows, cols, df):
    seq, scalesim = cycles(m, n, k, rows, cols, df, SEQ, groups=g)
    ovl, scalesim_ovl = cycles(m, n, k, rows, cols, df, OVL, groups=g)
    assert ovl <= seq
    assert scalesim == scalesim_ovl == seq - g
    if df == "os":
        assert ovl == seq  # nothing is preloaded in os


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(dims, dims, dims), min_size=2, max_size=8), st.randoms())
def test_results_do_not_depend_on_layer_order(shapes, rnd):
    layers = [Layer(f"l{i}", Gemm(m, n, k)) for i, (m, n, k) in enumerate(shapes)]
    shuffled = list(layers)
    rnd.shuffle(shuffled)
    config = AcceleratorConfig(rows=8, cols=4, dataflow="ws")
    a = simulate(Workload("a", tuple(layers)), config)
    b = simulate(Workload("b", tuple(shuffled)), config)
    assert {layer.name: layer for layer in a.layers} == {layer.name: layer for layer in b.layers}
    assert a.cycles == b.cycles


def test_vectorized_over_configs_equals_one_at_a_time():
    rng = np.random.default_rng(0)
    m, n, k = (rng.integers(1, 500, size=20) for _ in range(3))
    rows = rng.integers(1, 64, size=(7, 1))
    cols = rng.integers(1, 64, size=(7, 1))
    dfs = rng.integers(0, 3, size=(7, 1))
    scheds = rng.integers(0, 2, size=(7, 1))
    batch = timing_arrays(m, n, k, 1, rows, cols, dfs, scheds).compute_cycles
    assert batch.shape == (7, 20)
    for c in range(7):
        for i in range(20):
            one = timing_arrays(
                m[i], n[i], k[i], 1, rows[c, 0], cols[c, 0], dfs[c, 0], scheds[c, 0]
            )
            assert batch[c, i] == one.compute_cycles


def test_timing_over_configs_equals_simulate_per_config():
    wl = Workload(
        "w",
        tuple(
            Layer(f"l{i}", Gemm(m, n, k)) for i, (m, n, k) in enumerate([(7, 9, 11), (1, 64, 3)])
        ),
    )
    configs = [
        AcceleratorConfig(rows=r, cols=c, dataflow=df, fold_schedule=s)
        for r, c, df, s in [
            (4, 4, "os", "sequential"),
            (3, 8, "ws", "overlapped"),
            (16, 2, "is", "sequential"),
        ]
    ]
    configs += [c.replace(stream_tiling="fit", ofmap_sram_bytes=256) for c in configs]
    batch = dense_timing(ConfigColumns.of(configs), LayerColumns.of(wl))
    for i, config in enumerate(configs):
        per_layer = [layer.cycles.compute for layer in simulate(wl, config).layers]
        assert batch.compute_cycles[i].tolist() == per_layer
        one = dense_timing(ConfigColumns.of([config]), LayerColumns.of(wl))
        assert one.compute_cycles[0].tolist() == per_layer
    assert batch.stream_tiles.max() > 1  # the fit configs do tile


# ---- stream tiling ---------------------------------------------------------------------


def tiled(m, n, k, rows, cols, dataflow, limit, schedule=SEQ, groups=1):
    return timing_arrays(m, n, k, groups, rows, cols, dataflow_code(dataflow), schedule, limit)


def test_ws_stream_tiles_by_hand():
    # ws on 2 rows x 3 cols: rows <- K=3 -> Fi=2, cols <- N=5 -> Fo=2, T = M = 7, Ts = 3:
    # tiles of 3, 3 and 1 vectors. A fold of t vectors: preload 2, then 1 + t + 2.
    t = tiled(7, 5, 3, 2, 3, "ws", 3)
    assert (int(t.stream_tiles), int(t.stream_tile)) == (3, 3)
    per_position = (2 + 1 + 3 + 2) * 2 + (2 + 1 + 1 + 2)  # 8 + 8 + 6 = 22
    assert int(t.compute_cycles) == 4 * per_position == 88
    # The closed form G * Fo * Fi * (nt * (P + R + C - 2) + T).
    assert 1 * 2 * 2 * (3 * (2 + 2 + 3 - 2) + 7) == 88
    # Untiled: 4 folds of 2 + (1 + 7 + 2); SCALE-Sim's figure stays the untiled one.
    assert cycles(7, 5, 3, 2, 3, "ws") == (48, 47)
    assert int(t.scalesim_cycles) == 47
    # Overlapped: the first preload, then every fold's pass: 2 + 4 * (6 + 6 + 4).
    assert int(tiled(7, 5, 3, 2, 3, "ws", 3, OVL).compute_cycles) == 2 + 4 * 16 == 66


def test_is_stream_tiles_by_hand():
    # is on 3 rows x 2 cols: rows <- K=4 -> Fi=2, cols <- M=1 -> Fo=1, T = N = 6, Ts = 4:
    # tiles of 4 and 2. Folds: 3 + (2 + 4 + 1) = 10 and 3 + (2 + 2 + 1) = 8, per row fold.
    t = tiled(1, 6, 4, 3, 2, "is", 4, groups=2)
    assert int(t.stream_tiles) == 2
    assert int(t.compute_cycles) == 2 * 2 * (10 + 8) == 72
    assert int(t.compute_cycles) == 2 * 1 * 2 * (2 * (3 + 3 + 2 - 2) + 6)


def test_no_tiling_when_the_tile_covers_the_stream_or_nothing_accumulates():
    base = cycles(7, 5, 3, 2, 3, "ws")[0]
    assert int(tiled(7, 5, 3, 2, 3, "ws", 7).compute_cycles) == base  # Ts >= T
    assert int(tiled(7, 5, 3, 2, 3, "ws", 1000).compute_cycles) == base
    assert int(tiled(7, 5, 3, 2, 3, "ws", 0).compute_cycles) == base  # 0: never tile
    # k = 2 fits the 2 rows (Fi = 1): every output leaves the array complete.
    t = tiled(7, 5, 2, 2, 3, "ws", 3)
    assert int(t.stream_tiles) == 1
    assert int(t.compute_cycles) == cycles(7, 5, 2, 2, 3, "ws")[0]
    # os keeps its partial sums in the PEs and never tiles.
    t = tiled(7, 5, 30, 2, 3, "os", 3)
    assert int(t.stream_tiles) == 1
    assert int(t.compute_cycles) == cycles(7, 5, 30, 2, 3, "os")[0]


limits = st.integers(0, 400)


@settings(max_examples=300, deadline=None)
@given(dims, dims, dims, st.integers(1, 4), sides, sides, dataflows, schedules, limits)
def test_tiled_cycles_follow_the_closed_forms(m, n, k, g, rows, cols, df, sched, limit):
    t = tiled(m, n, k, rows, cols, df, limit, sched, groups=g)
    untiled = tiled(m, n, k, rows, cols, df, 0, sched, groups=g)
    nt, ts, length = int(t.stream_tiles), int(t.stream_tile), int(t.t)
    tiles = df != "os" and int(t.row_folds) > 1 and 0 < limit < length
    assert nt == (math.ceil(length / limit) if tiles else 1)
    assert 1 <= length - (nt - 1) * ts <= ts  # the last tile is 1..Ts vectors
    positions = g * int(t.folds)
    preload = rows if df != "os" else 0
    if sched == SEQ:
        expected = positions * (nt * (preload + rows + cols - 2) + length)
    else:
        expected = preload + positions * (nt * (rows + cols - 2) + length)
    assert int(t.compute_cycles) == expected
    # Tiling never saves compute cycles, and leaves SCALE-Sim's figure and the folds alone.
    assert int(t.compute_cycles) >= int(untiled.compute_cycles)
    assert int(t.compute_cycles) - int(untiled.compute_cycles) == (nt - 1) * positions * (
        rows + cols - 2 + (preload if sched == SEQ else 0)
    )
    assert int(t.scalesim_cycles) == int(untiled.scalesim_cycles)
    assert int(t.folds) == int(untiled.folds)
    assert int(t.compute_cycles) >= math.ceil(m * n * k * g / (rows * cols))


def test_tiling_vectorizes_over_configs():
    rng = np.random.default_rng(1)
    m, n, k = (rng.integers(1, 500, size=20) for _ in range(3))
    rows, cols = rng.integers(1, 64, size=(2, 7, 1))
    dfs, scheds = rng.integers(0, 3, size=(7, 1)), rng.integers(0, 2, size=(7, 1))
    limit = rng.integers(0, 300, size=(7, 1))
    batch = timing_arrays(m, n, k, 1, rows, cols, dfs, scheds, limit)
    for c in range(7):
        for i in range(20):
            one = timing_arrays(
                m[i], n[i], k[i], 1, rows[c, 0], cols[c, 0], dfs[c, 0], scheds[c, 0], limit[c, 0]
            )
            assert batch.compute_cycles[c, i] == one.compute_cycles
            assert batch.stream_tiles[c, i] == one.stream_tiles
