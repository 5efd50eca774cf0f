"""Relative indexing with filler zeros, as Deep Compression stores sparse layers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from compress.sparse_index import best_gap_bits, check_gap_bits, relative_index

masks = arrays(bool, st.integers(1, 300), elements=st.booleans())


@settings(max_examples=150, deadline=None)
@given(masks, st.integers(1, 8))
def test_round_trip_and_entry_count(mask, gap_bits):
    rel = relative_index(mask, gap_bits)
    kept = np.flatnonzero(mask)
    positions = rel.positions
    np.testing.assert_array_equal(positions[~rel.filler], kept)
    assert np.all(rel.gaps >= 0) and np.all(rel.gaps < 2**gap_bits)
    distance = np.diff(kept, prepend=-1)
    assert rel.entries == int(np.ceil(distance / 2**gap_bits).sum())
    assert rel.index_bits == rel.entries * gap_bits
    assert not mask[positions[rel.filler]].any()  # fillers sit on pruned positions


def test_the_paper_example():
    """Deep Compression fig. 2: 3-bit gaps; a gap of 8 fits, larger gaps need a filler."""
    mask = np.zeros(30, bool)
    mask[[1, 4, 13, 29]] = True  # gaps 2, 3, 9, 16
    rel = relative_index(mask, 3)
    assert rel.gaps.tolist() == [1, 2, 7, 0, 7, 7]
    assert rel.filler.tolist() == [False, False, True, False, True, False]


def test_best_gap_bits_minimizes_total(rng):
    mask = rng.random(5000) < 0.08
    best = best_gap_bits(mask, 5)
    cost = {g: relative_index(mask, g).entries * (g + 5) for g in range(1, 17)}
    assert cost[best] == min(cost.values())


@pytest.mark.parametrize("bits", [0, 17, 2.5])
def test_bad_gap_widths(bits):
    with pytest.raises(ValueError, match="gap_bits"):
        check_gap_bits(bits)
