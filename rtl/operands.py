"""Compressed weights as the RTL's integer GEMM operands.

The RTL multiplies integers: the weight operand of ``C[m x n] = A[m x k] @ B[k x n]``
is ``B = w.T`` for the integer weights ``w[n, k]`` of compress's bit-exact integer model
(:func:`compress.integer_weights`: symmetric codes as stored, affine codes minus their
zero point, codebook entries integerized to ``entry_bits``), in the GEMM view (``k``
over ``(in, kh, kw)``, ``n`` over the output channels; :mod:`compress.layout`). Scales
stay outside the array (a per-tensor or per-channel scale multiplies whole output
columns, after the sum), so layers with several scale groups along ``k`` (group scales,
MX blocks) are refused: the RTL sums all of ``k`` in one accumulator.

- :class:`WeightOperand`: integer values and where they are kept (the keep-mask, which
  is what the timing model reads), for arrays that load weights as values;
  :func:`weight_operand` builds it from any CompressedTensor the integer model runs
  (codebook formats then run decoded, as the model runs them on an array without a
  matching decoder).
- :class:`CodebookOperand`: a table of integer vectors, one index per vector of each
  column, and where each ``k`` sits in its vector; for arrays with a codebook decoder.
  :func:`codebook_operand` builds it from scalar k-means (``v = 1``), MVQ (vectors along
  ``k``) or a weight pool (vectors along the input channels, so in a conv the elements
  of a vector are ``kh * kw`` apart in ``k``), with the integer model's table
  (:func:`compress.integerize_codebook`).

Both keep, when built from a CompressedTensor, its :class:`compress.IntegerWeights`
(the reference the benches compare with, :func:`rtl.reference.reference_layer`) and its
:class:`compress.WeightStats` (what the timing model reads, :mod:`rtl.model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compress import (
    CompressedTensor,
    IntegerWeights,
    WeightStats,
    integer_weights,
    integerize_codebook,
    load_compressed,
)
from compress.encoding import CodebookValues, VectorValues
from compress.layout import gemm_view

__all__ = [
    "CodebookOperand",
    "WeightOperand",
    "codebook_operand",
    "kept_entries",
    "load_layer",
    "weight_operand",
]


@dataclass(frozen=True, eq=False)
class WeightOperand:
    """Integer weights ``values`` (int64 ``[k, n]``, zero where not kept) and ``keep``
    (bool ``[k, n]``, or ``None``: kept where nonzero on N:M arrays, everywhere on
    dense ones); ``integer`` and ``stats`` when built from a CompressedTensor."""

    values: np.ndarray
    keep: np.ndarray | None = None
    integer: IntegerWeights | None = None
    stats: WeightStats | None = None

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.ndim != 2 or not np.issubdtype(values.dtype, np.integer):
            raise ValueError(
                f"weight values must be a 2-D integer array, not {values.dtype} "
                f"of shape {values.shape}"
            )
        object.__setattr__(self, "values", values.astype(np.int64))
        _check_keep(self.keep, values.shape, values)

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def decoded(self) -> np.ndarray:
        """The ``[k, n]`` integer weights the array multiplies."""
        return self.values


@dataclass(frozen=True, eq=False)
class CodebookOperand:
    """Weights as indices into a table of integer vectors.

    Attributes
    ----------
    table : numpy.ndarray
        int64 ``[P, v]``: the codebook entries, signed.
    index : numpy.ndarray
        int64 ``[n, vectors]``: each column's index of each of its vectors.
    vector, element : numpy.ndarray
        int64 ``[k]``: the vector that holds position ``k`` of a column, and its element.
    keep : numpy.ndarray or None
        bool ``[k, n]``: kept weights (pruned ones decode to 0); ``None``: all kept.
    table_scale : float
        The float codebook is ``table * table_scale`` (1.0 when built from integers).
    integer : IntegerWeights or None
        The integer model of the CompressedTensor it was built from.
    stats : WeightStats or None
        That tensor's summary.
    """

    table: np.ndarray
    index: np.ndarray
    vector: np.ndarray
    element: np.ndarray
    keep: np.ndarray | None = None
    table_scale: float = 1.0
    integer: IntegerWeights | None = None
    stats: WeightStats | None = None

    def __post_init__(self) -> None:
        table = np.asarray(self.table, dtype=np.int64)
        index = np.asarray(self.index, dtype=np.int64)
        vector = np.asarray(self.vector, dtype=np.int64)
        element = np.asarray(self.element, dtype=np.int64)
        if table.ndim != 2 or index.ndim != 2 or vector.shape != element.shape or vector.ndim != 1:
            raise ValueError(
                "codebook operand: need table [P, v], index [n, vectors], vector and element [k]"
            )
        if index.size and (index.min() < 0 or index.max() >= table.shape[0]):
            raise ValueError(f"codebook operand: indices outside the {table.shape[0]} entries")
        if vector.min() < 0 or vector.max() >= index.shape[1]:
            raise ValueError(f"codebook operand: vectors outside the {index.shape[1]} per column")
        if element.min() < 0 or element.max() >= table.shape[1]:
            raise ValueError(
                f"codebook operand: elements outside the vector length {table.shape[1]}"
            )
        for name, value in (
            ("table", table),
            ("index", index),
            ("vector", vector),
            ("element", element),
        ):
            object.__setattr__(self, name, value)
        _check_keep(self.keep, self.shape)

    @property
    def shape(self) -> tuple[int, int]:
        return self.vector.size, self.index.shape[0]

    @property
    def vector_length(self) -> int:
        return self.table.shape[1]

    def decoded(self) -> np.ndarray:
        """``[k, n]``: ``table[index[j, vector[k]], element[k]]`` where kept, else 0."""
        weights = self.table[self.index[:, self.vector], self.element[None, :]].T
        return weights if self.keep is None else np.where(self.keep, weights, 0)


def _check_keep(keep, shape, values=None) -> None:
    if keep is None:
        return
    keep = np.asarray(keep)
    if keep.shape != tuple(shape) or keep.dtype != bool:
        raise ValueError(
            f"keep must be a bool array of shape {tuple(shape)}, not {keep.dtype} {keep.shape}"
        )
    if values is not None and np.any(values[~keep]):
        raise ValueError("weights must be zero where keep is False")


def _kept(ct: CompressedTensor) -> np.ndarray | None:
    return None if ct.sparsity.mask is None else ct.gemm_mask.T.copy()


def _integer(ct: CompressedTensor, entry_bits: int) -> IntegerWeights:
    integer = integer_weights(ct, entry_bits)
    if integer.groups > 1:
        raise ValueError(
            f"{ct.name}: the RTL sums k in one integer accumulator: per-tensor or "
            f"per-channel scales only, not {integer.groups} scale groups along k "
            f"({integer.format})"
        )
    return integer


def weight_operand(ct: CompressedTensor, entry_bits: int = 8) -> WeightOperand:
    """The integer weights of ``ct`` (:func:`compress.integer_weights`, codebooks at
    ``entry_bits``) as ``[k, n]``; refuses formats without an exact integer form and
    scale groups along ``k``."""
    integer = _integer(ct, entry_bits)
    return WeightOperand(integer.dense.T.copy(), _kept(ct), integer, ct.stats)


def codebook_operand(ct: CompressedTensor, entry_bits: int) -> CodebookOperand:
    """``ct``'s codebook indices as a :class:`CodebookOperand` (module docstring)."""
    enc, shape = ct.encoding, ct.shape
    out, k = shape[0], int(np.prod(shape[1:]))
    if not isinstance(enc, CodebookValues | VectorValues):
        raise ValueError(f"{ct.name}: {enc.name} has no codebook for the decoder")
    integer = _integer(ct, entry_bits)
    table, scale = integerize_codebook(ct.codebook, entry_bits)
    table = table.reshape(table.shape[0], -1)
    extra = {"table_scale": float(scale), "integer": integer, "stats": ct.stats}
    if isinstance(enc, CodebookValues):  # one scalar per weight: each is its own vector
        stored = gemm_view(ct.sparsity.stored_mask(shape))
        index = np.zeros(stored.shape, dtype=np.int64)
        index[stored] = ct.codes
        return CodebookOperand(
            table, index, np.arange(k), np.zeros(k, np.int64), _kept(ct), **extra
        )
    v = enc.vector_length
    if enc.kind == "mvq":
        positions = np.arange(k)
        vector, element = positions // v, positions % v
        index = np.asarray(ct.codes).reshape(out, -1)
    else:  # pool: [out, window, ceil(in / v)]; k = c * window + t in (in, kh, kw) order
        window, vectors = ct.codes.shape[1:]
        c, t = np.divmod(np.arange(k), window)
        vector, element = t * vectors + c // v, c % v
        index = np.asarray(ct.codes).reshape(out, window * vectors)
    operand = CodebookOperand(table, index, vector, element, _kept(ct), **extra)
    if not np.array_equal(operand.decoded(), integer.dense.T):
        raise ValueError(f"{ct.name}: its indices do not decode to the integer model's weights")
    return operand


def kept_entries(weights: np.ndarray, keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Each column's kept weights and their ``k``, ascending, as compress's integer model
    holds them (int64 ``[n, J]`` values and columns, zero-padded): the operands of
    :func:`compress.kept_matmul`."""
    weights = np.asarray(weights, dtype=np.int64)
    keep = np.ones(weights.shape, bool) if keep is None else np.asarray(keep, bool)
    j, k = np.nonzero(keep.T)  # column-major: k ascends within each column
    counts = np.bincount(j, minlength=weights.shape[1])
    slots = max(int(counts.max(initial=0)), 1)
    rank = np.arange(j.size) - np.concatenate([[0], np.cumsum(counts)[:-1]])[j]
    values = np.zeros((weights.shape[1], slots), np.int64)
    columns = np.zeros((weights.shape[1], slots), np.int64)
    values[j, rank] = weights[k, j]
    columns[j, rank] = k
    return values, columns


def load_layer(path: str | Path, name: str) -> CompressedTensor:
    """Layer ``name`` of the ``compressed.npz`` that ``sparsa compress`` writes."""
    model = load_compressed(path)
    if name not in model.tensors:
        raise KeyError(f"{path} has no layer {name!r}; it has {sorted(model.tensors)}")
    return model.tensors[name]
