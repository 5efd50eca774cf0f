"""The fixed digits split."""

from __future__ import annotations

import numpy as np


def test_split_sizes_stratification_and_range(digits):
    assert digits.x_train.shape == (1437, 64) and digits.x_test.shape == (360, 64)
    assert digits.x_train.dtype == np.float32
    assert digits.x_test.min() >= 0.0 and digits.x_test.max() <= 1.0
    counts = np.bincount(digits.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # stratified: about 36 per class


def test_split_is_fixed_and_read_only(digits):
    from compress.data import load_digits_split

    assert load_digits_split() is digits
    assert not digits.x_train.flags.writeable
