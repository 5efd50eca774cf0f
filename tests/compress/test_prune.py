"""Magnitude pruning: exact counts, global thresholds, filters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress.prune import channel_mask, check_amount, global_magnitude_masks, magnitude_mask


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 400), st.floats(0, 0.999), st.integers(0, 2**32 - 1))
def test_layerwise_keeps_the_exact_count_of_largest(size, amount, seed):
    w = np.random.default_rng(seed).normal(size=(1, size))
    mask = magnitude_mask(w, amount)
    keep = max(1, round((1 - amount) * size))
    assert mask.sum() == keep
    assert np.abs(w[~mask]).max(initial=0) <= np.abs(w[mask]).min()


def test_global_threshold_prunes_small_layers_more(rng):
    big = rng.uniform(1, 2, size=(10, 10)) * rng.choice([-1, 1], size=(10, 10))
    small = rng.uniform(-0.5, 0.5, size=(10, 10))
    masks = global_magnitude_masks({"big": big, "small": small}, 0.5)
    assert masks["big"].sum() == 100  # the 100 largest of 200 are all in the big layer
    assert masks["small"].sum() == 1  # a layer keeps at least its largest weight


def test_global_equals_one_threshold(rng):
    layers = {"a": rng.normal(size=(5, 7)), "b": rng.normal(size=(3, 2, 2, 2)) * 2}
    masks = global_magnitude_masks(layers, 0.7)
    kept = np.concatenate([np.abs(layers[k][masks[k]]) for k in layers])
    dropped = np.concatenate([np.abs(layers[k][~masks[k]]) for k in layers])
    assert kept.size == round(0.3 * 59)
    assert dropped.max() <= kept.min()


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_channel_pruning_removes_whole_filters_by_norm(norm, rng):
    w = rng.normal(size=(6, 3, 3, 3))
    w[2] *= 0.01
    w[4] *= 0.02
    mask = channel_mask(w, 1 / 3, norm)
    rows = mask.reshape(6, -1)
    assert np.all(rows.all(axis=1) | ~rows.any(axis=1))  # whole filters
    assert rows.any(axis=1).tolist() == [True, True, False, True, False, True]


@pytest.mark.parametrize("amount", [1.0, -0.1, 1.5, "90%", True])
def test_bad_amounts_are_refused(amount):
    with pytest.raises(ValueError, match=r"fraction in \[0, 1\)"):
        check_amount(amount)


def test_bad_norm_and_empty_global():
    with pytest.raises(ValueError, match="'l1' or 'l2'"):
        channel_mask(np.ones((2, 2)), 0.5, "linf")
    with pytest.raises(ValueError, match="at least one weight tensor"):
        global_magnitude_masks({}, 0.5)
