# amaranth: UnusedElaboratable=no
"""Compressed layers as the RTL's integer operands, and through the engine."""

from __future__ import annotations

import numpy as np
import pytest

from compress import compress_weights, integer_weights, save_compressed
from compress.layout import gemm_view
from rtl.functional import run_functional
from rtl.operands import codebook_operand, load_layer, weight_operand
from rtl.params import RtlParams
from rtl.reference import reference_layer
from tests.rtl.test_engine import check_amaranth_run

WEIGHTS = {
    "fc": np.random.default_rng(0).normal(size=(10, 22)).astype(np.float32),
    "conv": np.random.default_rng(1).normal(size=(6, 3, 3, 3)).astype(np.float32),
}


def compressed(recipe):
    return compress_weights(WEIGHTS, recipe)


@pytest.mark.parametrize(
    "recipe",
    ["prune 2:4 -> int8 per-channel", "prune 1:4 -> int8", "int8 per-channel", "prune 60% -> int4"],
)
def test_integer_codes_times_their_scales_are_the_values(recipe):
    for ct in compressed(recipe).tensors.values():
        operand = weight_operand(ct)
        values = gemm_view(ct.values).T
        scale = np.asarray(ct.scales, np.float64).reshape(1, -1)
        np.testing.assert_allclose(operand.values * scale, values, rtol=1e-6, atol=1e-7)
        if ct.sparsity.mask is None:
            assert operand.keep is None
        else:
            np.testing.assert_array_equal(operand.keep, gemm_view(ct.sparsity.mask).T)


@pytest.mark.parametrize(
    ("recipe", "vector"),
    [("prune 2:4 -> mvq 4bit v=8", 8), ("pool v=4 P=16", 4), ("kmeans 4bit", 1)],
)
def test_codebook_indices_decode_to_the_values(recipe, vector):
    """table[index] at each k's vector and element, times the table's scale (and the
    pool's channel scale), is the layer's values within half a table step."""
    model = compressed(recipe)
    for ct in model.tensors.values():
        operand = codebook_operand(ct, 8)
        assert operand.vector_length == vector
        scale = operand.table_scale
        if ct.encoding.name.startswith("pool"):
            scale = scale * np.asarray(ct.scales, np.float64).reshape(1, -1)
        values = gemm_view(ct.values).T
        assert np.abs(operand.decoded() * scale - values).max() <= np.max(scale) / 2 + 1e-6


def test_operands_are_the_integer_model():
    """Affine codes run minus their zero point and k-means weights run decoded on arrays
    without a decoder: the integer model's weights, and its reference."""
    for recipe in ("int8 affine", "kmeans 4bit", "prune 2:4 -> mvq 4bit v=8"):
        for ct in compressed(recipe).tensors.values():
            operand = weight_operand(ct)
            integer = integer_weights(ct)
            np.testing.assert_array_equal(operand.values, integer.dense.T)
            assert operand.stats is ct.stats
            a = np.random.default_rng(5).integers(-128, 128, size=(3, operand.shape[0]))
            np.testing.assert_array_equal(
                reference_layer(a, operand, 20, "saturate"),
                integer.accumulate(a, 20, "saturate")[:, :, 0],
            )
            if ct.encoding.name.startswith(("kmeans", "mvq")):
                np.testing.assert_array_equal(codebook_operand(ct, 8).decoded(), operand.values)


def test_refusals_name_the_layer():
    with pytest.raises(ValueError, match="fc: the RTL sums k in one integer accumulator"):
        weight_operand(compressed("int8 per-group 4").tensors["fc"])
    with pytest.raises(ValueError, match="fc: the integer model cannot run e4m3"):
        weight_operand(compressed("fp8 e4m3").tensors["fc"])
    with pytest.raises(ValueError, match="has no codebook"):
        codebook_operand(compressed("int8").tensors["fc"], 8)


def test_layers_from_compressed_npz_through_the_engines(tmp_path, request):
    """``sparsa compress``'s file: a 2:4 int8 layer on an N:M engine and an MVQ layer on
    an N:M engine with a decoder, bit- and cycle-exact in Amaranth's simulator."""
    path = save_compressed(compressed("prune 2:4 -> int8 per-channel"), tmp_path / "c.npz")
    ct = load_layer(path, "fc")
    operand = weight_operand(ct)
    p = RtlParams("e", 4, 4, "ws", 8, 8, 32, pe_kind="nm", nm_patterns=("2:4", "1:4"))
    a = np.random.default_rng(2).integers(-128, 128, size=(3, ct.shape[1]))
    run = check_amaranth_run(p, a, operand, request.node.name)
    assert {f.group_rows for f in run.tiling.folds} == {2}
    mvq = save_compressed(compressed("prune 2:4 -> mvq 4bit v=8"), tmp_path / "m.npz")
    operand = codebook_operand(load_layer(mvq, "conv"), 6)
    p = RtlParams(
        "d",
        4,
        4,
        "ws",
        8,
        8,
        32,
        pe_kind="nm",
        nm_patterns=("2:4", "1:4"),
        weight_decoder="codebook",
        decoder_entries=16,
        decoder_vector_length=8,
        decoder_entry_bits=6,
    )
    a = np.random.default_rng(3).integers(-128, 128, size=(2, 27))
    check_amaranth_run(p, a, operand, request.node.name)
    with pytest.raises(KeyError, match="has no layer 'fc9'"):
        load_layer(mvq, "fc9")


def test_conv_pool_vectors_run_across_k():
    """A conv's pool vectors run along input channels (9 apart in k): still exact on a
    dense array with a decoder, one lookup per weight there."""
    ct = compressed("pool v=4 P=16").tensors["conv"]
    operand = codebook_operand(ct, 8)
    p = RtlParams(
        "d",
        3,
        2,
        "ws",
        8,
        8,
        32,
        weight_decoder="codebook",
        decoder_entries=16,
        decoder_vector_length=4,
        decoder_entry_bits=8,
    )
    a = np.random.default_rng(4).integers(-128, 128, size=(3, 27))
    run = run_functional(p, a, operand)
    np.testing.assert_array_equal(run.result, reference_layer(a, operand, 32, "wrap"))
