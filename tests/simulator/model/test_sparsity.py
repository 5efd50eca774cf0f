"""Compressed execution: the note's hand-worked cases, formats on the PE kinds, and
invariants (never slower than dense where it runs, density 1 is dense to the last bit)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress import (
    IndexKind,
    IntSpec,
    IntValues,
    Sparsity,
    SparsityKind,
    build_tensor,
    compress_weights,
    nm_mask,
)
from simulator import AcceleratorConfig, ConfigError, Gemm, Layer, Workload, simulate
from simulator.model.sparsity import column_folds, expected_max_binomial, nm_column_slots
from simulator.workloads.layer import WeightSource

TV1_KEPT = [
    {0, 1, 4, 5, 8, 9, 12, 13},
    {1, 3, 5, 6, 8, 11, 14, 15},
    {0, 2, 4, 7, 9, 10, 12, 15},
    {2, 3, 6, 7, 10, 11, 13, 14},
]
TV3_KEPT = [{0, 3, 6, 9, 12}, {0, 1, 2, 4, 5, 7, 8, 10, 11}, {2, 6, 13}, {1, 3, 5, 7, 9, 11, 15}]


def tensor(kept: list[set[int]], k: int, nm=None, seed: int = 0):
    """An int8 tensor ``[len(kept), k]`` keeping exactly the positions in ``kept``."""
    mask = np.zeros((len(kept), k), bool)
    for j, positions in enumerate(kept):
        mask[j, sorted(positions)] = True
    weights = np.random.default_rng(seed).uniform(1, 2, mask.shape).astype(np.float32)
    if nm is not None:
        sparsity = Sparsity(SparsityKind.NM, mask, IndexKind.NM_POSITIONS, nm=nm)
    else:
        sparsity = Sparsity(SparsityKind.UNSTRUCTURED, mask, IndexKind.BITMASK)
    return build_tensor("w", weights, sparsity, IntValues(IntSpec(8)))


def count(layer) -> int:
    """The note's convention: the sum of the fold lengths minus one (SCALE-Sim's)."""
    return layer.cycles.compute - 1


def layer_on(ct, m: int, **config):
    op = Gemm(m=m, n=ct.shape[0], k=ct.shape[1])
    layer = Layer("g", op, compressed=ct.stats, weight_source=WeightSource.COMPRESSED)
    return simulate(Workload("w", (layer,)), AcceleratorConfig(**config)).layers[0]


# ---- the hand-worked cases of shared/notes/sparse-execution.md -------------------------


@pytest.mark.parametrize(("dataflow", "dense", "sparse"), [("ws", 71, 35), ("os", 43, 27)])
def test_tv1_cycles(dataflow, dense, sparse):
    ct = tensor(TV1_KEPT, 16, nm=(2, 4))
    nm = layer_on(ct, 8, rows=4, cols=4, dataflow=dataflow, pe_kind="nm", nm_patterns=["2:4"])
    on_dense = layer_on(ct, 8, rows=4, cols=4, dataflow=dataflow)
    assert (count(on_dense), count(nm)) == (dense, sparse)
    assert nm.weights.mode == "nm" and on_dense.weights.mode == "dense"
    assert nm.speedup == pytest.approx(on_dense.baseline.cycles / nm.cycles.total)


def test_tv1_traffic():
    """ws: weight values 32, metadata 32 x 2 bits, every activation read (M K = 128),
    partial-sum writes 64 (128 dense)."""
    ct = tensor(TV1_KEPT, 16, nm=(2, 4))
    nm = layer_on(ct, 8, rows=4, cols=4, dataflow="ws", pe_kind="nm", nm_patterns=["2:4"])
    dense = layer_on(ct, 8, rows=4, cols=4, dataflow="ws")
    assert nm.memory.weight.sram_read_bytes == (32 * 8 + 32 * 2) / 8
    assert nm.memory.input.sram_reads == 8 * 16
    assert (nm.memory.output.sram_writes, dense.memory.output.sram_writes) == (64, 128)
    assert nm.weights.dram_bits == 32 * 8 + 32 * 2 + ct.storage.scales
    assert nm.weights.dram_bits == ct.storage.total  # the stored format, exactly


def tv2_tensor():
    """8 columns of 16 weights in groups of 4, keeping [2,1,2,1,1,2,1,2] per group."""
    rng = np.random.default_rng(1)
    kept = []
    for n_j in (2, 1, 2, 1, 1, 2, 1, 2):
        groups = [set((g * 4 + rng.choice(4, n_j, replace=False)).tolist()) for g in range(4)]
        kept.append(set().union(*groups))
    return tensor(kept, 16)


def test_tv2_columns_sorted_by_pattern():
    ct = tv2_tensor()
    on = layer_on(ct, 8, rows=4, cols=4, dataflow="ws", pe_kind="nm", nm_patterns=["2:4", "1:4"])
    assert count(on) == 53
    assert count(layer_on(ct, 8, rows=4, cols=4, dataflow="ws")) == 143


def test_tv2_in_column_order():
    """The model sorts; in column order both folds need n = 2: 4 folds of 18 = 71 - 1."""
    n_j = nm_column_slots(ct_group_max := tv2_tensor().stats.group_max[4], (1, 2), 4)
    assert n_j.tolist() == [2, 1, 2, 1, 1, 2, 1, 2] == ct_group_max.tolist()
    in_order, _ = column_folds(n_j, 1, 4, sort=False)
    row_folds = [-(-4 // (4 // int(n_c))) for n_c in in_order[0]]
    assert sum(row_folds) * (2 * 4 + 4 + 8 - 2) - 1 == 71
    sorted_folds, _ = column_folds(n_j, 1, 4)
    assert sorted_folds.tolist() == [[2, 1]]


def test_tv3_per_column_streams():
    ct = tensor(TV3_KEPT, 16)
    skip = layer_on(ct, 4, rows=4, cols=4, dataflow="os", pe_kind="skip")
    dense = layer_on(ct, 4, rows=4, cols=4, dataflow="os")
    assert (count(skip), count(dense)) == (14, 21)
    assert skip.weights.mode == "skip"
    # ws can only gate: the same cycles as dense.
    ws = layer_on(ct, 4, rows=4, cols=4, dataflow="ws", pe_kind="skip")
    assert ws.weights.mode == "dense"
    assert ws.cycles.compute == layer_on(ct, 4, rows=4, cols=4, dataflow="ws").cycles.compute
    # Gated MACs cost nothing in the default table: only the kept ones switch.
    ungated = layer_on(ct, 4, rows=4, cols=4, dataflow="ws")
    kept = sum(len(c) for c in TV3_KEPT) / (4 * 16)
    assert ws.energy_pj.by_action["pe.mac"] == pytest.approx(
        kept * ungated.energy_pj.by_action["pe.mac"]
    )


def tv6(recipe: str):
    weights = np.random.default_rng(0).normal(size=(32, 64)).astype(np.float32)
    return compress_weights({"fc.weight": weights}, recipe).tensors["fc.weight"]


def test_tv6_storage():
    """2048 int8 weights (K = 64, N = 32): dense 16,384 value bits; 2:4 with 2-bit
    positions 10,240; a pool of P = 256 vectors of v = 8: 2,048 index bits and, once per
    network, 256 x 8 entries of 8 bits on the decoder; scalar codebook P = 16: 8,192
    index bits and 16 entries."""
    assert tv6("int8").storage.values == 16_384
    nm = tv6("prune 2:4 -> int8").storage
    assert nm.values + nm.index == 10_240
    pool = tv6("pool v=8 P=256")
    assert pool.storage.values == 2_048
    kmeans = tv6("kmeans 4bit")
    assert kmeans.storage.values == 8_192 and kmeans.codebook.size == 16
    decoder = {"weight_decoder": "codebook", "decoder_entry_bits": 8}
    pooled = layer_on(pool, 4, rows=8, cols=8, decoder_vector_length=8, **decoder)
    assert pooled.weights.dram_bits == 2_048 + 256 * 8 * 8 + pool.storage.scales
    scalar = layer_on(kmeans, 4, rows=8, cols=8, decoder_entries=16, **decoder)
    assert scalar.weights.dram_bits == 8_192 + 16 * 8
    assert scalar.energy_pj.by_action["decoder.lookup"] > 0


# ---- what the hardware does with what it cannot run ---------------------------------------


def test_codebook_without_a_decoder_runs_decoded_and_says_so():
    kmeans = tv6("kmeans 4bit")
    plain = layer_on(kmeans, 4, rows=8, cols=8)
    assert plain.weights.dram_bits == 32 * 64 * 8  # decoded offline to 8-bit weights
    assert any("no matching weight decoder" in note for note in plain.weights.notes)
    small = layer_on(kmeans, 4, rows=8, cols=8, weight_decoder="codebook", decoder_entries=8)
    assert small.weights.dram_bits == 32 * 64 * 8  # 16 entries do not fit 8


def test_declared_pattern_on_a_dense_array_warns_and_runs_dense():
    layer = Layer("g", Gemm(64, 32, 64), nm=(2, 4))
    result = simulate(Workload("w", (layer,)), AcceleratorConfig(rows=8, cols=8))
    assert result.layers[0].speedup == 1.0
    assert any("runs dense" in note for note in result.layers[0].weights.notes)
    nm = simulate(
        Workload("w", (layer,)),
        AcceleratorConfig(rows=8, cols=8, pe_kind="nm", nm_patterns=["2:4"]),
    )
    assert 1.0 < nm.layers[0].speedup <= 2.0
    assert nm.layers[0].weights.source == "declared"


def test_a_pattern_the_array_does_not_support_runs_at_the_nearest_superset():
    """1:4 weights on a 2:4-only array take 2 slots per group: the 2:4 speed."""
    rng = np.random.default_rng(3)
    weights = rng.normal(size=(16, 64)).astype(np.float32)
    mask = nm_mask(weights, 1, 4)
    sparsity = Sparsity(SparsityKind.NM, mask, IndexKind.NM_POSITIONS, nm=(1, 4))
    ct = build_tensor("w", weights, sparsity, IntValues(IntSpec(8)))
    only_2of4 = layer_on(ct, 16, rows=8, cols=8, pe_kind="nm", nm_patterns=["2:4"])
    both = layer_on(ct, 16, rows=8, cols=8, pe_kind="nm", nm_patterns=["2:4", "1:4"])
    assert only_2of4.cycles.compute > both.cycles.compute
    assert not only_2of4.weights.dram_bits < ct.storage.total  # re-encoded, padded slots


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pe_kind": "nm", "nm_patterns": ["2:4", "1:8"]}, "nm_patterns"),
        ({"pe_kind": "nm", "nm_patterns": ["4:8"], "rows": 2}, "rows"),
        ({"decoder_entries": 16}, "decoder_entries"),
    ],
)
def test_bad_combinations_are_one_line_errors(fields, field):
    with pytest.raises(ConfigError) as info:
        AcceleratorConfig(**{"rows": 8, "cols": 8, **fields})
    assert info.value.field == field and "\n" not in str(info.value)


# ---- invariants ------------------------------------------------------------------------


def random_tensor(draw_rng: np.random.Generator, out: int, k: int, kind: str):
    weights = draw_rng.normal(size=(out, k)).astype(np.float32)
    if kind == "dense":
        sparsity = Sparsity()
    elif kind == "2:4":
        sparsity = Sparsity(SparsityKind.NM, nm_mask(weights, 2, 4), IndexKind.NM_POSITIONS,
                            nm=(2, 4))  # fmt: skip
    else:
        mask = draw_rng.random((out, k)) < 0.3
        sparsity = Sparsity(SparsityKind.UNSTRUCTURED, mask, IndexKind.BITMASK)
    return build_tensor("w", weights, sparsity, IntValues(IntSpec(8)))


shapes = st.tuples(st.integers(1, 40), st.integers(1, 24), st.integers(1, 70))
arrays = st.tuples(st.integers(2, 12), st.integers(1, 12), st.sampled_from(["os", "ws", "is"]))


@settings(max_examples=80, deadline=None)
@given(shapes, arrays, st.sampled_from(["dense", "2:4", "unstructured"]), st.integers(0, 99))
def test_never_slower_than_dense_on_a_kind_that_runs_it(shape, array, kind, seed):
    m, n, k = shape
    rows, cols, dataflow = array
    ct = random_tensor(np.random.default_rng(seed), n, k, kind)
    pe = {"pe_kind": "nm", "nm_patterns": ["2:4", "1:4"]} if kind != "unstructured" else {}
    if kind == "unstructured" and dataflow == "os":
        pe = {"pe_kind": "skip"}
    layer = layer_on(ct, m, rows=rows, cols=cols, dataflow=dataflow, **pe)
    assert layer.cycles.compute <= layer.baseline.compute_cycles
    assert layer.weights.stored_bits == ct.storage.total
    if kind == "2:4" and pe:
        assert 1.0 <= layer.baseline.compute_cycles / layer.cycles.compute <= 2.0


@settings(max_examples=60, deadline=None)
@given(shapes, arrays, st.sampled_from(["dense", "nm", "skip"]))
def test_density_one_is_dense_to_the_last_bit(shape, array, kind):
    """A dense layer (no weight statistics) on any PE kind: every number as on a dense
    array, but for the leakage of the sparse PEs' own logic (more area, same cycles)."""
    m, n, k = shape
    rows, cols, dataflow = array
    fields = {"nm": {"pe_kind": "nm", "nm_patterns": ["2:4"]}, "skip": {"pe_kind": "skip"}}
    workload = Workload("w", (Layer("g", Gemm(m, n, k)),))
    config = AcceleratorConfig(rows=rows, cols=cols, dataflow=dataflow, **fields.get(kind, {}))
    here = simulate(workload, config).layers[0]
    dense = simulate(workload, config.dense_baseline()).layers[0]
    assert here.cycles == dense.cycles
    assert here.memory == dense.memory

    def dynamic(energy):
        return {k: v for k, v in energy.by_action.items() if k != "leakage.cycle"}

    assert dynamic(here.energy_pj) == dynamic(dense.energy_pj)
    leak, dense_leak = (
        here.energy_pj.by_action["leakage.cycle"],
        dense.energy_pj.by_action["leakage.cycle"],
    )
    assert (leak > dense_leak) if kind != "dense" else (leak == dense_leak)
    assert here.speedup == 1.0


def test_tv5_expected_longest_stream_of_binomial_columns():
    assert expected_max_binomial(16, 0.5, 4) == pytest.approx(10.041, abs=5e-4)
    assert expected_max_binomial(16, 0.5, 1) == pytest.approx(8.0)  # the mean


def test_a_declared_density_on_skip_uses_the_expected_longest_stream():
    """os skip on 4x4, m = n = 4, k = 16 at density 0.5: one fold of 4 columns streams
    E[max of 4 Binomial(16, 0.5)] = 10.041 -> 10 entries, + R + C - 2 = 16 cycles."""
    layer = Layer("g", Gemm(4, 4, 16), weight_density=0.5)
    config = AcceleratorConfig(rows=4, cols=4, dataflow="os", pe_kind="skip")
    result = simulate(Workload("w", (layer,)), config).layers[0]
    assert result.cycles.compute == 10 + 4 + 4 - 2
    assert result.weights.source == "declared" and result.weights.density == 0.5
    on_nm = simulate(Workload("w", (layer,)), AcceleratorConfig(rows=4, cols=4, pe_kind="nm",
                                                                 nm_patterns=["2:4"]))  # fmt: skip
    assert on_nm.layers[0].speedup == 1.0  # no group maxima without a mask: runs dense
