"""Canonical Huffman coding of integer codes, with the exact coded length.

Code lengths come from the classic greedy merge of the two least frequent subtrees
(ties broken by the smallest symbol, so the code is deterministic); codewords are
then assigned canonically: symbols sorted by ``(length, symbol)`` get consecutive
integers, left-shifted when the length grows. The coded length of a sequence is
``sum_s count(s) * length(s)``. A decoder needs the length of every symbol of the
alphabet ``[0, alphabet_size)``, ``alphabet_size * bit_length(max_length)`` bits
(:attr:`HuffmanCode.table_bits`), which the storage account charges as codebook bits.
A single-symbol input gets a 1-bit code.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

__all__ = [
    "HuffmanCode",
    "canonical_code",
    "huffman_code",
    "huffman_decode",
    "huffman_encode",
    "to_symbols",
]


@dataclass(frozen=True, eq=False)
class HuffmanCode:
    """A canonical prefix code over the integers ``[0, alphabet_size)``.

    Attributes
    ----------
    alphabet_size : int
    lengths : numpy.ndarray
        int64 ``[alphabet_size]``; 0 for symbols that never occur.
    codewords : numpy.ndarray
        int64 ``[alphabet_size]``: the canonical codeword, MSB first, ``lengths`` bits.
    """

    alphabet_size: int
    lengths: np.ndarray
    codewords: np.ndarray

    @property
    def table_bits(self) -> int:
        """Bits to ship the code: every symbol's length in ``bit_length(max_length)`` bits."""
        return self.alphabet_size * int(self.lengths.max()).bit_length()

    def coded_bits(self, data: np.ndarray) -> int:
        """Exact length of ``data`` once coded: ``sum_i lengths[data_i]``."""
        return int(self.lengths[np.asarray(data, dtype=np.int64)].sum())


def to_symbols(codes: np.ndarray, bits: int) -> np.ndarray:
    """Codes as unsigned ``bits``-bit symbols (two's complement for signed codes), int64."""
    return np.asarray(codes).astype(np.int64).ravel() & ((1 << bits) - 1)


def _lengths(counts: np.ndarray) -> np.ndarray:
    present = np.flatnonzero(counts)
    lengths = np.zeros(counts.size, dtype=np.int64)
    if present.size == 1:
        lengths[present] = 1
        return lengths
    heap = [(int(counts[s]), int(s), [int(s)]) for s in present]
    heapq.heapify(heap)
    while len(heap) > 1:
        c1, k1, s1 = heapq.heappop(heap)
        c2, k2, s2 = heapq.heappop(heap)
        for symbol in s1 + s2:
            lengths[symbol] += 1
        heapq.heappush(heap, (c1 + c2, min(k1, k2), s1 + s2))
    return lengths


def huffman_code(data: np.ndarray, alphabet_size: int | None = None) -> HuffmanCode:
    """Build the canonical Huffman code of non-negative integer ``data``."""
    x = np.asarray(data).ravel()
    if x.size == 0:
        raise ValueError("Huffman coding needs at least one symbol")
    if not np.issubdtype(x.dtype, np.integer) or x.min() < 0:
        raise ValueError("Huffman coding needs non-negative integer symbols")
    size = int(x.max()) + 1 if alphabet_size is None else int(alphabet_size)
    if size <= x.max():
        raise ValueError(f"symbol {int(x.max())} is outside the alphabet [0, {size})")
    return canonical_code(_lengths(np.bincount(x.astype(np.int64), minlength=size)))


def canonical_code(lengths: np.ndarray) -> HuffmanCode:
    """The canonical code with these per-symbol ``lengths`` (0 = unused symbol)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    size = lengths.size
    codewords = np.zeros(size, dtype=np.int64)
    code, previous = 0, 0
    for symbol in sorted(np.flatnonzero(lengths), key=lambda s: (lengths[s], s)):
        code <<= int(lengths[symbol]) - previous
        codewords[symbol] = code
        previous = int(lengths[symbol])
        code += 1
    return HuffmanCode(size, lengths, codewords)


def huffman_encode(data: np.ndarray, code: HuffmanCode) -> tuple[np.ndarray, int]:
    """Pack ``data`` into a bit stream: (uint8 bytes MSB first, number of bits)."""
    x = np.asarray(data, dtype=np.int64).ravel()
    outside = x.size and (x.min() < 0 or x.max() >= code.alphabet_size)
    if outside or np.any(code.lengths[np.clip(x, 0, code.alphabet_size - 1)] == 0):
        raise ValueError("data holds a symbol the Huffman code does not cover")
    lengths = code.lengths[x]
    total = int(lengths.sum())
    owner = np.repeat(np.arange(x.size), lengths)
    offset = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    bits = (code.codewords[x][owner] >> (lengths[owner] - 1 - offset)) & 1
    return np.packbits(bits.astype(np.uint8)), total


def huffman_decode(stream: np.ndarray, nbits: int, code: HuffmanCode) -> np.ndarray:
    """Decode a bit stream of ``huffman_encode`` back to int64 symbols."""
    bits = np.unpackbits(np.asarray(stream, dtype=np.uint8))[:nbits]
    lookup = {
        (int(code.lengths[s]), int(code.codewords[s])): int(s) for s in np.flatnonzero(code.lengths)
    }
    out, value, length = [], 0, 0
    for bit in bits.tolist():
        value = (value << 1) | bit
        length += 1
        symbol = lookup.get((length, value))
        if symbol is not None:
            out.append(symbol)
            value, length = 0, 0
    if length:
        raise ValueError("Huffman stream ends inside a codeword")
    return np.array(out, dtype=np.int64)
