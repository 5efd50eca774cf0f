"""The GEMM driver: tiling as the model maps it, and the beats it makes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress import compress_weights
from rtl.driver import GemmRun, Lookup, column_lookups
from rtl.functional import run_functional
from rtl.model import mask_stats, model_timing
from rtl.operands import CodebookOperand, WeightOperand, weight_operand
from rtl.params import RtlParams
from rtl.reference import reference_layer, reference_matmul
from rtl.tiling import GemmTiling, column_row_groups
from simulator import AcceleratorConfig, Gemm, Layer, Workload, simulate
from simulator.workloads.layer import WeightSource
from tests.rtl.sparse_cases import (
    TV2_COLUMN_N,
    random_codebook,
    random_nm_keep,
    random_weights,
    tv1_keep,
    tv2_keep,
)


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
    assert tiling.fold_cycles == (16,) * 6
    assert model_timing(params("ws"), 7, 5, 9).compute_cycles == 96


def test_os_tiling_hand_worked():
    # os on 4x3: rows <- m = 5 (4, 1), cols <- n = 2, t = k = 6; fold 3 + 6 + 2 = 11.
    tiling = GemmTiling(params("os"), m=5, n=2, k=6)
    assert [(f.row_start, f.row_stop) for f in tiling.folds] == [(0, 4), (4, 5)]
    assert tiling.fold_cycles == (11, 11)
    assert model_timing(params("os"), 5, 2, 6).compute_cycles == 22


def test_ws_stream_tiles_hand_worked():
    # ws on 4x3, m = 7 streamed in tiles of 3 (3, 3, 1) under each column block,
    # k = 9 folded (4, 4, 1), n = 5 (3, 2): 2 x 3 x 3 = 18 folds, column block outermost,
    # then stream tile, then row fold (the model's loop nest).
    tiling = GemmTiling(params("ws"), m=7, n=5, k=9, stream_tile_limit=3)
    assert tiling.stream_tile == 3
    order = [(f.col_fold, f.t_start, f.row_fold) for f in tiling.folds]
    assert order == [(c, t, r) for c in (0, 1) for t in (0, 3, 6) for r in (0, 1, 2)]
    # Fold: preload 4 + (4 - 1) + t + (3 - 1); t = 3, 3, 1 per row-fold triple.
    assert tiling.fold_cycles == ((12,) * 3 + (12,) * 3 + (10,) * 3) * 2
    model = model_timing(params("ws"), 7, 5, 9, stream_tile_limit=3)
    assert model.compute_cycles == sum(tiling.fold_cycles) == 204


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
    p = params("ws", rows, cols)
    tiling = GemmTiling(p, m=m, n=n, k=k, stream_tile_limit=limit)
    model = model_timing(p, m, n, k, stream_tile_limit=limit)
    assert sum(tiling.fold_cycles) == model.compute_cycles
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
    assert model.compute_cycles == layer.cycles.compute


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_model_figures_are_the_simulators(dataflow):
    """The model's cycles are what `simulate` reports for the same GEMM layer."""
    tiling = GemmTiling(params(dataflow), m=13, n=8, k=11)
    config = AcceleratorConfig(rows=4, cols=3, dataflow=dataflow)
    layer = simulate(Workload("w", (Layer("g", Gemm(m=13, n=8, k=11)),)), config).layers[0]
    model = model_timing(params(dataflow), 13, 8, 11)
    assert model.compute_cycles == layer.cycles.compute == sum(tiling.fold_cycles)
    assert len(tiling.folds) == layer.row_folds * layer.col_folds == model.folds


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


# --- N:M arrays and codebook decoders -------------------------------------------------


def nm_params(rows=4, cols=4, patterns=("2:4", "1:4"), acc=20, overflow="wrap", **options):
    return RtlParams(
        "t", rows, cols, "ws", 8, 8, acc, overflow, 8, pe_kind="nm", nm_patterns=patterns, **options
    )


def test_tv1_folds_hand_worked():
    """TV1 on a 2:4 + 1:4 4x4 array: every column n_j = 2, one column fold, two row
    folds of two groups (k 0..7, 8..15), 18 cycles each."""
    keep = tv1_keep()
    tiling = GemmTiling(nm_params(), 8, 4, 16, column_n=column_row_groups(keep, nm_params()))
    assert tiling.column_n == (2, 2, 2, 2)
    assert [(f.row_start, f.row_stop, f.group_rows) for f in tiling.folds] == [
        (0, 8, 2),
        (8, 16, 2),
    ]
    assert tiling.fold_cycles == (18, 18)
    model = model_timing(nm_params(), 8, 4, 16, mask_stats(keep))
    assert (model.compute_cycles, model.scalesim_cycles) == (36, 35)


def test_tv2_columns_sorted_by_their_n():
    """TV2: n_j = 2,1,2,1,1,2,1,2 -> columns 0,2,5,7 (n_c = 2, two row folds) then
    1,3,4,6 (n_c = 1, one row fold of all four groups): 3 folds, 54 cycles."""
    keep = tv2_keep(np.random.default_rng(0))
    p = nm_params()
    tiling = GemmTiling(p, 8, 8, 16, column_n=column_row_groups(keep, p))
    assert tiling.column_n == TV2_COLUMN_N
    assert tiling.column_order == (0, 2, 5, 7, 1, 3, 4, 6)
    spans = [(f.columns, f.group_rows, f.group_start, f.group_stop) for f in tiling.folds]
    assert spans == [((0, 2, 5, 7), 2, 0, 2), ((0, 2, 5, 7), 2, 2, 4), ((1, 3, 4, 6), 1, 0, 4)]
    model = model_timing(p, 8, 8, 16, mask_stats(keep))
    assert (
        (model.compute_cycles, model.scalesim_cycles) == (54, 53) == (sum(tiling.fold_cycles), 53)
    )


def test_dense_folds_cover_all_rows_when_m_does_not_divide_them():
    """A dense column fold (n_c = M) on 5 rows with M = 4 takes 5 consecutive k per row
    fold, ceil(k / R) row folds as the model says (not ceil(ceil(k/M) / floor(R/M)));
    its PE rows load position 0 (the dense mode routes lane r to row r)."""
    p = nm_params(rows=5, cols=2, patterns=("2:4",))
    keep = np.ones((11, 3), dtype=bool)
    keep[1::4, 2] = False  # column 2 keeps 3 of 4: dense too
    run = GemmRun(p, np.ones((2, 11)), WeightOperand(random_weights_for(keep), keep))
    assert [(f.row_start, f.row_stop, f.dense) for f in run.tiling.folds[:3]] == [
        (0, 5, True),
        (5, 10, True),
        (10, 11, True),
    ]
    assert run.fold_slots(run.tiling.folds[2])[:, 0].tolist() == [10, -1, -1, -1, -1]
    assert all(set(run.load_packer.unpack(raw)["pos"]) == {0} for raw in run.load_beats())
    run.check_against_model()
    assert run.model.compute_cycles == 6 * (5 + 4 + 2 + 1)


def test_columns_above_the_largest_n_run_dense():
    p = nm_params(patterns=("1:4",))
    keep = np.zeros((9, 3), dtype=bool)
    keep[[0, 5], 0] = True  # one per group: 1
    keep[[0, 1], 1] = True  # two in group 0: above 1:4, so dense (4)
    assert p.row_group_sizes == (1, 4)
    assert column_row_groups(keep, p) == (1, 4, 1)  # an empty column needs the least


def test_slots_of_a_fold_hand_worked():
    """n_c = 2 on 5 rows: row groups (0, 1) and (2, 3), row 4 unused; bottom-first load
    gives slot 1 then slot 0 of each group."""
    p = nm_params(rows=5, cols=2, patterns=("2:4",))
    keep = np.zeros((8, 2), dtype=bool)
    keep[[1, 3, 4], 0] = True  # group 0: 1, 3; group 1: 4
    keep[[2, 6, 7], 1] = True  # group 0: 2; group 1: 6, 7
    run = GemmRun(p, np.zeros((1, 8)), WeightOperand(random_weights_for(keep), keep))
    (fold,) = run.tiling.folds
    assert fold.group_rows == 2
    assert run.fold_slots(fold).tolist() == [[1, 2], [3, -1], [4, 6], [-1, 7], [-1, -1]]
    beats = [run.load_packer.unpack(raw) for raw in run.load_beats()]
    assert [list(b["pos"]) for b in beats] == [[0, 0], [0, 3], [0, 2], [3, 0], [1, 2]]


def random_weights_for(keep):
    return np.where(keep, np.arange(1, keep.size + 1).reshape(keep.shape) % 100 + 1, 0)


def test_lookups_hand_worked():
    """Load order (bottom first) k = -1, 7, 6, -1, 2, 1 with v = 4: a pad, then 7 and 6
    from vector 1, then a pad and 2, 1 from vector 0."""
    p = RtlParams(
        "t",
        6,
        1,
        "ws",
        8,
        8,
        32,
        weight_decoder="codebook",
        decoder_entries=4,
        decoder_vector_length=4,
        decoder_entry_bits=8,
    )
    operand = CodebookOperand(np.zeros((4, 4)), [[3, 2]], np.arange(8) // 4, np.arange(8) % 4)
    looked = column_lookups(p, np.array([-1, 7, 6, -1, 2, 1]), 0, operand)
    assert looked == [Lookup(2, 0b1100, 1), Lookup(3, 0b0110, 1)]
    assert column_lookups(p, np.array([-1, -1]), 0, operand) == [Lookup(0, 0, 2)]


@settings(max_examples=60, deadline=None)
@given(
    overflow=st.sampled_from(["wrap", "saturate"]),
    shape=st.sampled_from([(4, 4, 4), (5, 3, 4), (8, 2, 8), (2, 3, 2)]),
    m=st.integers(1, 6),
    n=st.integers(1, 9),
    k=st.integers(1, 20),
    seed=st.integers(0, 2**32 - 1),
    limit=st.integers(0, 4),
)
def test_nm_functional_run_equals_the_reference(overflow, shape, m, n, k, seed, limit):
    """Random masks with a random count per group and column (all patterns, dense
    columns), narrow saturating accumulators: the N:M beats through the functional
    array give the in-order reference, and the folds' cycles are the model's."""
    rows, cols, group = shape
    slots = tuple(f"{x}:{group}" for x in range(1, group) if x in (1, group // 2))
    p = nm_params(rows, cols, slots, 18, overflow)
    rng = np.random.default_rng(seed)
    keep = random_nm_keep(rng, k, rng.integers(0, group + 1, size=n), group)
    b = random_weights(rng, keep, 8)
    a = rng.integers(-128, 128, size=(m, k))
    run = run_functional(p, a, WeightOperand(b, keep), stream_tile_limit=limit)
    np.testing.assert_array_equal(run.result, reference_matmul(a, b, 18, overflow))
    np.testing.assert_array_equal(run.result, reference_layer(a, run.operand, 18, overflow))
    run.check_against_model()


@settings(max_examples=30, deadline=None)
@given(
    recipe=st.sampled_from(["prune 2:4 -> int8", "prune 1:4 -> int8", "prune 50% -> int8"]),
    shape=st.sampled_from([(4, 4), (5, 3), (8, 2), (6, 6)]),
    m=st.integers(1, 9),
    n=st.integers(1, 9),
    k=st.integers(1, 30),
    limit=st.integers(0, 5),
    seed=st.integers(0, 2**16),
)
def test_model_is_simulate_on_compressed_tensors(recipe, shape, m, n, k, limit, seed):
    """For a CompressedTensor, the driver's folds are the model's and the model's cycles
    are `simulate`'s on a config that tiles the stream by `limit`."""
    rows, cols = shape
    weights = np.random.default_rng(seed).normal(size=(n, k)).astype(np.float32)
    ct = compress_weights({"g": weights}, recipe).tensors["g"]
    p = nm_params(rows, cols, ("2:4", "1:4"), 20)
    run = GemmRun(p, np.zeros((m, k), dtype=np.int64), weight_operand(ct), limit)
    run.check_against_model()
    config = AcceleratorConfig(
        rows=rows,
        cols=cols,
        pe_kind="nm",
        nm_patterns=["2:4", "1:4"],
        accumulator_bits=20,
        stream_tiling="fit" if limit else "none",
        # Ts = limit (double-buffered), and at least one byte per PE (Ts = 1 then).
        ofmap_sram_bytes=max(max(1, limit) * cols * 20 * 2 // 8, rows * cols),
    )
    layer = Layer("g", Gemm(m, n, k), compressed=ct.stats, weight_source=WeightSource.COMPRESSED)
    result = simulate(Workload("w", (layer,)), config).layers[0]
    assert run.model.compute_cycles == result.cycles.compute


@settings(max_examples=40, deadline=None)
@given(
    nm=st.booleans(),
    vector=st.sampled_from([1, 2, 3, 4, 8]),
    m=st.integers(1, 5),
    n=st.integers(1, 7),
    k=st.integers(1, 19),
    seed=st.integers(0, 2**32 - 1),
)
def test_decoder_functional_run_equals_the_reference(nm, vector, m, n, k, seed):
    """Random codebooks and masks through the lookups, the functional decoders and
    array: the reference on the decoded weights."""
    options = {
        "weight_decoder": "codebook",
        "decoder_entries": 8,
        "decoder_vector_length": vector,
        "decoder_entry_bits": 5,
    }
    rng = np.random.default_rng(seed)
    if nm:
        p = nm_params(4, 3, ("2:4", "1:4"), 24, "saturate", **options)
        keep = random_nm_keep(rng, k, rng.integers(0, 5, size=n), 4)
    else:
        p = RtlParams("t", 3, 2, "ws", 8, 8, 24, "saturate", 8, **options)
        keep = rng.random((k, n)) < 0.7
    operand = random_codebook(rng, p, keep)
    a = rng.integers(-128, 128, size=(m, k))
    run = run_functional(p, a, operand)
    np.testing.assert_array_equal(run.result, reference_layer(a, operand, 24, "saturate"))
    lookups = run.lookups()
    assert all(lk.pads <= p.rows for column in lookups for lk in column)


def test_a_shared_codebook_is_sent_once():
    p = nm_params(
        weight_decoder="codebook", decoder_entries=8, decoder_vector_length=4, decoder_entry_bits=6
    )
    rng = np.random.default_rng(1)
    first = random_codebook(rng, p, np.ones((8, 3), dtype=bool))
    run = GemmRun(p, np.ones((2, 8)), first)
    assert len(run.codebook_beats()) == 8
    assert GemmRun(p, np.ones((2, 8)), first, load_codebook=False).codebook_beats() == []
    # The second layer runs on the first layer's table.
    second = CodebookOperand(
        first.table, rng.integers(0, 8, size=(5, 2)), first.vector, first.element
    )
    a = rng.integers(-128, 128, size=(3, 8))
    shared = run_functional(p, a, second, codebook=run.codebook_beats())
    np.testing.assert_array_equal(shared.result, reference_layer(a, second, 20, "wrap"))


def test_nm_refusals():
    p = nm_params()
    with pytest.raises(ValueError, match="takes integer weights"):
        GemmRun(p, np.ones((1, 4)), CodebookOperand(np.ones((2, 1)), [[0] * 4], range(4), [0] * 4))
    decoder = nm_params(
        weight_decoder="codebook", decoder_entries=4, decoder_vector_length=4, decoder_entry_bits=4
    )
    with pytest.raises(ValueError, match="takes a CodebookOperand"):
        GemmRun(decoder, np.ones((1, 4)), np.ones((4, 1), dtype=int))
    with pytest.raises(ValueError, match="the codebook has 8 entries, the decoder 4"):
        GemmRun(
            decoder, np.ones((1, 4)), CodebookOperand(np.ones((8, 4)), [[0]], [0] * 4, range(4))
        )
    with pytest.raises(ValueError, match="outside signed 4-bit"):
        GemmRun(
            decoder, np.ones((1, 4)), CodebookOperand(np.full((4, 4), 9), [[0]], [0] * 4, range(4))
        )
    with pytest.raises(ValueError, match="column_n must give one of"):
        GemmTiling(p, 2, 2, 8, column_n=(3, 1))
