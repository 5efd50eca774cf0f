"""MX block formats against the OCP Microscaling v1.0 definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress.minifloat import E2M1, E4M3
from compress.mx import MX_FORMATS, MXFP4, MXFP8, MXINT8, MXFormat, decode_e8m0, mx_quantize

FORMATS = list(MX_FORMATS.values())


def test_e8m0_every_code():
    codes = np.arange(256)
    values = decode_e8m0(codes)
    assert np.isnan(values[255])
    np.testing.assert_array_equal(values[:255], [2.0 ** (c - 127) for c in range(255)])


def test_mxint8_elements_are_two_complement_over_64():
    codes = np.arange(256, dtype=np.uint8)
    expected = [(c - 256 if c > 127 else c) / 64 for c in range(256)]
    np.testing.assert_array_equal(MXINT8.element_values(codes), expected)
    assert MXINT8.emax_elem == 0


@pytest.mark.parametrize(
    ("fmt", "emax", "bits"),
    [("mxint8", 0, 8), ("mxfp8", 8, 8), ("mxfp8-e5m2", 15, 8), ("mxfp6", 4, 6),
     ("mxfp6-e2m3", 2, 6), ("mxfp4", 2, 4)],
)  # fmt: skip
def test_element_emax_and_width(fmt, emax, bits):
    assert MX_FORMATS[fmt].emax_elem == emax
    assert MX_FORMATS[fmt].element_bits == bits
    assert MX_FORMATS[fmt].block_size == 32


def _representable(fmt: MXFormat) -> np.ndarray:
    values = fmt.element_values(np.arange(1 << fmt.element_bits, dtype=np.uint8))
    values = values[np.isfinite(values)]
    if fmt.element == "int8":
        values = values[values > -2]  # encoding saturates at +-127/64
    return values


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("shared_exp", [-127, -20, 0, 7, 100])
def test_every_element_value_survives_a_round_trip(fmt, shared_exp):
    """Blocks made of representable elements times 2**e, whose largest element has the
    format's top exponent, decode back exactly, with scale code e + 127."""
    values = _representable(fmt)
    top = values[np.frexp(np.abs(values))[1] - 1 == fmt.emax_elem][-1]
    for start in range(0, values.size, 31):
        block = np.append(values[start : start + 31], top)
        w = np.ldexp(block, shared_exp)[None, :]
        q = mx_quantize(w, fmt)
        assert q.scale_codes.tolist() == [[shared_exp + 127]]
        np.testing.assert_array_equal(q.dequantize(), w.astype(np.float32))


def test_scale_follows_the_spec_formula():
    w = np.zeros((1, 64))
    w[0, 3] = 5.0  # floor(log2 5) = 2
    w[0, 40] = -0.3  # floor(log2 0.3) = -2
    q = mx_quantize(w, MXFP4)
    assert q.scale_codes.tolist() == [[127 + 2 - 2, 127 - 2 - 2]]
    q8 = mx_quantize(w, MXFP8)
    assert q8.scale_codes.tolist() == [[127 + 2 - 8, 127 - 2 - 8]]


def test_elements_round_to_nearest_even_and_saturate():
    # block max 7.9 -> shared_exp = 2 - 2 = 0 -> E2M1 elements; 7.9 saturates to 6
    w = np.array([[7.9, 2.5, 0.25, 0.75, -5.0]], np.float64)
    q = mx_quantize(w, MXFP4)
    assert q.scale_codes.tolist() == [[127]]
    assert q.dequantize().tolist() == [[6.0, 2.0, 0.0, 1.0, -4.0]]
    np.testing.assert_array_equal(q.codes[0], E2M1.encode(np.array([6.0, 2.0, 0.0, 1.0, -4.0])))


def test_mxint8_quantizes_with_rne():
    w = np.array([[1.0, 1.0 + 1.5 / 64, -1.0 - 0.5 / 64]])
    q = mx_quantize(w, MXINT8)
    assert q.dequantize().tolist() == [[1.0, 1.0 + 2 / 64, -1.0]]


def test_all_zero_block_and_partial_last_block():
    w = np.zeros((2, 40))
    w[1, 35] = 1.0
    q = mx_quantize(w, MXFP8)
    assert q.scale_codes.shape == (2, 2)
    assert q.scale_codes[0].tolist() == [0, 0]  # 2**-127 for empty blocks
    assert q.dequantize()[1, 35] == 1.0
    assert not q.dequantize()[0].any()


def test_conv_blocks_run_along_the_flattened_reduction_axis(rng):
    w = rng.normal(size=(3, 8, 3, 3))
    q = mx_quantize(w, MXFP8)
    flat = mx_quantize(w.reshape(3, -1), MXFP8)
    np.testing.assert_array_equal(q.codes.reshape(3, -1), flat.codes)
    np.testing.assert_array_equal(q.scale_codes, flat.scale_codes)
    assert q.scale_codes.shape == (3, 3)  # ceil(72 / 32)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e4, 1e4, allow_nan=False, width=32), min_size=1, max_size=70),
    st.sampled_from(FORMATS),
)
def test_error_is_bounded_by_the_element_step(values, fmt):
    w = np.array([values], dtype=np.float64)
    q = mx_quantize(w, fmt)
    got = q.dequantize().astype(np.float64)
    scale = decode_e8m0(q.scale_codes)
    x = np.repeat(scale, 32, axis=1)[:, : w.shape[1]]
    if fmt.element == "int8":
        step = x / 64
        bound = np.maximum(step / 2, np.abs(w) - 127 / 64 * x)
    else:
        element = fmt.element
        exponent = np.maximum(np.frexp(np.abs(w) / x)[1] - 1, 1 - element.bias)
        step = x * np.ldexp(1.0, exponent - element.mantissa_bits)
        bound = np.maximum(step / 2, np.abs(w) - element.max_normal * x)
    assert np.all(np.abs(got - w) <= bound * (1 + 1e-6) + 1e-30)


def test_bad_format_is_refused():
    with pytest.raises(ValueError, match="element must be a FloatFormat or 'int8'"):
        MXFormat("x", "int4")
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        MXFormat("x", E4M3, 0)
