"""Canonical Huffman coding: exact length, prefix property, decode."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from compress.huffman import canonical_code, huffman_code, huffman_decode, huffman_encode

data = arrays(np.int64, st.integers(1, 400), elements=st.integers(0, 40))


@settings(max_examples=100, deadline=None)
@given(data)
def test_decode_inverts_encode_and_length_is_the_sum(symbols):
    code = huffman_code(symbols)
    stream, nbits = huffman_encode(symbols, code)
    assert nbits == int(code.lengths[symbols].sum()) == code.coded_bits(symbols)
    assert stream.size == -(-nbits // 8)
    np.testing.assert_array_equal(huffman_decode(stream, nbits, code), symbols)


@settings(max_examples=100, deadline=None)
@given(data)
def test_prefix_free_and_complete(symbols):
    code = huffman_code(symbols)
    used = np.flatnonzero(code.lengths)
    if used.size > 1:
        assert sum(2.0 ** -code.lengths[used]) == 1.0  # Kraft equality: optimal codes are full
    words = [format(code.codewords[s], f"0{code.lengths[s]}b") for s in used]
    for a in words:
        assert not any(b != a and b.startswith(a) for b in words)


@settings(max_examples=60, deadline=None)
@given(data)
def test_no_worse_than_fixed_width_and_within_one_bit_of_entropy(symbols):
    code = huffman_code(symbols)
    counts = np.bincount(symbols)
    p = counts[counts > 0] / symbols.size
    entropy = float(-(p * np.log2(p)).sum())
    average = code.coded_bits(symbols) / symbols.size
    assert average <= max(1, int(symbols.max()).bit_length())
    assert entropy - 1e-9 <= average < entropy + 1 + 1e-9 or p.size == 1


def test_known_code():
    symbols = np.array([0] * 45 + [1] * 13 + [2] * 12 + [3] * 16 + [4] * 9 + [5] * 5)
    code = huffman_code(symbols)
    assert code.lengths.tolist() == [1, 3, 3, 3, 4, 4]  # CLRS figure 16.3
    assert code.coded_bits(symbols) == 224
    assert code.table_bits == 6 * 3


def test_single_symbol_and_canonical_rebuild():
    code = huffman_code(np.zeros(10, np.int64), alphabet_size=4)
    assert code.lengths.tolist() == [1, 0, 0, 0]
    assert code.coded_bits(np.zeros(10, np.int64)) == 10
    again = canonical_code(huffman_code(np.array([3, 3, 1, 0, 3])).lengths)
    np.testing.assert_array_equal(
        again.codewords, huffman_code(np.array([3, 3, 1, 0, 3])).codewords
    )


def test_errors():
    with pytest.raises(ValueError, match="non-negative integer"):
        huffman_code(np.array([-1, 2]))
    with pytest.raises(ValueError, match="outside the alphabet"):
        huffman_code(np.array([5]), alphabet_size=4)
    with pytest.raises(ValueError, match="does not cover"):
        huffman_encode(np.array([1]), huffman_code(np.array([0, 0])))
