"""The digits data set (scikit-learn's bundled ``load_digits``; nothing is downloaded).

1797 grayscale 8x8 images of handwritten digits, pixel values 0..16, scaled here to
``[0, 1]``. The split is fixed (stratified, seed 0): 360 test images and 1437 training
images, so every model seed is scored on the same test set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["TEST_SIZE", "Digits", "load_digits_split"]

TEST_SIZE = 360
SPLIT_SEED = 0


@dataclass(frozen=True, eq=False)
class Digits:
    """Training and test arrays: ``x`` float32 ``[n, 64]`` in ``[0, 1]``, ``y`` int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    classes = 10


@lru_cache(maxsize=1)
def load_digits_split() -> Digits:
    """The fixed digits split (cached; arrays are read-only)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=y
    )
    arrays = [np.ascontiguousarray(a) for a in (x_train, y_train, x_test, y_test)]
    for array in arrays:
        array.setflags(write=False)
    return Digits(*arrays)
