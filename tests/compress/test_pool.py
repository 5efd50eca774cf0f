"""The network-wide weight pool."""

from __future__ import annotations

import numpy as np
import pytest

from compress.pool import PoolSpec, assign_pool, learn_pool, pool_decode, pool_scales, pool_vectors


def test_vectors_run_along_input_channels_of_conv():
    w = np.arange(2 * 16 * 3 * 3, dtype=np.float64).reshape(2, 16, 3, 3)
    vectors, covered, grid = pool_vectors(w, 8, np.ones(1))
    assert grid == (2, 9, 2)
    # first vector: output 0, kernel position (0, 0), input channels 0..7
    np.testing.assert_array_equal(vectors[0], w[0, 0:8, 0, 0])
    np.testing.assert_array_equal(vectors[1], w[0, 8:16, 0, 0])
    assert covered.all()


def test_padding_is_masked_and_cropped(rng):
    w = rng.normal(size=(5, 12))
    _, covered, grid = pool_vectors(w, 8, np.ones(1))
    assert grid == (5, 1, 2)
    assert covered.reshape(5, 2, 8)[:, 1, 4:].sum() == 0
    pool = learn_pool({"w": w}, PoolSpec(8, 2, scale="none"))
    decoded = pool_decode(pool.layers["w"].index, pool.codewords, np.ones(1), w.shape)
    assert decoded.shape == (5, 12)


def test_one_pool_serves_all_layers_and_scales_restore_magnitude(rng):
    base = rng.normal(size=(64, 8))
    layers = {"a": base[rng.integers(0, 64, 40)].reshape(10, 32),
              "b": 100 * base[rng.integers(0, 64, 36)].reshape(4, 9, 8).transpose(0, 2, 1)
              .reshape(4, 8, 3, 3)}  # fmt: skip
    spec = PoolSpec(8, 64, scale="layer")
    pool = learn_pool(layers, spec, seed=0)
    assert pool.codewords.shape == (64, 8)
    for name, w in layers.items():
        layer = pool.layers[name]
        decoded = pool_decode(layer.index, pool.codewords, layer.scales, w.shape)
        np.testing.assert_allclose(decoded, w, rtol=1e-4, atol=1e-4 * np.abs(w).max())


def test_scales(rng):
    w = rng.normal(size=(3, 10))
    np.testing.assert_allclose(pool_scales(w, "channel"), np.sqrt((w**2).mean(axis=1)), rtol=1e-6)
    assert pool_scales(w, "layer").shape == (1,)
    assert pool_scales(w, "none").tolist() == [1.0]


def test_reassignment_finds_the_nearest_vector(rng):
    codewords = rng.normal(size=(16, 4)).astype(np.float32)
    pick = rng.integers(0, 16, size=(6, 2))
    w = codewords[pick].reshape(6, 8)
    layer = assign_pool(w, codewords, PoolSpec(4, 16, scale="none"))
    np.testing.assert_array_equal(layer.index.reshape(6, 2), pick)


def test_index_bits_and_validation():
    assert PoolSpec(8, 64).index_bits == 6  # 6 bits / 8 weights = 0.75 bit per weight
    for bad, message in [({"pool_size": 63}, "power of two"), ({"pool_size": 1}, "power of two"),
                         ({"vector_length": 0}, "vector length"), ({"metric": "l1"}, "metric"),
                         ({"scale": "row"}, "scale must be one of")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            PoolSpec(**bad)
    with pytest.raises(ValueError, match="needs at least as many vectors"):
        learn_pool({"w": np.ones((2, 8))}, PoolSpec(8, 64))
