"""Accumulator rules and fixed-point requantization against Python integers."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress.fixedpoint import (
    Overflow,
    accumulate_step,
    apply_overflow,
    quantize_multiplier,
    requantize,
)
from tests.compress.integer_reference import rule

multipliers = st.floats(2.0**-40, 2.0**14, exclude_max=True)
int32s = st.integers(-(2**31), 2**31 - 1)


@settings(max_examples=300, deadline=None)
@given(multipliers)
def test_multiplier_is_31_bits_and_within_half_a_step(real):
    fpm = quantize_multiplier(real)
    m0, shift = int(fpm.multiplier[0]), int(fpm.shift)
    assert 16 <= shift <= 62 and 0 <= m0 < 2**31
    if shift < 62:
        assert m0 >= 2**30
    error = abs(Fraction(m0, 2**shift) - Fraction(real))
    assert error <= Fraction(1, 2 ** (shift + 1))
    if real >= 2.0**-31:
        assert error <= Fraction(real) * Fraction(1, 2**31)


@settings(max_examples=300, deadline=None)
@given(int32s, multipliers)
def test_requantize_is_the_rounded_product_within_the_bound(x, real):
    """y = round(x M0 / 2**shift) exactly (ties up) and |y - x M| <= 1/2 + |x| M 2**-31."""
    fpm = quantize_multiplier(real)
    m0, shift = int(fpm.multiplier[0]), int(fpm.shift)
    y = int(requantize(np.array([x]), fpm))
    exact = Fraction(x * m0, 2**shift)
    assert y == (x * m0 + 2 ** (shift - 1)) // 2**shift
    assert Fraction(-1, 2) < y - exact <= Fraction(1, 2)  # ties go up
    error = abs(y - Fraction(x) * Fraction(real))
    assert error <= Fraction(1, 2) + abs(x) * Fraction(1, 2 ** (shift + 1))
    if real >= 2.0**-31:
        assert error <= Fraction(1, 2) + abs(x) * Fraction(real) / 2**31


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_grouped_requantize_rounds_the_exact_wide_sum_once(data):
    rows, groups = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 9))
    size = rows * groups
    real = np.array(data.draw(st.lists(multipliers, min_size=size, max_size=size)))
    acc = np.array(data.draw(st.lists(int32s, min_size=size, max_size=size)))
    fpm = quantize_multiplier(real.reshape(rows, groups))
    y = requantize(acc.reshape(rows, groups), fpm)
    for r in range(rows):
        shift = int(fpm.shift[r])
        pairs = zip(acc.reshape(rows, -1)[r], fpm.multiplier[r], strict=True)
        total = sum(int(a) * int(m) for a, m in pairs)
        assert y[r] == (total + 2 ** (shift - 1)) // 2**shift


def test_requantize_broadcasts_per_channel_multipliers_over_a_batch():
    fpm = quantize_multiplier(np.array([[0.25], [0.5], [3.0]]))
    acc = np.array([[[4], [4], [4]], [[-6], [-6], [-6]]])
    np.testing.assert_array_equal(requantize(acc, fpm), [[1, 2, 12], [-1, -3, -18]])


def test_ties_round_up_and_exact_multipliers_are_exact():
    half = quantize_multiplier(0.5)
    assert int(half.multiplier[0]) == 2**30 and int(half.shift) == 31
    np.testing.assert_array_equal(requantize(np.array([[3], [-3], [5]]), half), [2, -1, 3])
    one = quantize_multiplier(1.0)
    x = np.array([[2**31 - 1], [-(2**31)]])
    np.testing.assert_array_equal(requantize(x, one), x[:, 0])


def test_bad_multipliers_and_accumulators():
    for bad in (0.0, -1.0, np.inf, np.nan, 2.0**14):
        with pytest.raises(ValueError, match="multiplier"):
            quantize_multiplier(bad)
    with pytest.raises(ValueError, match="at most 32 bits"):
        requantize(np.array([[2**31]]), quantize_multiplier(1.0))


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 64), st.sampled_from(["wrap", "saturate"]), st.data())
def test_accumulate_step_is_the_rule_of_the_exact_sum(bits, overflow, data):
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    acc = data.draw(st.lists(st.integers(low, high), min_size=1, max_size=8))
    product = data.draw(
        st.lists(st.integers(-(2**40), 2**40), min_size=len(acc), max_size=len(acc))
    )
    got = accumulate_step(np.array(acc), np.array(product), bits, overflow)
    for a, p, g in zip(acc, product, got, strict=True):
        total = a + p
        want = min(max(total, low), high) if overflow == "saturate" else total
        if overflow == "wrap":
            want = (total - low) % 2**bits + low
        assert int(g) == want
    if bits <= 62:
        np.testing.assert_array_equal(got, rule(np.array(acc) + product, bits, overflow))


def test_wrap_keeps_the_low_bits():
    wrapped = apply_overflow([127, 128, -129, 255], 8, "wrap")
    np.testing.assert_array_equal(wrapped, [127, -128, 127, -1])
    saturated = apply_overflow([127, 128, -129], 8, "saturate")
    np.testing.assert_array_equal(saturated, [127, 127, -128])


def test_overflow_takes_the_simulators_values():
    from simulator.config import Overflow as ConfigOverflow

    assert {Overflow(v) for v in ConfigOverflow} == set(Overflow)
    assert Overflow(ConfigOverflow.SATURATE) is Overflow.SATURATE
