"""Integer weights of compressed tensors, and the kept-only product, against references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress.integer_weights import integer_weights, integerize_codebook, kept_matmul
from compress.pipeline import compress_weights
from compress.tensor import SparsityKind
from tests.compress.integer_cases import compressed_tensors
from tests.compress.integer_reference import reference_matmul, reference_weights, scale_grid


@settings(max_examples=150, deadline=None)
@given(compressed_tensors(codebook=False))
def test_integer_codes_times_scales_are_the_tensor_values_bit_for_bit(ct):
    iw = integer_weights(ct)
    np.testing.assert_array_equal(iw.dequantized(), ct.values)
    np.testing.assert_array_equal(iw.dense, reference_weights(ct))
    assert -(2 ** (iw.bits - 1)) <= iw.dense.min() and iw.dense.max() < 2 ** (iw.bits - 1)
    assert iw.bits == ct.encoding.spec.bits + (0 if ct.encoding.spec.symmetric else 1)


@settings(max_examples=150, deadline=None)
@given(compressed_tensors())
def test_slots_hold_every_stored_weight_once_in_order_of_k(ct):
    iw = integer_weights(ct)
    out, groups, _ = iw.values.shape
    rebuilt = np.zeros_like(iw.dense)
    rows = np.broadcast_to(np.arange(out)[:, None, None], iw.values.shape)
    np.add.at(rebuilt, (rows, iw.columns), iw.values)
    np.testing.assert_array_equal(rebuilt, iw.dense)
    stored = ct.sparsity.stored_mask(ct.shape).reshape(out, -1)
    count = np.zeros((out, groups), int)
    np.add.at(count, (np.nonzero(stored)[0], np.nonzero(stored)[1] // iw.group_size), 1)
    for n in range(out):
        for g in range(groups):
            cols = iw.columns[n, g, : count[n, g]]
            assert np.all(np.diff(cols) > 0) and np.all(cols // iw.group_size == g)
            assert np.all(iw.values[n, g, count[n, g] :] == 0)
    if ct.sparsity.kind is SparsityKind.NM and groups == 1:
        n, m = ct.sparsity.nm
        k = iw.k
        assert iw.values.shape[2] == (k // m) * n + min(n, k % m)


@settings(max_examples=200, deadline=None)
@given(
    compressed_tensors(),
    st.integers(2, 16),
    st.integers(2, 32),
    st.sampled_from(["wrap", "saturate"]),
    st.integers(1, 5),
    st.integers(0, 2**16),
)
def test_kept_products_equal_the_dense_per_step_reference(ct, a_bits, acc_bits, overflow, m, seed):
    """Hypothesis over shapes, N:M patterns (K not a multiple of M too), widths, rules
    and accumulators narrow enough to overflow."""
    iw = integer_weights(ct)
    k = iw.k
    rng = np.random.default_rng(seed)
    low, high = -(2 ** (a_bits - 1)), 2 ** (a_bits - 1) - 1
    a = rng.integers(low, high + 1, size=(m, k))
    a = np.where(rng.random((m, k)) < 0.3, rng.choice([low, high], size=(m, k)), a)
    _, _, group = scale_grid(ct)
    want = reference_matmul(a, reference_weights(ct), group, acc_bits, overflow)
    np.testing.assert_array_equal(iw.accumulate(a, acc_bits, overflow), want)


def test_narrow_accumulators_overflow_and_the_rules_differ():
    ct = compress_weights(
        {"w": np.random.default_rng(0).normal(size=(4, 40)).astype(np.float32)},
        "prune 2:4 -> int8 per-channel",
    ).tensors["w"]
    iw = integer_weights(ct)
    a = np.full((2, 40), 127)
    exact = iw.accumulate(a, 64, "wrap")
    assert np.abs(exact).max() > 2**11
    wrapped, saturated = iw.accumulate(a, 12, "wrap"), iw.accumulate(a, 12, "saturate")
    assert not np.array_equal(wrapped, saturated)
    assert np.abs(saturated).max() <= 2**11
    np.testing.assert_array_equal(wrapped, (exact + 2**11) % 2**12 - 2**11)


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
@pytest.mark.parametrize("bits", [10, 16, 32])
def test_same_integers_as_the_rtl_reference(bits, overflow):
    """The RTL benches' reference (dense, per step over k) gives the same integers."""
    from rtl.reference import reference_matmul as rtl_matmul

    rng = np.random.default_rng(bits)
    weights = {"w": rng.normal(size=(8, 30)).astype(np.float32)}
    ct = compress_weights(weights, "prune 2:4 -> int8 per-channel").tensors["w"]
    iw = integer_weights(ct)
    a = rng.integers(-128, 128, size=(5, 30))
    np.testing.assert_array_equal(
        iw.accumulate(a, bits, overflow)[:, :, 0], rtl_matmul(a, iw.dense.T, bits, overflow)
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-100, 100, width=32), min_size=1, max_size=64),
    st.integers(2, 16),
)
def test_codebook_entries_round_symmetrically_per_tensor(codebook, bits):
    c = np.array(codebook, np.float32)
    entries, scale = integerize_codebook(c, bits)
    qmax = 2 ** (bits - 1) - 1
    assert scale.dtype == np.float32 and scale > 0
    assert np.all(np.abs(entries) <= qmax)
    assert np.all(entries[c == 0] == 0)
    assert np.all(np.abs(c - entries * np.float64(scale)) <= np.float64(scale) / 2 * (1 + 1e-6))


@pytest.mark.parametrize(
    ("recipe", "bits"),
    [("kmeans 4bit", 8), ("prune 2:4 -> kmeans 3bit", 6), ("pool v=4 P=16", 8),
     ("pool v=4 P=16 scale=layer", 5), ("pool v=4 P=16 scale=none", 8),
     ("prune 2:4 -> mvq 4bit v=4", 8), ("prune 1:4 -> mvq 4bit v=8", 12)],
)  # fmt: skip
def test_shared_weights_become_entries_at_decoder_entry_bits(rng, recipe, bits):
    weights = {"a": rng.normal(size=(12, 16)).astype(np.float32),
               "b": rng.normal(size=(8, 4, 3, 3)).astype(np.float32)}  # fmt: skip
    model = compress_weights(weights, recipe)
    for ct in model.tensors.values():
        iw = integer_weights(ct, entry_bits=bits)
        assert iw.bits == bits and iw.groups == 1
        assert np.abs(iw.dense).max() <= 2 ** (bits - 1) - 1
        stored = ct.sparsity.stored_mask(ct.shape).reshape(ct.shape[0], -1)
        assert np.all(iw.dense[~stored] == 0)
        w_hat = iw.dequantized()
        step = iw.scale.max(axis=1).reshape((-1,) + (1,) * (ct.values.ndim - 1))
        assert np.all(np.abs(w_hat - ct.values) <= step / 2 * (1 + 1e-5))


def test_mxint8_blocks_are_scale_groups(rng):
    weights = {"w": rng.normal(size=(6, 70)).astype(np.float32)}
    ct = compress_weights(weights, "mxint8").tensors["w"]
    iw = integer_weights(ct)
    assert iw.group_size == 32 and iw.groups == 3 and iw.bits == 8
    np.testing.assert_array_equal(iw.dequantized(), ct.values)
    ct = compress_weights(weights, "prune 2:4 -> mxint8").tensors["w"]
    np.testing.assert_array_equal(integer_weights(ct).dequantized(), ct.values)


@pytest.mark.parametrize(
    ("recipe", "name"),
    [("fp8 e4m3", "e4m3"), ("mxfp8", "mxfp8"), ("mxfp4", "mxfp4"), ("lowrank ratio=0.5", "lowrank"),
     ("prune 2:4", "fp32"), ("none", "fp32")],
)  # fmt: skip
def test_formats_without_an_exact_integer_form_are_refused(rng, recipe, name):
    ct = compress_weights({"fc.weight": rng.normal(size=(8, 16)).astype(np.float32)}, recipe)
    with pytest.raises(ValueError, match=f"^fc.weight: the integer model cannot run {name}"):
        integer_weights(ct.tensors["fc.weight"])


def test_kept_matmul_checks_its_operands():
    with pytest.raises(ValueError, match="need a"):
        kept_matmul(np.zeros((2, 3)), np.zeros((2, 2)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="columns must index"):
        kept_matmul(np.zeros((2, 3)), np.ones((1, 1)), np.full((1, 1), 3))
    with pytest.raises(ValueError, match="accumulator bits"):
        kept_matmul(np.zeros((2, 3)), np.ones((1, 1)), np.zeros((1, 1)), accumulator_bits=65)
    with pytest.raises(ValueError, match="too wide"):
        kept_matmul(np.full((1, 1), 2**40), np.full((1, 1), 2**30), np.zeros((1, 1)))
