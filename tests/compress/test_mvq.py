"""Masked vector quantization: codewords learn only from kept positions."""

from __future__ import annotations

import numpy as np
import pytest

from compress.mvq import mvq, mvq_decode
from compress.nm import nm_mask


def test_pruned_positions_decode_to_zero_and_kept_to_codewords(rng):
    w = rng.normal(size=(16, 32)).astype(np.float32)
    mask = nm_mask(w, 2, 4)
    vq = mvq(w, mask, 4, 8)
    decoded = mvq_decode(vq.index, vq.codewords, mask, w.shape)
    assert not decoded[~mask].any()
    assert vq.index.shape == (16, 4)
    rows = vq.codewords[vq.index].reshape(16, 32)
    np.testing.assert_array_equal(decoded[mask], rows[mask])


def test_pruned_values_do_not_move_codewords(rng):
    w = rng.normal(size=(8, 16)).astype(np.float32)
    mask = nm_mask(w, 2, 4)
    garbage = np.where(mask, w, 1000.0).astype(np.float32)
    a, b = mvq(w, mask, 3, 4, seed=1), mvq(garbage, mask, 3, 4, seed=1)
    np.testing.assert_array_equal(a.index, b.index)
    np.testing.assert_allclose(a.codewords, b.codewords)


def test_enough_codewords_reproduce_the_kept_weights(rng):
    w = rng.normal(size=(4, 8)).astype(np.float32)
    mask = nm_mask(w, 2, 4)
    vq = mvq(w, mask, 3, 4)  # 8 codewords for 8 vectors
    decoded = mvq_decode(vq.index, vq.codewords, mask, w.shape)
    np.testing.assert_allclose(decoded, np.where(mask, w, 0), atol=1e-6)


def test_errors(rng):
    with pytest.raises(ValueError, match="vector length v"):
        mvq(np.ones((2, 8)), np.ones((2, 8), bool), 2, 0)
    with pytest.raises(ValueError, match="MVQ bits"):
        mvq(np.ones((2, 8)), np.ones((2, 8), bool), 0, 4)
