"""Integer operands of a compressed weight tensor, and their kept-only matrix product.

:func:`integer_weights` turns a :class:`CompressedTensor` into what the weight path of
an integer accelerator holds: signed integer weights ``w[n, k]`` (``[out, K]``, the
GEMM view of :mod:`compress.layout`) of at most ``bits`` bits, and a float32 scale per
output row and scale group along ``K``, so that ``w_hat = w s``:

- integer codes (``intB``): symmetric codes as stored (``bits = B``); affine codes
  minus their zero point, which the weight decoder subtracts (``bits = B + 1``);
  scales per tensor (the same for every row), per channel, or per group of
  ``group_size`` along ``K``. ``w s`` is then the tensor's ``values`` bit for bit.
- ``mxint8``: the int8 elements; a group is an MX block of 32 along ``K`` with the
  scale ``2**(e - 127 - 6)`` of its E8M0 code ``e`` (``values`` bit for bit too).
- shared weights (k-means, a weight pool, MVQ): the hardware's codebook holds
  integer entries of ``entry_bits`` bits (the accelerator's ``decoder_entry_bits``).
  The float codebook ``c`` becomes entries by symmetric per-tensor quantization
  (:func:`integerize_codebook`)::

      s_c = max |c| / (2**(E-1) - 1),   entry = clip(rne(c / s_c), -(2**(E-1) - 1), 2**(E-1) - 1)

  (a zero centroid stays exactly zero); a weight is the entry its index selects, and
  its scale is ``s_c`` (k-means, MVQ; per tensor) or ``s_o s_c`` (a weight pool, with
  its per-channel or per-layer scale ``s_o``). This rounds the codebook a second time,
  so the float path to compare with runs :meth:`IntegerWeights.dequantized`,
  ``entries[index] * s``, rather than the float codebook.
- FP8, MX float formats, low-rank factors and fp32 values have no exact integer form:
  :func:`integer_weights` refuses them with a one-line error naming the layer.

Products run over the stored entries only (:func:`kept_matmul`). Each row keeps ``J``
slots (value, column) per scale group, in increasing ``k``: for N:M the column comes
from the stored position (the kept value's offset in its group of ``M`` selects its
activation, ``column = group * M + position``), otherwise from the stored mask; groups
with fewer entries are padded with zero values. Zeros change nothing
(``rule(s + 0) = s`` for both overflow rules), so this equals the dense product with
zeros, per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from compress.encoding import CodebookValues, IntValues, MXValues, VectorValues
from compress.fixedpoint import (
    Overflow,
    accumulate_step,
    accumulator_range,
    apply_overflow,
    check_accumulator_bits,
)
from compress.layout import gemm_view
from compress.mvq import mvq_decode
from compress.mx import E8M0_BIAS, E8M0_NAN, INT8_FRACTION_BITS
from compress.nm import nm_positions
from compress.pool import pool_decode
from compress.quant import Granularity, IntSpec, quantize_int
from compress.tensor import CompressedTensor, SparsityKind

__all__ = ["IntegerWeights", "integer_weights", "integerize_codebook", "kept_matmul"]

DEFAULT_ENTRY_BITS = 8
_CHUNK = 1 << 22  # gathered products held at once
_MAX_SUM = 1 << 62


@dataclass(frozen=True, eq=False)
class IntegerWeights:
    """The integer weights of one layer (module docstring).

    Attributes
    ----------
    name : str
    shape : tuple of int
        The weight's shape (``[out, in]`` or ``[out, in, kh, kw]``).
    format : str
        The encoding's name (``int8-sym-channel``, ``kmeans4``, ...).
    bits : int
        Signed width of the weight operand.
    dense : numpy.ndarray
        int64 ``[out, K]``, the decoded integer weights, zero where nothing is stored.
    scale : numpy.ndarray
        float32 ``[out, G]``: the scale of each row's ``G`` groups along ``K`` (a group
        holding only zeros takes the row's largest scale, see :func:`_used_scales`).
    group_size : int
        ``K`` per scale group (``K`` itself when ``G == 1``).
    values, columns : numpy.ndarray
        int64 ``[out, G, J]``: the stored weights of each row and group and the
        column ``k`` each multiplies, increasing in ``k``, zero-padded.
    """

    name: str
    shape: tuple[int, ...]
    format: str
    bits: int
    dense: np.ndarray
    scale: np.ndarray
    group_size: int
    values: np.ndarray
    columns: np.ndarray

    @property
    def k(self) -> int:
        return self.dense.shape[1]

    @property
    def groups(self) -> int:
        return self.scale.shape[1]

    @property
    def group_of_k(self) -> np.ndarray:
        """int64 ``[K]``: the scale group of each column."""
        return np.arange(self.k) // self.group_size

    def dequantized(self) -> np.ndarray:
        """float32 ``w * s`` in the weight's shape: what a float path must run to agree."""
        s = self.scale[:, self.group_of_k]
        return (self.dense.astype(np.float32) * s).astype(np.float32).reshape(self.shape)

    def accumulate(
        self, a: np.ndarray, accumulator_bits: int = 32, overflow: Overflow | str = "wrap"
    ) -> np.ndarray:
        """int64 ``[m, out, G]``: each group's sum over its stored weights
        (:func:`kept_matmul` of the ``[m, K]`` activation operands ``a``)."""
        out, groups, slots = self.values.shape
        flat = kept_matmul(
            a,
            self.values.reshape(out * groups, slots),
            self.columns.reshape(out * groups, slots),
            accumulator_bits,
            overflow,
        )
        return flat.reshape(-1, out, groups)


def integerize_codebook(codebook: np.ndarray, entry_bits: int) -> tuple[np.ndarray, np.float32]:
    """Symmetric per-tensor integer entries (int64, the codebook's shape) and their scale.

    ``s_c = max |c| / (2**(E-1) - 1)`` (1.0 for an all-zero codebook) and
    ``entry = clip(rne(c / s_c), -(2**(E-1) - 1), 2**(E-1) - 1)``, by
    :func:`compress.quant.quantize_int`; ``entry_bits`` from 2 to 16.
    """
    spec = IntSpec(bits=entry_bits, symmetric=True, granularity=Granularity.TENSOR)
    c = np.asarray(codebook, dtype=np.float32)
    q = quantize_int(c.reshape(1, -1), spec)
    return q.codes.astype(np.int64).reshape(c.shape), np.float32(q.scale[0, 0])


def _over_k(grid: np.ndarray, group_size: int, k: int) -> np.ndarray:
    """Broadcast a ``[rows, groups]`` grid over ``[rows, K]``."""
    return np.repeat(grid, group_size, axis=1)[:, :k] if grid.shape[1] > 1 else grid


def _grid(ct: CompressedTensor, stored: np.ndarray, dtype) -> np.ndarray:
    """The stored codes scattered over ``[out, K]`` (zero elsewhere)."""
    grid = np.zeros(stored.shape, dtype)
    grid[stored] = ct.codes
    return grid


def _int_codes(ct: CompressedTensor, stored: np.ndarray):
    spec, k = ct.encoding.spec, stored.shape[1]
    group = spec.group_size if spec.granularity is Granularity.GROUP else k
    zero = _over_k(np.asarray(ct.zero_points, np.int64), group, k)
    dense = np.where(stored, _grid(ct, stored, np.int64) - zero, 0)
    bits = spec.bits + (0 if spec.symmetric else 1)
    return dense, np.asarray(ct.scales, np.float32), group, bits


def _mx_int8(ct: CompressedTensor, stored: np.ndarray):
    codes = np.asarray(ct.scales, np.int64)
    if np.any(codes == E8M0_NAN):
        raise ValueError(f"{ct.name}: an MX scale is NaN; the integer model needs finite scales")
    scale = np.ldexp(np.float32(1.0), codes - E8M0_BIAS - INT8_FRACTION_BITS).astype(np.float32)
    dense = _grid(ct, stored, np.uint8).view(np.int8).astype(np.int64)
    return np.where(stored, dense, 0), scale, ct.encoding.format.block_size, 8


def _shared(ct: CompressedTensor, stored: np.ndarray, entry_bits: int):
    """k-means, weight-pool and MVQ weights as integer codebook entries."""
    enc, k = ct.encoding, stored.shape[1]
    entries, s_c = integerize_codebook(ct.codebook, entry_bits)
    scale = np.full((1, 1), s_c, np.float32)
    if isinstance(enc, CodebookValues):
        dense = entries[_grid(ct, stored, np.int64)]
    elif enc.kind == "pool":
        s_o = np.ones(1, np.float32) if ct.scales is None else np.asarray(ct.scales, np.float32)
        ones = np.ones(1, np.float32)
        grid = pool_decode(ct.codes, entries.astype(np.float32), ones, ct.shape, ct.sparsity.mask)
        dense = np.rint(gemm_view(grid)).astype(np.int64)
        scale = (s_o * s_c).astype(np.float32).reshape(-1, 1)
    else:
        mask = ct.sparsity.stored_mask(ct.shape)
        grid = mvq_decode(ct.codes, entries.astype(np.float32), mask, ct.shape)
        dense = np.rint(gemm_view(grid)).astype(np.int64)
    return np.where(stored, dense, 0), scale, k, entry_bits


def _used_scales(dense: np.ndarray, scale: np.ndarray, group_size: int) -> np.ndarray:
    """Scales with those of all-zero groups replaced by the row's largest used scale.

    Such a scale multiplies nothing (quantization leaves it at 1.0), but the bias grid
    and the row's shared requantization shift come from the row's largest scale; a row
    with no nonzero weight takes the tensor's largest used scale.
    """
    starts = np.arange(0, dense.shape[1], group_size)
    used = np.add.reduceat((dense != 0).astype(np.int64), starts, axis=1) > 0
    if not used.any():
        return np.ascontiguousarray(scale, dtype=np.float32)
    kept = np.where(used, scale, np.float32(0))
    row = kept.max(axis=1)
    row = np.where(row > 0, row, kept.max())
    return np.where(used, scale, row[:, None]).astype(np.float32)


def _kept_entries(ct: CompressedTensor, stored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every stored entry, row-major; N:M columns from the positions."""
    sparsity = ct.sparsity
    if sparsity.kind is not SparsityKind.NM:
        return np.nonzero(stored)
    n, m = sparsity.nm
    out, k = stored.shape
    per_row = (k // m) * n + min(n, k % m)
    group = np.concatenate([np.repeat(np.arange(k // m), n), np.full(min(n, k % m), k // m)])
    positions = nm_positions(sparsity.mask, m)
    rows, kept_cols = np.nonzero(stored)
    if positions.size != out * per_row:
        raise ValueError(f"{ct.name}: the mask does not keep {n} of every {m} along K")
    cols = (group[None, :] * m + positions.reshape(out, per_row)).ravel()
    if not np.array_equal(cols, kept_cols):
        raise ValueError(f"{ct.name}: the mask does not keep {n} of every {m} along K")
    return rows, cols


def _slots(rows, cols, dense, group_size: int, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Pack the stored entries into ``[out, G, J]`` values and columns, zero-padded."""
    out = dense.shape[0]
    key = rows * groups + cols // group_size  # non-decreasing: rows then columns ascend
    counts = np.bincount(key, minlength=out * groups)
    slots = max(int(counts.max(initial=0)), 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(key.size) - starts[key]
    values = np.zeros((out * groups, slots), np.int64)
    columns = np.zeros((out * groups, slots), np.int64)
    values[key, rank] = dense[rows, cols]
    columns[key, rank] = cols
    return values.reshape(out, groups, slots), columns.reshape(out, groups, slots)


def integer_weights(ct: CompressedTensor, entry_bits: int = DEFAULT_ENTRY_BITS) -> IntegerWeights:
    """The integer weights of ``ct`` (module docstring); ``entry_bits`` for codebooks.

    Raises
    ------
    ValueError
        For formats without an exact integer form (FP8, MX float, low-rank, fp32),
        naming the layer and its format.
    """
    enc = ct.encoding
    stored = gemm_view(ct.sparsity.stored_mask(ct.shape))
    if isinstance(enc, IntValues):
        dense, scale, group, bits = _int_codes(ct, stored)
    elif isinstance(enc, MXValues) and enc.format.element == "int8":
        dense, scale, group, bits = _mx_int8(ct, stored)
    elif isinstance(enc, CodebookValues | VectorValues):
        dense, scale, group, bits = _shared(ct, stored, entry_bits)
    else:
        raise ValueError(
            f"{ct.name}: the integer model cannot run {enc.name} values exactly "
            "(it runs int2..int16, mxint8, k-means, weight pools and MVQ)"
        )
    out, k = stored.shape
    groups = math.ceil(k / group)
    scale = _used_scales(dense, np.broadcast_to(scale, (out, groups)), group)
    rows, cols = _kept_entries(ct, stored)
    values, columns = _slots(rows, cols, dense, group, groups)
    return IntegerWeights(ct.name, ct.shape, enc.name, bits, dense, scale, group, values, columns)


def _gathered_sums(a, values, columns, with_bound: bool):
    """Exact ``sum_j a[m, col[n, j]] * v[n, j]`` and ``sum_j |.|``, chunked over ``m``."""
    m = a.shape[0]
    n, slots = values.shape
    exact = np.zeros((m, n), np.int64)
    bound = np.zeros((m, n), np.int64) if with_bound else None
    step = max(1, _CHUNK // max(n * slots, 1))
    magnitude = np.abs(values)
    for start in range(0, m, step):
        picked = a[start : start + step][:, columns]  # [step, n, J]: the select by position
        exact[start : start + step] = (picked * values).sum(axis=-1)
        if with_bound:
            bound[start : start + step] = (np.abs(picked) * magnitude).sum(axis=-1)
    return exact, bound


def kept_matmul(
    a: np.ndarray,
    values: np.ndarray,
    columns: np.ndarray,
    accumulator_bits: int = 32,
    overflow: Overflow | str = Overflow.WRAP,
) -> np.ndarray:
    """The products of the stored weights only, accumulated as the RTL does.

    ``C[m, n] = s_J`` with ``s_0 = 0``, ``s_{j+1} = rule(s_j + a[m, columns[n, j]] *
    values[n, j])`` (:mod:`compress.fixedpoint`). With ``columns`` increasing along
    ``j`` this is the RTL's dense product over ``k`` (``rtl.reference.reference_matmul``
    of the decoded ``[K, n]`` weights), zeros skipped.

    Computed as the exact sum then wrapped (``wrap``); for ``saturate`` the exact sum
    wherever ``sum_j |products| <= 2**(B-1) - 1`` (no partial sum can leave the range),
    and step by step over ``j``, vectorized over the other outputs, elsewhere.

    Parameters
    ----------
    a : array_like of int, shape (m, K)
        Activation operands, signed.
    values, columns : array_like of int, shape (n, J)
        Each output's stored weights and the column of ``a`` each multiplies.
    accumulator_bits : int
        ``B``, from 2 to 64.
    overflow : Overflow or str
        ``wrap`` or ``saturate``.

    Returns
    -------
    numpy.ndarray of int64, shape (m, n)
    """
    bits = check_accumulator_bits(accumulator_bits)
    overflow = Overflow(overflow)
    a = np.asarray(a, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64)
    columns = np.asarray(columns, dtype=np.int64)
    if a.ndim != 2 or values.ndim != 2 or values.shape != columns.shape:
        raise ValueError(
            f"need a (m, K) and values, columns (n, J), got {a.shape}, {values.shape}, "
            f"{columns.shape}"
        )
    if columns.size and (columns.min() < 0 or columns.max() >= a.shape[1]):
        raise ValueError(f"columns must index the {a.shape[1]} columns of a")
    largest = int(np.abs(a).max(initial=0)) * int(np.abs(values).max(initial=0))
    if largest * max(values.shape[1], 1) >= _MAX_SUM:
        raise ValueError("operands too wide: the exact sums must stay below 2**62")
    saturate = overflow is Overflow.SATURATE
    exact, bound = _gathered_sums(a, values, columns, saturate)
    if not saturate:
        return apply_overflow(exact, bits, Overflow.WRAP)
    high = accumulator_range(bits)[1]
    rows, outs = np.nonzero(bound > high)
    if rows.size:
        acc = np.zeros(rows.size, np.int64)
        for j in range(values.shape[1]):  # in order of k: saturation depends on it
            product = a[rows, columns[outs, j]] * values[outs, j]
            acc = accumulate_step(acc, product, bits, Overflow.SATURATE)
        exact[rows, outs] = acc
    return exact
