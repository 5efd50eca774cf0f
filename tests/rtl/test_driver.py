"""The GEMM driver: tiling as the model maps it, and the beats it makes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtl.driver import GemmRun
from rtl.functional import run_functional
from rtl.params import RtlParams
from rtl.reference import reference_matmul
from rtl.tiling import GemmTiling
from simulator import AcceleratorConfig, Gemm, Layer, Workload, simulate


def params(dataflow, rows=4, cols=3, acc=20, overflow="wrap", stream_bits=8):
    return RtlParams("t", rows, cols, dataflow, 8, 8, acc, overflow, stream_bits)


def test_ws_tiling_hand_worked():
    # ws on 4x3: rows <- k = 9 (4, 4, 1), cols <- n = 5 (3, 2), t = m = 7.
    tiling = GemmTiling(params("ws"), m=7, n=5, k=9)
    assert tiling.t == 7
    spans = [(f.row_start, f.row_stop, f.col_start, f.col_stop) for f in tiling.folds]
    assert spans == [
        (0, 4, 0, 3), (4, 8, 0, 3), (8, 9, 0, 3),
        (0, 4, 3, 5), (4, 8, 3, 5), (8, 9, 3, 5),
    ]  # fmt: skip
    # Each fold: preload 4 + (4 - 1) + 7 + (3 - 1) = 16; six folds.
    assert (tiling.model_fold_cycles, tiling.model_cycles) == ((16,) * 6, 96)


def test_os_tiling_hand_worked():
    # os on 4x3: rows <- m = 5 (4, 1), cols <- n = 2, t = k = 6; fold 3 + 6 + 2 = 11.
    tiling = GemmTiling(params("os"), m=5, n=2, k=6)
    assert [(f.row_start, f.row_stop) for f in tiling.folds] == [(0, 4), (4, 5)]
    assert (tiling.model_fold_cycles, tiling.model_cycles) == ((11, 11), 22)


def test_ws_stream_tiles_hand_worked():
    # ws on 4x3, m = 7 streamed in tiles of 3 (3, 3, 1) under each column block,
    # k = 9 folded (4, 4, 1), n = 5 (3, 2): 2 x 3 x 3 = 18 folds, column block outermost,
    # then stream tile, then row fold (the model's loop nest).
    tiling = GemmTiling(params("ws"), m=7, n=5, k=9, stream_tile_limit=3)
    assert tiling.stream_tile == 3
    order = [(f.col_fold, f.t_start, f.row_fold) for f in tiling.folds]
    assert order == [(c, t, r) for c in (0, 1) for t in (0, 3, 6) for r in (0, 1, 2)]
    # Fold: preload 4 + (4 - 1) + t + (3 - 1); t = 3, 3, 1 per row-fold triple.
    assert tiling.model_fold_cycles == ((12,) * 3 + (12,) * 3 + (10,) * 3) * 2
    assert tiling.model_cycles == sum(tiling.model_fold_cycles) == 204


@pytest.mark.parametrize(
    ("dataflow", "m", "k", "limit"),
    [("ws", 7, 4, 3), ("os", 7, 9, 3), ("ws", 7, 9, 8), ("ws", 7, 9, 0)],
)
def test_no_tiling_where_the_model_does_not_tile(dataflow, m, k, limit):
    # ws with k unfolded (k <= rows), os, a tile as long as the stream, and no limit.
    tiling = GemmTiling(params(dataflow), m=m, n=5, k=k, stream_tile_limit=limit)
    assert tiling.stream_tile == tiling.t
    assert all(f.t == tiling.t for f in tiling.folds)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 4),
    m=st.integers(1, 10),
    n=st.integers(1, 8),
    k=st.integers(1, 10),
    limit=st.integers(0, 6),
)
def test_tiled_model_cycles_are_simulate_s(rows, cols, m, n, k, limit):
    """The driver's folds add up to `simulate`'s cycles for a fit config with that tile."""
    tiling = GemmTiling(params("ws", rows, cols), m=m, n=n, k=k, stream_tile_limit=limit)
    assert sum(tiling.model_fold_cycles) == tiling.model_cycles
    acc_bits = 20  # params() default
    config = AcceleratorConfig(
        rows=rows,
        cols=cols,
        dataflow="ws",
        accumulator_bits=acc_bits,
        stream_tiling="fit" if limit else "none",
        ofmap_sram_bytes=max(1, limit) * cols * acc_bits * 2 // 8,  # Ts = limit (double-buffered)
    )
    layer = simulate(Workload("w", (Layer("g", Gemm(m=m, n=n, k=k)),)), config).layers[0]
    assert tiling.model_cycles == layer.cycles.compute


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_model_figures_are_the_simulators(dataflow):
    """The driver's model cycles are what `simulate` reports for the same GEMM layer."""
    tiling = GemmTiling(params(dataflow), m=13, n=8, k=11)
    config = AcceleratorConfig(rows=4, cols=3, dataflow=dataflow)
    layer = simulate(Workload("w", (Layer("g", Gemm(m=13, n=8, k=11)),)), config).layers[0]
    assert tiling.model_cycles == layer.cycles.compute
    assert len(tiling.folds) == layer.row_folds * layer.col_folds


@settings(max_examples=40, deadline=None)
@given(
    dataflow=st.sampled_from(["ws", "os"]),
    overflow=st.sampled_from(["wrap", "saturate"]),
    rows=st.integers(1, 5),
    cols=st.integers(1, 5),
    m=st.integers(1, 12),
    n=st.integers(1, 12),
    k=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    limit=st.integers(0, 5),
)
def test_functional_run_equals_the_reference(dataflow, overflow, rows, cols, m, n, k, seed, limit):
    """Tiling + per-fold functional model = in-order reference, with 18-bit accumulators
    that overflow and saturate (psum chaining across ws folds keeps the order of k), with
    and without stream tiles."""
    rng = np.random.default_rng(seed)
    p = params(dataflow, rows, cols, 18, overflow)
    a = rng.integers(-128, 128, size=(m, k))
    b = rng.integers(-128, 128, size=(k, n))
    run = run_functional(p, a, b, stream_tile_limit=limit)
    assert run.complete
    np.testing.assert_array_equal(run.result, reference_matmul(a, b, 18, overflow))


def test_ws_feed_waits_for_the_previous_partial_sums():
    run = GemmRun(params("ws", rows=2, cols=2), np.ones((3, 4)), np.ones((4, 2)))
    assert run.feed_beat(0) is not None  # first fold along k: starts from zero
    assert run.feed_beat(3) is None  # second fold needs the first's 3 outputs
    for _ in range(3):
        run.take_output(0)
    assert run.feed_beat(3) is not None


def test_ws_weights_go_in_bottom_row_first():
    b = np.arange(6).reshape(3, 2)  # k = 3 on a 4x2 array: row 3 is padding
    run = GemmRun(params("ws", rows=4, cols=2), np.zeros((1, 3)), b)
    rows = [list(run.load_packer.unpack(raw)) for raw in run.load_beats()]
    assert rows == [[0, 0], [4, 5], [2, 3], [0, 1]]


def test_start_payload_is_t_minus_one():
    run = GemmRun(params("os"), np.zeros((5, 6)), np.zeros((6, 2)))
    assert run.start_beats() == [5, 5]


def test_refusals():
    with pytest.raises(ValueError, match="outside signed 8-bit"):
        GemmRun(params("os"), np.full((2, 2), 128), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"need a \(m, k\) and b \(k, n\)"):
        GemmRun(params("os"), np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(
        ValueError, match="streams 257 vectors but stream_bits=8 allows at most 256"
    ):
        GemmTiling(params("os"), m=2, n=2, k=257)
    with pytest.raises(ValueError, match="GEMM dimension k must be a positive integer, not 0"):
        GemmTiling(params("os"), m=2, n=2, k=0)
    with pytest.raises(ValueError, match="stream_tile_limit must be an integer >= 0, not -1"):
        GemmTiling(params("ws"), m=2, n=2, k=9, stream_tile_limit=-1)
    run = GemmRun(params("os", rows=1, cols=1), np.zeros((1, 1)), np.zeros((1, 1)))
    run.take_output(0)
    with pytest.raises(ValueError, match="more output beats than the GEMM has"):
        run.take_output(0)
