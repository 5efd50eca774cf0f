"""N:M pruning along the reduction axis, and both metadata encodings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from compress.nm import (
    check_nm,
    nm_from_positions,
    nm_from_ranks,
    nm_group_ranks,
    nm_mask,
    nm_metadata_bits,
    nm_minimal_bits_per_group,
    nm_position_bits,
    nm_positions,
)

patterns = st.integers(1, 8).flatmap(lambda m: st.tuples(st.integers(1, m), st.just(m)))
shapes = st.one_of(
    st.tuples(st.integers(1, 5), st.integers(1, 33)),
    st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)),
)


@settings(max_examples=150, deadline=None)
@given(shapes.flatmap(lambda s: arrays(np.float32, s, elements=st.floats(-4, 4, width=32))),
       patterns)  # fmt: skip
def test_keeps_exactly_n_of_every_m_along_k_and_the_largest(w, pattern):
    n, m = pattern
    mask = nm_mask(w, n, m)
    assert mask.shape == w.shape
    flat, keep = w.reshape(w.shape[0], -1), mask.reshape(w.shape[0], -1)
    k = flat.shape[1]
    for start in range(0, k, m):
        group, kept = np.abs(flat[:, start : start + m]), keep[:, start : start + m]
        assert np.all(kept.sum(axis=1) == min(n, group.shape[1]))
        dropped_max = np.where(~kept, group, -1).max(axis=1)
        kept_min = np.where(kept, group, np.inf).min(axis=1)
        assert np.all(dropped_max <= kept_min)


def test_groups_run_over_in_then_kernel_window():
    w = np.zeros((1, 2, 2, 2), np.float32)
    w[0, 0, 0, 1] = 5  # flat K index 1
    w[0, 1, 1, 0] = 3  # flat K index 6
    mask = nm_mask(w, 1, 4)
    assert np.flatnonzero(mask.ravel()).tolist() == [1, 6]


def test_ties_go_to_the_lower_position():
    assert nm_mask(np.zeros((1, 8)), 2, 4).ravel().tolist() == [1, 1, 0, 0, 1, 1, 0, 0]


def test_asp_example_2_4():
    w = np.array([[0.1, -0.9, 0.5, 0.2, 3.0, -2.0, 1.0, 0.0]])
    assert nm_mask(w, 2, 4).astype(int).tolist() == [[0, 1, 1, 0, 1, 1, 0, 0]]


@settings(max_examples=100, deadline=None)
@given(shapes, patterns, st.integers(0, 2**32 - 1))
def test_positions_round_trip(shape, pattern, seed):
    n, m = pattern
    w = np.random.default_rng(seed).normal(size=shape)
    mask = nm_mask(w, n, m)
    positions = nm_positions(mask, m)
    assert positions.min(initial=0) >= 0 and positions.max(initial=0) < m
    np.testing.assert_array_equal(nm_from_positions(positions, shape, n, m), mask)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 4), patterns, st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_minimal_code_round_trip_and_range(out, pattern, groups, seed):
    n, m = pattern
    shape = (out, groups * m)
    mask = nm_mask(np.random.default_rng(seed).normal(size=shape), n, m)
    ranks = nm_group_ranks(mask, n, m)
    assert ranks.size == out * groups
    assert ranks.min() >= 0 and ranks.max() < math.comb(m, n)
    np.testing.assert_array_equal(nm_from_ranks(ranks, shape, n, m), mask)


def test_every_subset_gets_a_distinct_rank():
    from itertools import combinations

    subsets = list(combinations(range(6), 3))
    mask = np.zeros((len(subsets), 6), bool)
    for row, subset in enumerate(subsets):
        mask[row, list(subset)] = True
    assert sorted(nm_group_ranks(mask, 3, 6).tolist()) == list(range(math.comb(6, 3)))


@pytest.mark.parametrize(
    ("n", "m", "position", "minimal"), [(2, 4, 2, 3), (1, 4, 2, 2), (4, 8, 3, 7), (1, 2, 1, 1),
                                         (3, 3, 2, 0), (1, 1, 0, 0), (2, 16, 4, 7)],
)  # fmt: skip
def test_metadata_widths(n, m, position, minimal):
    assert nm_position_bits(m) == position == math.ceil(math.log2(m))
    assert nm_minimal_bits_per_group(n, m) == minimal == math.ceil(math.log2(math.comb(m, n)))


@settings(max_examples=100, deadline=None)
@given(shapes, patterns)
def test_metadata_bits_equal_their_formula(shape, pattern):
    n, m = pattern
    out, k = shape[0], math.prod(shape[1:])
    kept = int(nm_mask(np.ones(shape), n, m).sum())
    assert nm_metadata_bits(shape, n, m, "positions") == kept * math.ceil(math.log2(m))
    groups = out * math.ceil(k / m)
    assert nm_metadata_bits(shape, n, m, "minimal") == groups * math.ceil(
        math.log2(math.comb(m, n))
    )


def test_2_4_metadata_for_a_known_layer():
    # 300x64 at 2:4: 9600 kept values x 2 bits; 4800 groups x 3 bits
    assert nm_metadata_bits((300, 64), 2, 4) == 19200
    assert nm_metadata_bits((300, 64), 2, 4, "minimal") == 14400


@pytest.mark.parametrize(
    ("n", "m", "message"),
    [(5, 4, "N must be <= M"), (0, 4, "N must be a positive integer"),
     (2, 0, "M must be a positive integer"), (2.0, 4, "not 2.0")],
)  # fmt: skip
def test_bad_patterns_are_refused(n, m, message):
    with pytest.raises(ValueError, match=message):
        check_nm(n, m)


def test_minimal_code_needs_full_groups():
    with pytest.raises(ValueError, match="K divisible by M: K=9"):
        nm_group_ranks(nm_mask(np.ones((2, 9)), 2, 4), 2, 4)
    with pytest.raises(ValueError, match="'positions' or 'minimal'"):
        nm_metadata_bits((2, 8), 2, 4, "packed")
