"""k-means weight sharing: linear initialization, Lloyd's fixed point, masked vectors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress.kmeans import (
    assign_vectors,
    centroid_gradient,
    check_bits,
    codeword_gradient,
    kmeans_scalar,
    kmeans_vectors,
)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_scalar_kmeans_is_a_lloyd_fixed_point(bits, size, seed):
    x = np.random.default_rng(seed).normal(size=size)
    clusters = kmeans_scalar(x, bits, iterations=100)
    c = clusters.centroids.astype(np.float64)
    assert c.size == 2**bits
    distance = np.abs(x[:, None] - c[None, :])
    chosen = distance[np.arange(size), clusters.index]
    assert np.all(chosen <= distance.min(axis=1) + 1e-6)  # every value at its nearest centroid
    for j in np.unique(clusters.index):
        np.testing.assert_allclose(c[j], x[clusters.index == j].mean(), rtol=1e-5, atol=1e-6)


def test_linear_initialization_spans_min_to_max():
    x = np.array([-1.0, 0.0, 3.0])
    clusters = kmeans_scalar(x, 2, iterations=0)
    np.testing.assert_allclose(clusters.centroids, np.linspace(-1, 3, 4))


def test_zero_centroid_is_reserved():
    x = np.array([0.5, 0.6, -0.7, 0.01])
    clusters = kmeans_scalar(x, 2, zero_centroid=True)
    assert clusters.centroids[0] == 0.0
    assert clusters.index.min() >= 1  # no kept weight is mapped to the reserved zero


def test_centroid_gradient_is_the_sum_over_members():
    grad = np.array([1.0, 2.0, 3.0, 4.0])
    index = np.array([0, 2, 0, 2])
    assert centroid_gradient(grad, index, 3).tolist() == [4.0, 0.0, 6.0]


def test_masked_coordinates_do_not_matter(rng):
    x = rng.normal(size=(200, 4))
    mask = rng.random((200, 4)) < 0.5
    noisy = np.where(mask, x, rng.normal(size=x.shape) * 100)
    a = kmeans_vectors(x, 8, mask, seed=3)
    b = kmeans_vectors(noisy, 8, mask, seed=3)
    np.testing.assert_array_equal(a.index, b.index)
    np.testing.assert_allclose(a.codewords, b.codewords)


def test_vector_kmeans_reaches_a_fixed_point_and_is_deterministic(rng):
    x = np.concatenate([rng.normal(size=(50, 3)) * 0.1 + c for c in ([5, 0, 0], [0, 5, 0])])
    first = kmeans_vectors(x, 2, seed=0)
    again = kmeans_vectors(x, 2, seed=0)
    np.testing.assert_array_equal(first.index, again.index)
    assert sorted(np.bincount(first.index).tolist()) == [50, 50]
    np.testing.assert_array_equal(assign_vectors(x, first.codewords), first.index)


def test_cosine_assignment_ignores_magnitude():
    codewords = np.array([[1.0, 0.0], [0.0, 1.0]])
    x = np.array([[10.0, 1.0], [0.1, 0.5]])
    assert assign_vectors(x, codewords, metric="cosine").tolist() == [0, 1]
    with pytest.raises(ValueError, match="'euclidean' or 'cosine'"):
        assign_vectors(x, codewords, metric="manhattan")


def test_codeword_gradient_respects_the_mask():
    grad = np.ones((3, 2))
    mask = np.array([[1, 0], [1, 1], [0, 1]], float)
    assert codeword_gradient(grad, np.array([0, 0, 1]), 2, mask).tolist() == [[2, 1], [0, 1]]


@pytest.mark.parametrize("bits", [0, 17, 3.0])
def test_bad_widths(bits):
    with pytest.raises(ValueError, match="from 1 to 16"):
        check_bits(bits)
