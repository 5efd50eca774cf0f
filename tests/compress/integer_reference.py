"""An obviously-correct integer reference for the integer model's tests.

Plain int64 numpy and Python integers, written from the documented semantics and
sharing none of the model's code paths: weights come from ``decode(ct)`` divided by
their scales (so they are tied to the compressed tensor's values), every product over
the dense ``K`` is accumulated one ``k`` at a time with the overflow rule written out,
and requantization is done in Python integers. Only :func:`quantize_multiplier` is
shared; ``test_fixedpoint`` checks it against the real multiplier.
"""

from __future__ import annotations

import numpy as np

from compress.codec import decode
from compress.encoding import CodebookValues, IntValues
from compress.fixedpoint import quantize_multiplier
from compress.quant import Granularity

ENTRY_BITS = 8


def rule(values, bits: int, overflow: str):
    """Wrap to ``bits``-bit two's complement, or clamp."""
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    values = np.asarray(values, dtype=np.int64)
    if overflow == "saturate":
        return np.clip(values, low, high)
    return (values - low) % (1 << bits) + low


def scale_grid(ct) -> tuple[np.ndarray, np.ndarray]:
    """float64 scale of every weight ``[out, K]`` and of every group ``[out, G]``,
    and the group of every column."""
    out = ct.shape[0]
    k = int(np.prod(ct.shape[1:]))
    enc = ct.encoding
    if isinstance(enc, CodebookValues):
        amax = np.abs(ct.codebook.astype(np.float64)).max()
        qmax = (1 << (ENTRY_BITS - 1)) - 1
        s_c = np.float32(amax / qmax) if amax > 0 else np.float32(1)
        if amax / s_c > qmax:  # keep amax inside the range after float32 rounding
            s_c = np.nextafter(s_c, np.float32(np.inf))
        size, cells = k, np.full((out, 1), s_c, np.float64)
    else:
        spec = enc.spec
        size = spec.group_size if spec.granularity is Granularity.GROUP else k
        cells = np.broadcast_to(ct.scales.astype(np.float64), (out, -(-k // size)))
    group = np.arange(k) // size
    cells = np.array(cells)
    if not isinstance(enc, CodebookValues):  # a scale over zeros only: the row's largest
        nonzero = decode(ct).reshape(out, -1) != 0
        used = np.array([[nonzero[n, group == g].any() for g in range(cells.shape[1])]
                         for n in range(out)]).reshape(cells.shape)  # fmt: skip
        if used.any():
            for n in range(out):
                largest = cells[n][used[n]].max() if used[n].any() else cells[used].max()
                cells[n][~used[n]] = largest
    return cells[:, group], cells, group


def reference_weights(ct) -> np.ndarray:
    """int64 ``[out, K]``: the integer weights, from the decoded values (or, for k-means,
    the codebook rounded to ``ENTRY_BITS``-bit entries and looked up)."""
    per_weight, _, _ = scale_grid(ct)
    if isinstance(ct.encoding, IntValues):
        values = decode(ct).reshape(ct.shape[0], -1).astype(np.float64)
        return np.rint(values / per_weight).astype(np.int64)
    qmax = (1 << (ENTRY_BITS - 1)) - 1
    entries = np.clip(np.rint(ct.codebook / per_weight[0, 0]), -qmax, qmax).astype(np.int64)
    stored = ct.sparsity.stored_mask(ct.shape).reshape(ct.shape[0], -1)
    index = np.zeros(stored.shape, np.int64)
    index[stored] = ct.codes
    return np.where(stored, entries[index], 0)


def reference_matmul(a, w, group, bits: int, overflow: str) -> np.ndarray:
    """int64 ``[m, out, G]``: one accumulator per group, products added one ``k`` at a
    time over every column (zeros included), the rule after each."""
    m, k = a.shape
    acc = np.zeros((m, w.shape[0], int(group.max()) + 1), np.int64)
    for col in range(k):
        g = group[col]
        acc[:, :, g] = rule(acc[:, :, g] + np.outer(a[:, col], w[:, col]), bits, overflow)
    return acc


def reference_layer(ct, inp, bias, out, relu, bits, overflow, codes) -> np.ndarray:
    """int64 ``[m, out]``: the layer's output codes (logits when ``out`` is None)."""
    w = reference_weights(ct)
    _, cells, group = scale_grid(ct)
    offset = (1 << (inp.spec.bits - 1)) if inp.spec.qmin == 0 else 0
    x = np.asarray(codes, np.int64) - offset
    acc = reference_matmul(x, w, group, bits, overflow)
    s_a = float(np.float32(inp.scale))
    widest = np.argmax(cells, axis=1)
    rows = np.arange(w.shape[0])
    b_int = np.rint(np.asarray(bias, np.float64) / (s_a * cells[rows, widest])).astype(np.int64)
    addend = np.zeros(cells.shape, np.int64)
    for g in range(cells.shape[1]):
        addend[:, g] = (offset - inp.zero_point) * w[:, group == g].sum(axis=1)
    addend[rows, widest] += b_int
    acc = rule(acc + rule(addend, bits, overflow), bits, overflow)
    if out is None:
        s_o, zero, low, high = s_a * cells.min(), 0, -(1 << 31), (1 << 31) - 1
    else:
        s_o = float(np.float32(out.scale))
        zero, low, high = out.zero_point, out.spec.qmin, out.spec.qmax
    fpm = quantize_multiplier(s_a * cells / s_o)
    low = max(low, zero) if relu else low
    result = np.zeros(acc.shape[:2], np.int64)
    for i in range(acc.shape[0]):
        for n in range(acc.shape[1]):
            shift = int(fpm.shift[n])
            total = sum(int(acc[i, n, g]) * int(fpm.multiplier[n, g]) for g in range(acc.shape[2]))
            y = (total + (1 << (shift - 1))) // (1 << shift)
            result[i, n] = min(max(y + zero, low), high)
    return result
