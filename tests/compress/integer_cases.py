"""Hypothesis strategies for the integer model's tests: compressed tensors and formats."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from compress.codec import build_tensor
from compress.encoding import CodebookValues, IntValues
from compress.nm import nm_mask
from compress.quant import ActivationQuant, Granularity, IntSpec
from compress.sparse_index import relative_index
from compress.tensor import IndexKind, Sparsity, SparsityKind

PATTERNS = [None, "unstructured", (2, 4), (1, 4), (1, 8), (3, 8), (2, 3)]


@st.composite
def weight_shapes(draw) -> tuple[int, ...]:
    out = draw(st.integers(1, 6))
    if draw(st.booleans()):
        return (out, draw(st.integers(1, 24)))
    return (out, draw(st.integers(1, 3)), draw(st.sampled_from([1, 3])), draw(st.integers(1, 3)))


@st.composite
def sparsities(draw, w: np.ndarray) -> Sparsity:
    pattern = draw(st.sampled_from(PATTERNS))
    k = math.prod(w.shape[1:])
    if pattern is None:
        return Sparsity()
    if pattern == "unstructured":
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        mask = rng.random(w.shape) < draw(st.floats(0.0, 1.0))
        if draw(st.booleans()):  # relative gaps: zero fillers are stored entries too
            relative = relative_index(mask, draw(st.integers(1, 4)))
            return Sparsity(SparsityKind.UNSTRUCTURED, mask, IndexKind.RELATIVE, relative=relative)
        return Sparsity(SparsityKind.UNSTRUCTURED, mask, IndexKind.BITMASK)
    n, m = pattern
    minimal = k % m == 0 and draw(st.booleans())
    index = IndexKind.NM_MINIMAL if minimal else IndexKind.NM_POSITIONS
    return Sparsity(SparsityKind.NM, nm_mask(w, n, m), index, pattern)


@st.composite
def int_specs(draw, k: int) -> IntSpec:
    granularity = draw(st.sampled_from(list(Granularity)))
    return IntSpec(
        bits=draw(st.integers(2, 16)),
        symmetric=draw(st.booleans()),
        granularity=granularity,
        group_size=draw(st.integers(1, k + 2)) if granularity is Granularity.GROUP else None,
        restricted=draw(st.booleans()),
    )


@st.composite
def compressed_tensors(draw, codebook: bool = True):
    """An integer-coded (or k-means) tensor with a random structure."""
    shape = draw(weight_shapes())
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    w = (rng.normal(size=shape) * draw(st.floats(0.01, 10.0))).astype(np.float32)
    sparsity = draw(sparsities(w))
    if codebook and draw(st.integers(0, 4)) == 0:
        if sparsity.mask is not None and not sparsity.mask.any():
            sparsity = Sparsity()
        encoding = CodebookValues(draw(st.integers(1, 5)), zero_centroid=sparsity.mask is not None)
    else:
        encoding = IntValues(draw(int_specs(math.prod(shape[1:]))))
    return build_tensor("layer.weight", w, sparsity, encoding)


@st.composite
def activation_formats(draw) -> ActivationQuant:
    bits = draw(st.integers(2, 16))
    symmetric = draw(st.booleans())
    spec = IntSpec(bits=bits, symmetric=symmetric, granularity=Granularity.TENSOR)
    zero = 0 if symmetric else draw(st.integers(spec.qmin, spec.qmax))
    scale = float(np.float32(2.0 ** draw(st.floats(-12, 2))))
    return ActivationQuant(spec, scale, zero, "minmax")


def codes_of(quant: ActivationQuant, shape, seed: int) -> np.ndarray:
    """Random int64 codes of ``quant``, endpoints and zero point over-represented."""
    rng = np.random.default_rng(seed)
    spec = quant.spec
    codes = rng.integers(spec.qmin, spec.qmax + 1, size=shape)
    special = rng.choice([spec.qmin, spec.qmax, quant.zero_point], size=shape)
    return np.where(rng.random(shape) < 0.25, special, codes).astype(np.int64)
