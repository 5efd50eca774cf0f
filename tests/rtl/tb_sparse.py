"""cocotb benches for N:M and codebook engines: patterns, TV1 and TV2, the decoder.

The harness is :mod:`tests.rtl.tb_harness`; benches that do not apply to the engine
under test skip themselves. On N:M arrays every supported pattern runs alone (all
columns keep ``n`` of every ``M``) and mixed across columns, with ``k`` not a multiple
of M and ``n`` not a multiple of the columns; TV1 and TV2 (the note's hand-worked
cases) run on any 4x4 ws array, and on a 2:4 + 1:4 array must take exactly 36 and 54
cycles (35 and 53 in SCALE-Sim's convention, the note's figures), as the simulator's
model says. Decoder engines show that every index decodes to its entry (``A = I``, so the
output is the decoded weight matrix) and that a pool shared by two layers is loaded once.
"""

from __future__ import annotations

import cocotb
import numpy as np

from compress import compress_weights
from rtl.operands import codebook_operand, weight_operand
from simulator.config import Dataflow
from tests.rtl.sparse_cases import (
    layer_recipe,
    random_codebook,
    random_nm_keep,
    tv1_keep,
    tv2_keep,
)
from tests.rtl.tb_harness import NM, PARAMS, check_gemm, random_weight_operand, reset

WS = PARAMS.dataflow is Dataflow.WS
TV_ARRAY = WS and (PARAMS.rows, PARAMS.cols) == (4, 4) and PARAMS.nm_group in (1, 4)
TV_SLOTS = NM and {1, 2} <= set(PARAMS.nm_slots)


def _activations(rng, m, k):
    high = (1 << (PARAMS.activation_bits - 1)) - 1
    return rng.integers(-high - 1, high + 1, size=(m, k))


@cocotb.test(skip=not NM)
async def nm_patterns(dut):
    """Each supported N alone, then N mixed across columns with dense columns among
    them; partial folds in k (not a multiple of M) and in n (not a multiple of cols)."""
    await reset(dut)
    rng = np.random.default_rng(11)
    group, rows, cols = PARAMS.nm_group, PARAMS.rows, PARAMS.cols
    k, n, m = 3 * rows + group // 2 + 1, cols + max(1, cols // 2), 5
    for count in PARAMS.nm_slots:
        keep = random_nm_keep(rng, k, [count] * n, group)
        record = await check_gemm(
            dut, f"nm_{count}:{group}", _activations(rng, m, k), random_weight_operand(rng, keep)
        )
        assert record["n_c"] == [count], record["n_c"]
    choices = [*PARAMS.nm_slots, group]
    for trial in range(2):
        keep = random_nm_keep(rng, k + trial, rng.choice(choices, size=2 * n + 1), group)
        await check_gemm(
            dut, "nm_mixed", _activations(rng, m, k + trial), random_weight_operand(rng, keep)
        )


@cocotb.test(skip=not TV_ARRAY)
async def tv1_tv2(dut):
    """TV1 (2:4, m = 8, n = 4, k = 16) and TV2 (per-column n 2,1,2,1,1,2,1,2): on a
    2:4 + 1:4 array 2 folds of 18 = 36 and 2 + 1 folds = 54 cycles (SCALE-Sim's
    convention, one less: 35 and 53); on a dense array the dense figures (72, 144)."""
    await reset(dut)
    rng = np.random.default_rng(12)
    tv1 = await check_gemm(
        dut, "TV1", _activations(rng, 8, 16), random_weight_operand(rng, tv1_keep())
    )
    tv2 = await check_gemm(
        dut, "TV2", _activations(rng, 8, 16), random_weight_operand(rng, tv2_keep(rng))
    )
    if TV_SLOTS:
        assert (tv1["rtl_cycles"], tv1["scalesim_cycles"], tv1["folds"]) == (36, 35, 2), tv1
        assert (tv2["rtl_cycles"], tv2["scalesim_cycles"], tv2["folds"]) == (54, 53, 3), tv2
        assert tv2["n_c"] == [2, 1], tv2
    elif not NM:
        assert (tv1["rtl_cycles"], tv2["rtl_cycles"]) == (72, 144), (tv1, tv2)


@cocotb.test(skip=not WS)
async def compressed_layer(dut):
    """A layer compressed by ``sparsa compress`` (:func:`layer_recipe`), from its
    CompressedTensor: the operand, the reference (compress's integer model) and the
    model's cycles (its WeightStats) all come from the tensor."""
    await reset(dut)
    rng = np.random.default_rng(15)
    weights = rng.normal(size=(PARAMS.cols + 1, 2 * PARAMS.rows + 3)).astype(np.float32)
    ct = compress_weights({"g": weights}, layer_recipe(PARAMS)).tensors["g"]
    if PARAMS.has_decoder:
        operand = codebook_operand(ct, PARAMS.decoder_entry_bits)
    else:
        operand = weight_operand(ct)
    await check_gemm(dut, "compressed_layer", _activations(rng, 5, ct.shape[1]), operand)


def _every_index_operand(rng, k: int):
    """A codebook operand whose indices use every entry (all weights kept)."""
    v, entries = PARAMS.decoder_vector_length, PARAMS.decoder_entries
    vectors = -(-k // v)
    n = -(-entries // vectors)
    operand = random_codebook(rng, PARAMS, np.ones((k, n), dtype=bool))
    index = (np.arange(n * vectors) % entries).reshape(n, vectors)
    return type(operand)(operand.table, index, operand.vector, operand.element, operand.keep)


@cocotb.test(skip=not PARAMS.has_decoder)
async def codebook_every_index(dut):
    """A = I: the output is the decoded weights, and every index appears in them."""
    await reset(dut)
    rng = np.random.default_rng(13)
    k = max(PARAMS.rows, PARAMS.decoder_vector_length) + 1
    operand = _every_index_operand(rng, k)
    record = await check_gemm(dut, "codebook_every_index", np.eye(k, dtype=np.int64), operand)
    assert record["codebook_beats"] == operand.table.shape[0]
    v = PARAMS.decoder_vector_length
    for j, row in enumerate(operand.index):
        for vector, entry in enumerate(row):
            ks = np.arange(vector * v, min((vector + 1) * v, k))
            expected = operand.table[entry, ks - vector * v]
            assert list(operand.decoded()[ks, j]) == list(expected)


@cocotb.test(skip=not PARAMS.has_decoder)
async def shared_pool(dut):
    """Two layers share one pool: the table is loaded once, with the first layer; the
    second layer's lookups read it as loaded (cycles exact for both)."""
    await reset(dut)
    rng = np.random.default_rng(14)
    group = PARAMS.nm_group
    k1, n1, k2, n2 = 2 * PARAMS.rows + 1, PARAMS.cols + 1, PARAMS.rows + 3, 2 * PARAMS.cols
    keep1 = random_nm_keep(rng, k1, rng.integers(1, group + 1, size=n1), group)
    keep2 = random_nm_keep(rng, k2, rng.integers(1, group + 1, size=n2), group)
    first = random_codebook(rng, PARAMS, keep1)
    second = random_codebook(rng, PARAMS, keep2)
    second = type(second)(first.table, second.index, second.vector, second.element, keep2)
    one = await check_gemm(dut, "pool_layer1", _activations(rng, 6, k1), first)
    two = await check_gemm(
        dut, "pool_layer2", _activations(rng, 4, k2), second, load_codebook=False
    )
    assert (one["codebook_beats"], two["codebook_beats"]) == (PARAMS.decoder_entries, 0)
