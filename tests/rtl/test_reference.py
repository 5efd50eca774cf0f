"""The functional reference: hand-worked overflow cases and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rtl.reference import accumulate_step, accumulator_range, apply_overflow, reference_matmul


def test_minus_128_squared_accumulated_twice_in_16_bits():
    a = np.full((1, 2), -128)
    b = np.full((2, 1), -128)
    assert reference_matmul(a, b, 16, "wrap")[0, 0] == -32768  # 32768 wraps
    assert reference_matmul(a, b, 16, "saturate")[0, 0] == 32767
    assert reference_matmul(a, b, 17, "wrap")[0, 0] == 32768


def test_saturation_follows_the_order_of_k():
    # k order: 30000 + 30000 saturates at 32767, then - 30000 leaves 2767;
    # the exact sum 30000 would fit, so order matters and the RTL's order is k.
    a = np.array([[1, 1, 1]])
    b = np.array([[30000], [30000], [-30000]])
    assert reference_matmul(a, b, 16, "saturate")[0, 0] == 2767
    assert reference_matmul(a, b[::-1], 16, "saturate")[0, 0] == 30000


def test_wrap_and_saturate_at_64_bits():
    high = (1 << 63) - 1
    acc = np.array([high - 5, -high - 1 + 5], dtype=np.int64)
    step = np.array([10, -10], dtype=np.int64)
    assert list(accumulate_step(acc, step, 64, "saturate")) == [high, -high - 1]
    assert list(accumulate_step(acc, step, 64, "wrap")) == [-high - 1 + 4, high - 4]


def test_apply_overflow_hand_values():
    assert accumulator_range(8) == (-128, 127)
    values = np.array([-129, -128, 127, 128, 255, 256, -300])
    assert list(apply_overflow(values, 8, "wrap")) == [127, -128, 127, -128, -1, 0, -44]
    assert list(apply_overflow(values, 8, "saturate")) == [-128, -128, 127, 127, 127, 127, -128]


@settings(max_examples=60, deadline=None)
@given(
    a=hnp.arrays(
        np.int64, st.tuples(st.integers(1, 6), st.integers(1, 9)), elements=st.integers(-128, 127)
    ),
    n=st.integers(1, 6),
    bits=st.integers(16, 40),
    data=st.data(),
)
def test_wrap_is_the_exact_matmul_wrapped_and_saturate_is_clip_without_overflow(a, n, bits, data):
    b = data.draw(hnp.arrays(np.int64, (a.shape[1], n), elements=st.integers(-128, 127)))
    exact = a @ b
    wrapped = reference_matmul(a, b, bits, "wrap")
    low, high = accumulator_range(bits)
    assert np.all((wrapped - exact) % (1 << bits) == 0)
    assert wrapped.min() >= low and wrapped.max() <= high
    saturated = reference_matmul(a, b, bits, "saturate")
    if bits >= 16 + int(np.ceil(np.log2(a.shape[1] + 1))):  # no partial sum can overflow
        np.testing.assert_array_equal(saturated, exact)
    assert saturated.min() >= low and saturated.max() <= high


def test_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"need a \(m, k\) and b \(k, n\)"):
        reference_matmul(np.ones((2, 3)), np.ones((2, 3)), 32, "wrap")
