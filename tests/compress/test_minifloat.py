"""FP8 / FP6 / FP4 codes against the formats' definitions, value by value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress.minifloat import E2M1, E2M3, E3M2, E4M3, E5M2, FLOAT_FORMATS, FloatFormat

FORMATS = list(FLOAT_FORMATS.values())


def reference_value(fmt: FloatFormat, code: int) -> float:
    """The value of ``code`` written straight from the definitions (FP8 paper, OCP MX)."""
    e_bits, m_bits = fmt.exponent_bits, fmt.mantissa_bits
    sign = -1.0 if code >> (e_bits + m_bits) else 1.0
    exponent = (code >> m_bits) & ((1 << e_bits) - 1)
    mantissa = code & ((1 << m_bits) - 1)
    all_ones = (1 << e_bits) - 1
    if fmt.name == "e5m2" and exponent == all_ones:
        return sign * math.inf if mantissa == 0 else math.nan
    if fmt.name == "e4m3" and exponent == all_ones and mantissa == (1 << m_bits) - 1:
        return math.nan
    if exponent == 0:
        return sign * 2.0 ** (1 - fmt.bias) * mantissa / 2**m_bits
    return sign * 2.0 ** (exponent - fmt.bias) * (1 + mantissa / 2**m_bits)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_every_code_matches_the_definition(fmt):
    expected = np.array([reference_value(fmt, c) for c in range(1 << fmt.bits)])
    np.testing.assert_array_equal(fmt.table, expected)  # NaN == NaN here, -0.0 == 0.0
    np.testing.assert_array_equal(np.signbit(fmt.table), np.signbit(expected))


@pytest.mark.parametrize(
    ("fmt", "largest", "smallest", "bits"),
    [(E4M3, 448.0, 2.0**-9, 8), (E5M2, 57344.0, 2.0**-16, 8), (E3M2, 28.0, 0.0625, 6),
     (E2M3, 7.5, 0.125, 6), (E2M1, 6.0, 0.5, 4)],
)  # fmt: skip
def test_published_extremes(fmt, largest, smallest, bits):
    assert fmt.max_normal == largest
    assert fmt.min_subnormal == smallest
    assert fmt.bits == bits


def test_special_values():
    assert np.isnan(E4M3.table[0x7F]) and np.isnan(E4M3.table[0xFF])
    assert np.isnan(E4M3.table).sum() == 2  # only S.1111.111
    assert not np.isinf(E4M3.table).any()
    assert E5M2.table[0x7C] == np.inf and E5M2.table[0xFC] == -np.inf
    assert np.isnan(E5M2.table).sum() == 6  # S.11111.{01,10,11}
    for fmt in (E3M2, E2M3, E2M1):
        assert np.isfinite(fmt.table).all()


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_every_representable_value_encodes_to_its_code(fmt):
    codes = np.arange(1 << fmt.bits)
    finite = np.isfinite(fmt.table)
    encoded = fmt.encode(fmt.table[finite])
    np.testing.assert_array_equal(encoded, codes[finite])  # -0 keeps its sign bit


def _nearest_even(fmt: FloatFormat, x: float) -> float:
    """Brute force: nearest finite value, ties to the even code (even mantissa)."""
    values = fmt.table[: 1 << (fmt.bits - 1)]
    finite = np.flatnonzero(np.isfinite(values))
    distance = np.abs(values[finite] - abs(x))
    best = finite[distance == distance.min()]
    code = best[0] if best.size == 1 else next(c for c in best if c % 2 == 0)
    return math.copysign(float(values[code]), x)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_midpoints_round_to_even(fmt):
    positive = fmt.table[: 1 << (fmt.bits - 1)]
    positive = positive[np.isfinite(positive)]
    midpoints = (positive[:-1] + positive[1:]) / 2
    for x in np.concatenate([midpoints, -midpoints]):
        assert fmt.round(np.array([x]))[0] == _nearest_even(fmt, x), x


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e5, max_value=1e5, allow_nan=False, width=32))
def test_rounding_is_nearest_ties_to_even(fmt, x):
    expected = (
        _nearest_even(fmt, x) if abs(x) <= fmt.max_normal else math.copysign(fmt.max_normal, x)
    )
    got = fmt.round(np.array([x]))[0]
    assert got == expected
    assert math.copysign(1.0, got) == math.copysign(1.0, x)


def test_saturating_and_overflowing_conversion():
    assert E4M3.round(np.array([1e6, -1e6])).tolist() == [448.0, -448.0]
    assert E4M3.encode(np.array([464.0]), saturate=False)[0] == 0x7E  # rounds down to 448
    assert np.isnan(E4M3.round(np.array([480.0]), saturate=False)[0])  # tie -> 512: NaN
    assert E5M2.round(np.array([61439.0]), saturate=False)[0] == 57344.0
    assert E5M2.round(np.array([61440.0]), saturate=False)[0] == np.inf  # tie to even -> inf
    assert E5M2.round(np.array([-np.inf]), saturate=False)[0] == -np.inf
    assert E5M2.round(np.array([np.inf]))[0] == 57344.0
    assert E2M1.round(np.array([100.0]), saturate=False)[0] == 6.0  # no specials: saturates


def test_nan_handling():
    assert E4M3.encode(np.array([np.nan]))[0] == 0x7F
    assert np.isnan(E5M2.round(np.array([np.nan]))[0])
    with pytest.raises(ValueError, match="e2m1 has no NaN"):
        E2M1.encode(np.array([np.nan]))


def test_subnormals_and_underflow():
    assert E4M3.round(np.array([2.0**-10]))[0] == 0.0  # half the smallest: tie to 0 (even)
    assert E4M3.round(np.array([1.5 * 2.0**-10]))[0] == 2.0**-9
    assert E4M3.encode(np.array([-1e-30]))[0] == 0x80  # -0


def test_bad_format_definitions_are_refused():
    with pytest.raises(ValueError, match="1 \\+ e \\+ m <= 8"):
        FloatFormat("bad", 5, 3, 15, "ieee")
    with pytest.raises(ValueError, match="special must be one of"):
        FloatFormat("bad", 4, 3, 7, "weird")
