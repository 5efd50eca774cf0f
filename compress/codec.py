"""Assemble a :class:`CompressedTensor` from algorithm outputs, and decode it exactly.

:func:`build_tensor` takes a weight tensor, its sparsity and a number format (and,
for learned formats, what was learned: centroids, a pool assignment, MVQ codewords,
low-rank factors), computes the stored codes with the algorithm modules and the
dequantized ``values`` with their own dequantization. :func:`decode` starts from the
stored arrays only (codes in storage order, the positions recorded by the sparsity,
codebooks, scales) and must give back ``values`` bit for bit.
"""

from __future__ import annotations

import numpy as np

from compress.encoding import (
    CodebookValues,
    Encoding,
    FloatValues,
    Fp32Values,
    IntValues,
    LowRankValues,
    MXValues,
    VectorValues,
)
from compress.huffman import huffman_code, to_symbols
from compress.kmeans import ScalarClusters, kmeans_scalar
from compress.lowrank import LowRank
from compress.mvq import MaskedVQ, mvq_decode
from compress.mx import mx_dequantize, mx_quantize
from compress.pool import PooledLayer, pool_decode
from compress.quant import dequantize_int, quantize_int
from compress.tensor import (
    CompressedTensor,
    IndexKind,
    Sparsity,
    SparsityKind,
)

__all__ = ["build_tensor", "decode", "dense_sparsity", "fake_quantize", "float_scales"]

Learned = ScalarClusters | PooledLayer | MaskedVQ | LowRank | None


def float_scales(weights: np.ndarray, fmt_max: float, scale: str) -> np.ndarray:
    """float32 scale so ``amax`` maps to the format's max: ``[1, 1]`` per tensor,
    ``[out, 1]`` per channel, ``[1, 1]`` of 1.0 for none."""
    matrix = np.abs(weights.reshape(weights.shape[0], -1).astype(np.float64))
    if scale == "none":
        return np.ones((1, 1), np.float32)
    amax = matrix.max(axis=1, keepdims=True) if scale == "channel" else matrix.max().reshape(1, 1)
    s = (amax / fmt_max).astype(np.float32)
    return np.where(s > 0, s, np.float32(1.0)).astype(np.float32)


def _float_values(codes: np.ndarray, scales: np.ndarray | None, enc: FloatValues) -> np.ndarray:
    scales = np.ones((1, 1), np.float32) if scales is None else scales
    grid = enc.format.decode(codes).astype(np.float32).reshape(codes.shape[0], -1)
    return (grid * scales).astype(np.float32).reshape(codes.shape)


def _dense_codes(weights, masked, enc, learned):
    """Codes over the whole grid, their parameters, and the dequantized grid."""
    if isinstance(enc, Fp32Values):
        return masked.view(np.uint32).copy(), None, None, None, masked.copy()
    if isinstance(enc, IntValues):
        q = quantize_int(masked, enc.spec)
        return q.codes, q.scale, q.zero_point, None, q.dequantize()
    if isinstance(enc, FloatValues):
        scales = float_scales(masked, enc.format.max_normal, enc.scale)
        scaled = masked.reshape(masked.shape[0], -1).astype(np.float64) / scales
        codes = enc.format.encode(scaled).reshape(masked.shape)
        stored = None if enc.scale == "none" else scales  # unscaled: nothing to store
        return codes, stored, None, None, _float_values(codes, scales, enc)
    if isinstance(enc, MXValues):
        q = mx_quantize(masked, enc.format)
        return q.codes, q.scale_codes, None, None, q.dequantize()
    raise TypeError(f"not a per-value encoding: {enc!r}")


def fake_quantize(weights: np.ndarray, mask: np.ndarray | None, encoding: Encoding) -> np.ndarray:
    """The dequantized values a per-value format gives ``weights`` (float32, zero where
    ``mask`` is False): what the forward pass of quantization-aware training sees."""
    w = np.asarray(weights, dtype=np.float32)
    keep = np.ones(w.shape, bool) if mask is None else mask
    masked = np.where(keep, w, np.float32(0.0)).astype(np.float32)
    grid = _dense_codes(w, masked, encoding, None)[4]
    return np.where(keep, grid, np.float32(0.0)).astype(np.float32)


def _codebook_codes(weights, mask, enc: CodebookValues, learned: ScalarClusters | None):
    kept = weights[mask]
    clusters = learned or kmeans_scalar(kept, enc.bits, zero_centroid=enc.zero_centroid)
    codes = np.zeros(weights.shape, np.int32)
    codes[mask] = clusters.index
    return codes, clusters.centroids, clusters.centroids[codes]


def _huffman(ct_codes: np.ndarray, bits: int, sparsity: Sparsity, huffman: bool):
    if not huffman:
        return None, None
    if bits > 16:
        raise ValueError("Huffman coding needs integer codes of at most 16 bits (quantize first)")
    value_code = huffman_code(to_symbols(ct_codes, bits), 1 << bits)
    index_code = None
    if sparsity.relative is not None:
        index_code = huffman_code(sparsity.relative.gaps, 1 << sparsity.relative.gap_bits)
    return value_code, index_code


def _build_shared(name, w, sparsity, encoding, learned, codebook, huffman) -> CompressedTensor:
    """Low-rank factors, or vector indices into a pool / MVQ codebook."""
    fields: dict = {}
    if isinstance(encoding, LowRankValues):
        values = learned.reconstruct()
        fields["factors"] = (learned.left, learned.right)
        return CompressedTensor(name, values, sparsity, encoding, **fields)
    mask = np.ones(w.shape, bool) if sparsity.mask is None else sparsity.mask
    if encoding.kind == "pool":
        values = pool_decode(learned.index, codebook, learned.scales, w.shape, sparsity.mask)
        fields.update(codes=learned.index, codebook=codebook)
        fields["scales"] = learned.scales if encoding.scale != "none" else None
    else:
        values = mvq_decode(learned.index, learned.codewords, mask, w.shape)
        fields.update(codes=learned.index, codebook=learned.codewords)
    value_code, index_code = _huffman(fields["codes"], encoding.bits, sparsity, huffman)
    return CompressedTensor(
        name, values, sparsity, encoding, value_code=value_code, index_code=index_code, **fields
    )


def build_tensor(
    name: str,
    weights: np.ndarray,
    sparsity: Sparsity,
    encoding: Encoding,
    learned: Learned = None,
    codebook: np.ndarray | None = None,
    huffman: bool = False,
) -> CompressedTensor:
    """Encode ``weights`` (float32, pruned positions ignored) into a CompressedTensor.

    ``learned`` carries k-means clusters of the kept weights (computed here when
    omitted), a :class:`PooledLayer` together with the shared ``codebook``, a
    :class:`MaskedVQ` or :class:`LowRank` factors.
    """
    w = np.asarray(weights, dtype=np.float32)
    mask = np.ones(w.shape, bool) if sparsity.mask is None else sparsity.mask
    zero = np.float32(0.0)
    masked = np.where(mask, w, zero).astype(np.float32)
    if isinstance(encoding, LowRankValues | VectorValues):
        return _build_shared(name, w, sparsity, encoding, learned, codebook, huffman)
    fields: dict = {}
    if isinstance(encoding, CodebookValues):
        if sparsity.relative is not None and not encoding.zero_centroid:
            raise ValueError(
                f"{name}: relative indexing stores zero fillers; k-means needs a zero centroid"
            )
        codes, centroids, grid = _codebook_codes(w, mask, encoding, learned)
        fields["codebook"] = centroids
    else:
        codes, scales, zero_points, _, grid = _dense_codes(w, masked, encoding, learned)
        fields.update(scales=scales, zero_points=zero_points)
    values = np.where(mask, grid, zero).astype(np.float32)
    stored = codes[sparsity.stored_mask(w.shape)]
    value_code, index_code = _huffman(stored, encoding.code_bits, sparsity, huffman)
    return CompressedTensor(
        name,
        values,
        sparsity,
        encoding,
        codes=stored,
        value_code=value_code,
        index_code=index_code,
        **fields,
    )


def decode(ct: CompressedTensor) -> np.ndarray:
    """Rebuild the dequantized weights from the stored form only (float32, ``ct.shape``).

    Positions come from the stored sparsity (bitmask / N:M mask / channel bitmap, or
    the relative gaps, whose fillers hold zero codes); the codes are scattered to
    their positions in storage order and dequantized by the encoding's own rule.
    """
    enc, shape, sparsity = ct.encoding, ct.shape, ct.sparsity
    if isinstance(enc, LowRankValues):
        left, right = ct.factors
        return (left @ right).astype(np.float32).reshape(shape)
    if isinstance(enc, VectorValues):
        if enc.kind == "pool":
            scales = ct.scales if ct.scales is not None else np.ones(1, np.float32)
            return pool_decode(ct.codes, ct.codebook, scales, shape, sparsity.mask)
        return mvq_decode(ct.codes, ct.codebook, sparsity.mask, shape)
    stored = sparsity.stored_mask(shape)
    grid = np.zeros(shape, dtype=ct.codes.dtype)
    grid[stored] = ct.codes
    if isinstance(enc, Fp32Values):
        dense = grid.view(np.float32)
    elif isinstance(enc, IntValues):
        dense = dequantize_int(grid, ct.scales, ct.zero_points, enc.spec)
    elif isinstance(enc, FloatValues):
        dense = _float_values(grid, ct.scales, enc)
    elif isinstance(enc, MXValues):
        dense = mx_dequantize(grid, ct.scales, enc.format)
    else:
        dense = ct.codebook[grid]
    return np.where(stored, dense, np.float32(0.0)).astype(np.float32)


def dense_sparsity() -> Sparsity:
    """The dense structure (no mask, no index)."""
    return Sparsity(SparsityKind.DENSE, None, IndexKind.NONE)
