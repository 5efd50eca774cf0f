"""Every stored form decodes back to the dequantized values, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress.codec import build_tensor, decode, dense_sparsity, fake_quantize
from compress.encoding import (
    CodebookValues,
    FloatValues,
    Fp32Values,
    IntValues,
    LowRankValues,
    MXValues,
    VectorValues,
)
from compress.kmeans import kmeans_scalar
from compress.lowrank import low_rank
from compress.minifloat import E4M3, E5M2
from compress.mvq import mvq
from compress.mx import MX_FORMATS
from compress.nm import nm_mask
from compress.pool import PoolSpec, learn_pool
from compress.prune import channel_mask, magnitude_mask
from compress.quant import Granularity, IntSpec, quantize_int
from compress.sparse_index import relative_index
from compress.tensor import (
    IndexKind,
    Sparsity,
    SparsityKind,
)

ENCODINGS = [
    Fp32Values(),
    IntValues(IntSpec(8)),
    IntValues(IntSpec(4, granularity=Granularity.TENSOR)),
    IntValues(IntSpec(3, symmetric=False)),
    IntValues(IntSpec(6, granularity=Granularity.GROUP, group_size=5)),
    FloatValues(E4M3, "channel"),
    FloatValues(E5M2, "tensor"),
    FloatValues(E4M3, "none"),
    *(MXValues(f) for f in MX_FORMATS.values()),
]


def sparsities(w):
    nm = nm_mask(w, 2, 4)
    un = magnitude_mask(w, 0.8)
    ch = channel_mask(w, 0.5)
    return {
        "dense": dense_sparsity(),
        "nm-positions": Sparsity(SparsityKind.NM, nm, IndexKind.NM_POSITIONS, (2, 4)),
        "nm-minimal": Sparsity(SparsityKind.NM, nm, IndexKind.NM_MINIMAL, (2, 4)),
        "bitmask": Sparsity(SparsityKind.UNSTRUCTURED, un, IndexKind.BITMASK),
        "relative": Sparsity(
            SparsityKind.UNSTRUCTURED, un, IndexKind.RELATIVE, relative=relative_index(un, 2)
        ),
        "channel": Sparsity(SparsityKind.CHANNEL, ch, IndexKind.CHANNEL),
    }


def bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype == np.float32 and np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("encoding", ENCODINGS, ids=lambda e: e.name + e.scale_granularity)
@pytest.mark.parametrize("shape", [(6, 16), (4, 4, 3, 3)])
@pytest.mark.parametrize("huffman", [False, True])
def test_decode_is_bit_exact_for_every_structure(encoding, shape, huffman, rng):
    w = rng.normal(size=shape).astype(np.float32)
    for label, sparsity in sparsities(w).items():
        if huffman and isinstance(encoding, Fp32Values):
            with pytest.raises(ValueError, match="Huffman coding needs integer codes"):
                build_tensor("w", w, sparsity, encoding, huffman=True)
            continue
        ct = build_tensor("w", w, sparsity, encoding, huffman=huffman)
        assert bits_equal(decode(ct), ct.values), label
        mask = np.ones(shape, bool) if sparsity.mask is None else sparsity.mask
        assert not ct.values[~mask].any(), label
        expected = (
            fake_quantize(w, mask, encoding)
            if not isinstance(encoding, Fp32Values)
            else (np.where(mask, w, np.float32(0)))
        )
        assert bits_equal(ct.values, expected.astype(np.float32)), label


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([(3, 8), (5, 13), (2, 3, 2, 2), (4, 2, 3, 3)]),
    st.integers(0, 2**32 - 1),
    st.sampled_from(ENCODINGS[1:]),
    st.sampled_from(["dense", "nm-positions", "bitmask", "relative", "channel"]),
    st.booleans(),
)
def test_decode_gives_back_exactly_the_kept_values(shape, seed, encoding, structure, huffman):
    w = (np.random.default_rng(seed).standard_t(3, size=shape) * 0.1).astype(np.float32)
    sparsity = sparsities(w)[structure]
    ct = build_tensor("w", w, sparsity, encoding, huffman=huffman)
    assert bits_equal(decode(ct), ct.values)
    mask = ct.gemm_mask.reshape(shape)
    assert ct.codes.size == sparsity.entries(shape) >= int(mask.sum())


def test_int_codes_are_the_quantizer_codes(rng):
    w = rng.normal(size=(5, 12)).astype(np.float32)
    mask = nm_mask(w, 2, 4)
    sparsity = Sparsity(SparsityKind.NM, mask, IndexKind.NM_POSITIONS, (2, 4))
    ct = build_tensor("w", w, sparsity, IntValues(IntSpec(8)))
    q = quantize_int(np.where(mask, w, 0), IntSpec(8))
    np.testing.assert_array_equal(ct.codes, q.codes[mask])  # integer codes in storage order
    assert ct.codes.size == 30


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(0, 2**32 - 1), st.sampled_from(ENCODINGS),
       st.floats(0, 0.95), st.integers(1, 6))  # fmt: skip
def test_storage_bits_equal_their_formula(out, k, seed, encoding, amount, gap_bits):
    w = np.random.default_rng(seed).normal(size=(out, k)).astype(np.float32)
    mask = magnitude_mask(w, amount)
    rel = relative_index(mask, gap_bits)
    sparsity = Sparsity(SparsityKind.UNSTRUCTURED, mask, IndexKind.RELATIVE, relative=rel)
    ct = build_tensor("w", w, sparsity, encoding)
    bits = encoding.code_bits
    assert ct.storage.values == rel.entries * bits
    assert ct.storage.index == rel.entries * gap_bits
    assert ct.storage.codebook == 0
    if isinstance(encoding, MXValues):
        expected_scales = out * math.ceil(k / 32) * 8
    elif isinstance(encoding, IntValues):
        spec = encoding.spec
        grid = {"tensor": 1, "channel": out}.get(spec.granularity.value)
        grid = grid or out * math.ceil(k / spec.group_size)
        expected_scales = grid * 32 + (0 if spec.symmetric else grid * spec.bits)
    elif isinstance(encoding, FloatValues):
        expected_scales = {"none": 0, "tensor": 32, "channel": out * 32}[encoding.scale]
    else:
        expected_scales = 0
    assert ct.storage.scales == expected_scales
    assert ct.stats.total_bits == ct.storage.total
    assert ct.stats.bits_per_weight == ct.storage.total / (out * k)


def test_index_bits_per_structure(rng):
    w = rng.normal(size=(8, 12)).astype(np.float32)
    s = sparsities(w)
    bits = {k: build_tensor("w", w, v, IntValues(IntSpec(8))).storage.index for k, v in s.items()}
    assert bits["dense"] == 0
    assert bits["nm-positions"] == 8 * 6 * 2
    assert bits["nm-minimal"] == 8 * 3 * 3
    assert bits["bitmask"] == 96
    assert bits["channel"] == 8


def test_kmeans_codebook_storage_and_decode(rng):
    w = rng.normal(size=(10, 30)).astype(np.float32)
    mask = magnitude_mask(w, 0.9)
    sparsity = Sparsity(SparsityKind.UNSTRUCTURED, mask, IndexKind.RELATIVE,
                        relative=relative_index(mask, 3))  # fmt: skip
    enc = CodebookValues(4, zero_centroid=True)
    ct = build_tensor("w", w, sparsity, enc, huffman=True)
    assert bits_equal(decode(ct), ct.values)
    assert ct.codebook[0] == 0.0 and ct.codebook.size == 16
    value_bits = ct.value_code.coded_bits(ct.codes)
    index_bits = ct.index_code.coded_bits(sparsity.relative.gaps)
    assert ct.storage.values == value_bits and ct.storage.index == index_bits
    assert ct.storage.codebook == 16 * 32 + ct.value_code.table_bits + ct.index_code.table_bits
    stats = ct.stats
    assert (stats.codebook.entries, stats.value_bits, stats.entropy_coded) == (16, 4, True)
    assert stats.coded_symbols == ct.codes.size + sparsity.relative.gaps.size
    with pytest.raises(ValueError, match="needs a zero centroid"):
        build_tensor("w", w, sparsity, CodebookValues(4, zero_centroid=False))


def test_kmeans_centroids_come_from_the_kept_weights(rng):
    w = rng.normal(size=(4, 16)).astype(np.float32)
    clusters = kmeans_scalar(w, 3)
    ct = build_tensor("w", w, dense_sparsity(), CodebookValues(3), learned=clusters)
    np.testing.assert_array_equal(ct.codes, clusters.index)
    assert bits_equal(ct.values, clusters.centroids[clusters.index].reshape(4, 16))


def test_vector_encodings_decode_exactly(rng):
    layers = {"a": rng.normal(size=(12, 20)).astype(np.float32),
              "b": rng.normal(size=(6, 10, 3, 3)).astype(np.float32)}  # fmt: skip
    spec = PoolSpec(8, 16)
    pool = learn_pool(layers, spec)
    for name, w in layers.items():
        enc = VectorValues("pool", 4, 8, pool="p", scale="channel")
        ct = build_tensor(name, w, dense_sparsity(), enc, pool.layers[name], pool.codewords)
        assert bits_equal(decode(ct), ct.values)
        assert ct.storage.codebook == 0  # the shared pool is counted once by the model
        assert ct.storage.values == ct.codes.size * 4
        assert ct.storage.scales == w.shape[0] * 32
    w = layers["a"]
    mask = nm_mask(w, 2, 4)
    vq = mvq(w, mask, 3, 4)
    sparsity = Sparsity(SparsityKind.NM, mask, IndexKind.NM_POSITIONS, (2, 4))
    ct = build_tensor("a", w, sparsity, VectorValues("mvq", 3, 4), vq)
    assert bits_equal(decode(ct), ct.values)
    assert ct.storage.values == 12 * 5 * 3 and ct.storage.codebook == 8 * 4 * 32


def test_low_rank_tensor(rng):
    w = rng.normal(size=(20, 30)).astype(np.float32)
    factors = low_rank(w, param_ratio=0.5)
    ct = build_tensor("w", w, dense_sparsity(), LowRankValues(factors.rank), factors)
    assert bits_equal(decode(ct), ct.values)
    assert ct.storage.values == factors.rank * 50 * 32


def test_invalid_tensors_are_refused(rng):
    w = rng.normal(size=(4, 8)).astype(np.float32)
    with pytest.raises(ValueError, match="index must be one of"):
        Sparsity(SparsityKind.NM, nm_mask(w, 2, 4), IndexKind.BITMASK, (2, 4))
    with pytest.raises(ValueError, match="mask is required"):
        Sparsity(SparsityKind.UNSTRUCTURED, None, IndexKind.BITMASK)
    ct = build_tensor("w", w, dense_sparsity(), IntValues(IntSpec(8)))
    from dataclasses import replace

    with pytest.raises(ValueError, match="31 codes for 32 stored entries"):
        replace(ct, codes=ct.codes[:-1])
    with pytest.raises(ValueError, match="values must be a float32 array"):
        replace(ct, values=ct.values.astype(np.float64))


def test_weight_stats_pickle(rng):
    """Summaries cross process boundaries (sweep workers)."""
    import pickle

    ct = build_tensor("w", rng.normal(size=(4, 8)).astype(np.float32), Sparsity(),
                      IntValues(IntSpec(8)))  # fmt: skip
    again = pickle.loads(pickle.dumps(ct.stats))
    assert again.storage == ct.stats.storage
    assert np.array_equal(again.group_max[4], ct.stats.group_max[4])
