"""One integer layer: bit for bit against the integer reference, and against floats."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from compress.fixedpoint import accumulator_range
from compress.integer_layer import input_offset, integer_layer, quantize_activations
from compress.integer_weights import integer_weights
from compress.pipeline import compress_weights
from compress.quant import ActivationQuant, Granularity, IntSpec
from tests.compress.integer_cases import activation_formats, codes_of, compressed_tensors
from tests.compress.integer_reference import reference_layer, rule, scale_grid


@st.composite
def layer_cases(draw):
    ct = draw(compressed_tensors())
    iw = integer_weights(ct)
    inp = draw(activation_formats())
    bits = draw(st.integers(4, 32))
    out = draw(st.one_of(st.none(), activation_formats()))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    s_a = np.float64(np.float32(inp.scale))
    if out is not None:  # an output scale that spreads the results over the codes
        spread = 2.0 ** draw(st.floats(-4, 8)) * s_a * iw.scale.max() / 2**out.spec.bits
        out = ActivationQuant(out.spec, float(np.float32(spread)), out.zero_point, "minmax")
    b_int = rng.integers(-(2 ** (bits - 3)), 2 ** (bits - 3) + 1, size=ct.shape[0])
    bias = (b_int * s_a * iw.scale.max(axis=1)).astype(np.float32)
    relu = draw(st.booleans())
    overflow = draw(st.sampled_from(["wrap", "saturate"]))
    codes = codes_of(inp, (draw(st.integers(1, 5)), iw.k), draw(st.integers(0, 2**16)))
    return ct, iw, inp, bias, out, relu, bits, overflow, codes


@settings(max_examples=250, deadline=None)
@given(layer_cases())
def test_layer_equals_the_integer_reference_bit_for_bit(case):
    """Hypothesis over shapes, N:M patterns, integer and codebook formats, scale
    granularities, input/output widths and zero points, ReLU, wrap and saturate, and
    accumulators from 4 to 32 bits (the narrow ones overflow)."""
    ct, iw, inp, bias, out, relu, bits, overflow, codes = case
    try:
        layer = integer_layer(iw, inp, bias, out, relu, bits, overflow)
    except ValueError as exc:  # a logit multiplier past 2**14: scales too far apart
        assert "multiplier" in str(exc)
        return
    want = reference_layer(ct, inp, bias, out, relu, bits, overflow, codes)
    np.testing.assert_array_equal(layer(codes), want)


@settings(max_examples=150, deadline=None)
@given(compressed_tensors(), activation_formats(), st.integers(0, 2**16))
def test_zero_points_are_exact(ct, inp, seed):
    """The re-centred operands and the folded constant give sum_k (q_a - z_a) w + b_int
    exactly (modulo 2**32 when that overflows a wrapping 32-bit accumulator)."""
    iw = integer_weights(ct)
    rng = np.random.default_rng(seed)
    b_int = rng.integers(-1000, 1000, size=ct.shape[0])
    bias = (b_int * np.float64(np.float32(inp.scale)) * iw.scale.max(axis=1)).astype(np.float32)
    layer = integer_layer(iw, inp, bias, None, accumulator_bits=32)
    codes = codes_of(inp, (3, iw.k), seed)
    direct = (codes - inp.zero_point) @ iw.dense.T
    per_group = layer.accumulators(codes)
    widest = np.argmax(iw.scale, axis=1)
    groups = iw.group_of_k
    for g in range(iw.groups):
        want = (codes[:, groups == g] - inp.zero_point) @ iw.dense[:, groups == g].T
        want = want + np.where(widest == g, layer.bias, 0)
        np.testing.assert_array_equal(per_group[:, :, g], rule(want, 32, "wrap"))
    total = per_group.sum(axis=2)
    np.testing.assert_array_equal(rule(total, 32, "wrap"), rule(direct + layer.bias, 32, "wrap"))
    np.testing.assert_array_equal(layer.bias, b_int)


@settings(max_examples=100, deadline=None)
@given(compressed_tensors(), activation_formats(), activation_formats(), st.integers(0, 2**16))
def test_float_path_agrees_except_at_rounding_boundaries(ct, inp, out, seed):
    """The fake-quantized float layer with the integer layer's weights and bias gives the
    same codes, except where the exact value is within float32 error of a rounding
    boundary of the output format."""
    iw = integer_weights(ct)
    s_a = np.float64(np.float32(inp.scale))
    spread = s_a * iw.scale.max() * max(iw.k, 1) / 2 ** min(out.spec.bits, 8)
    out = ActivationQuant(out.spec, float(np.float32(spread)), out.zero_point, "minmax")
    rng = np.random.default_rng(seed)
    bias = (rng.normal(size=ct.shape[0]) * spread * 4).astype(np.float32)
    layer = integer_layer(iw, inp, bias, out, relu=True)
    codes = codes_of(inp, (4, iw.k), seed)
    wide = iw.accumulate(layer.operands(codes), 64) + layer.addend
    assume(np.abs(wide).max() < 2**31)  # 16 x 17-bit operands can overflow int32
    x = (codes - inp.zero_point).astype(np.float32) * np.float32(inp.scale)
    w_hat = iw.dequantized().reshape(ct.shape[0], -1)
    y = np.maximum(x @ w_hat.T + layer.float_bias(), 0)
    float_codes = quantize_activations(out, y)
    got = layer(codes)
    exact = (layer.accumulators(codes) * (s_a * iw.scale.astype(np.float64)) / out.scale).sum(-1)
    near = np.abs(exact - np.floor(exact) - 0.5) < 1e-4 * np.maximum(1, np.abs(exact))
    differ = got != float_codes
    assert np.all(near[differ]) and np.all(np.abs(got - float_codes) <= 1)


def test_relu_clamps_at_the_output_zero_point(rng):
    ct = compress_weights({"w": rng.normal(size=(16, 24)).astype(np.float32)}, "int8").tensors["w"]
    spec = IntSpec(8, symmetric=False, granularity=Granularity.TENSOR)
    inp = ActivationQuant(spec, 0.02, 7, "minmax")
    out = ActivationQuant(spec, 0.05, 40, "minmax")
    codes = codes_of(inp, (50, 24), 1)
    with_relu = integer_layer(integer_weights(ct), inp, None, out, relu=True)(codes)
    without = integer_layer(integer_weights(ct), inp, None, out, relu=False)(codes)
    assert with_relu.min() == 40 and without.min() < 40
    np.testing.assert_array_equal(with_relu, np.maximum(without, 40))


def test_unsigned_activations_run_as_signed_operands():
    spec = IntSpec(8, symmetric=False, granularity=Granularity.TENSOR)
    assert input_offset(ActivationQuant(spec, 0.1, 0, "minmax")) == 128
    signed = IntSpec(8, symmetric=True, granularity=Granularity.TENSOR)
    assert input_offset(ActivationQuant(signed, 0.1, 0, "minmax")) == 0


def test_per_tensor_logits_are_the_accumulators(rng):
    ct = compress_weights(
        {"w": rng.normal(size=(10, 32)).astype(np.float32)}, "prune 2:4 -> int8 per-tensor"
    ).tensors["w"]
    spec = IntSpec(8, symmetric=False, granularity=Granularity.TENSOR)
    layer = integer_layer(integer_weights(ct), ActivationQuant(spec, 0.01, 3, "minmax"),
                          rng.normal(size=10).astype(np.float32))  # fmt: skip
    codes = codes_of(layer.input, (6, 32), 2)
    np.testing.assert_array_equal(layer(codes), layer.accumulators(codes)[:, :, 0])
    assert (layer.output_min, layer.output_max) == accumulator_range(32)
    assert layer.output_scale == pytest.approx(0.01 * ct.scales[0, 0], rel=1e-6)


def test_layer_errors(rng):
    ct = compress_weights({"w": rng.normal(size=(4, 8)).astype(np.float32)}, "int8").tensors["w"]
    iw = integer_weights(ct)
    spec = IntSpec(8, symmetric=False, granularity=Granularity.TENSOR)
    inp = ActivationQuant(spec, 0.01, 0, "minmax")
    with pytest.raises(ValueError, match="accumulator bits must be an integer from 2 to 32"):
        integer_layer(iw, inp, accumulator_bits=48)
    with pytest.raises(ValueError, match="bias does not fit a 8-bit accumulator"):
        integer_layer(iw, inp, np.full(4, 1e3, np.float32), accumulator_bits=8)
    with pytest.raises(ValueError, match=r"w: bias must have shape \(4,\)"):
        integer_layer(iw, inp, np.zeros(3, np.float32))
    layer = integer_layer(iw, inp)
    with pytest.raises(ValueError, match=r"w: input codes must be \[m, 8\]"):
        layer(np.zeros((2, 7), np.int64))
    with pytest.raises(ValueError, match=r"w: input codes must lie in \[0, 255\]"):
        layer(np.full((2, 8), 256))
    tiny = ActivationQuant(spec, 1e-9, 0, "minmax")
    with pytest.raises(ValueError, match="w: requantization multiplier"):
        integer_layer(iw, inp, output=tiny)


def test_scale_grid_of_the_reference_matches_the_model(rng):
    """The reference derives its scales on its own; they must be the model's."""
    for recipe in ("int4 affine per-group 5", "int8 per-tensor", "kmeans 3bit"):
        ct = compress_weights({"w": rng.normal(size=(3, 12)).astype(np.float32)}, recipe)
        ct = ct.tensors["w"]
        np.testing.assert_array_equal(scale_grid(ct)[1], integer_weights(ct).scale)
