"""Compressed weights as the RTL's integer GEMM operands.

The RTL multiplies integers: the weight operand of ``C[m x n] = A[m x k] @ B[k x n]``
is ``B = codes.T`` in the GEMM view (``k`` over ``(in, kh, kw)``, ``n`` over the output
channels; :mod:`compress.layout`). Scales stay outside the array (a symmetric
per-tensor or per-channel scale multiplies whole output columns, after the sum).

- :class:`WeightOperand`: integer values and where they are kept (the sparsity mask),
  for arrays that load weights as values; from integer codes (symmetric ``int``
  quantization, any sparsity) by :func:`weight_operand`.
- :class:`CodebookOperand`: a table of integer vectors, one index per vector of each
  column, and where each ``k`` sits in its vector; for arrays with a codebook decoder.
  :func:`codebook_operand` builds it from scalar k-means (``v = 1``), MVQ (vectors along
  ``k``) or a weight pool (vectors along the input channels, so in a conv the elements
  of a vector are ``kh * kw`` apart in ``k``). The float codebook is quantized
  symmetrically to ``entry_bits`` with one scale (:attr:`CodebookOperand.table_scale`).

This is deliberately small and separate from the simulator: when compress/ grows a
full integer model of compressed layers, these two functions are what to switch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compress import CompressedTensor, load_compressed
from compress.encoding import CodebookValues, IntValues, VectorValues
from compress.layout import gemm_view

__all__ = [
    "CodebookOperand",
    "WeightOperand",
    "codebook_operand",
    "load_layer",
    "weight_operand",
]


@dataclass(frozen=True, eq=False)
class WeightOperand:
    """Integer weights ``values`` (int64 ``[k, n]``, zero where not kept) and ``keep``
    (bool ``[k, n]``, or ``None``: kept where nonzero on N:M arrays, everywhere on
    dense ones)."""

    values: np.ndarray
    keep: np.ndarray | None = None

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
    """

    table: np.ndarray
    index: np.ndarray
    vector: np.ndarray
    element: np.ndarray
    keep: np.ndarray | None = None
    table_scale: float = 1.0

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
    return None if ct.sparsity.mask is None else gemm_view(ct.sparsity.mask).T.copy()


def weight_operand(ct: CompressedTensor) -> WeightOperand:
    """The integer codes of ``ct`` (symmetric ``int`` quantization) as ``[k, n]``."""
    enc = ct.encoding
    if not isinstance(enc, IntValues):
        raise ValueError(
            f"{ct.name}: the RTL loads integer codes; {enc.name} is not "
            "(codebook formats need weight_decoder: codebook)"
        )
    if not enc.spec.symmetric:
        raise ValueError(f"{ct.name}: the RTL multiplies signed codes: symmetric int only")
    if enc.spec.granularity.value == "group":
        raise ValueError(
            f"{ct.name}: the RTL sums k in one integer accumulator: per-tensor "
            "or per-channel scales only, not group scales"
        )
    stored = gemm_view(ct.sparsity.stored_mask(ct.shape))
    grid = np.zeros(stored.shape, dtype=np.int64)
    grid[stored] = ct.codes
    return WeightOperand(grid.T.copy(), _kept(ct))


def _quantize_table(codebook: np.ndarray, entry_bits: int) -> tuple[np.ndarray, float]:
    codebook = np.asarray(codebook, dtype=np.float64)
    if codebook.ndim == 1:
        codebook = codebook[:, None]
    high = (1 << (entry_bits - 1)) - 1
    amax = float(np.abs(codebook).max())
    scale = amax / high if amax > 0 and high > 0 else 1.0
    table = np.clip(np.rint(codebook / scale), -high - 1, high).astype(np.int64)
    return table, scale


def codebook_operand(ct: CompressedTensor, entry_bits: int) -> CodebookOperand:
    """``ct``'s codebook indices as a :class:`CodebookOperand` (module docstring)."""
    enc, shape = ct.encoding, ct.shape
    out, k = shape[0], int(np.prod(shape[1:]))
    if not isinstance(enc, CodebookValues | VectorValues):
        raise ValueError(f"{ct.name}: {enc.name} has no codebook for the decoder")
    table, scale = _quantize_table(ct.codebook, entry_bits)
    if isinstance(enc, CodebookValues):  # one scalar per weight: each is its own vector
        stored = gemm_view(ct.sparsity.stored_mask(shape))
        index = np.zeros(stored.shape, dtype=np.int64)
        index[stored] = ct.codes
        return CodebookOperand(table, index, np.arange(k), np.zeros(k, np.int64), _kept(ct), scale)
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
    return CodebookOperand(table, index, vector, element, _kept(ct), scale)


def load_layer(path: str | Path, name: str) -> CompressedTensor:
    """Layer ``name`` of the ``compressed.npz`` that ``sparsa compress`` writes."""
    model = load_compressed(path)
    if name not in model.tensors:
        raise KeyError(f"{path} has no layer {name!r}; it has {sorted(model.tensors)}")
    return model.tensors[name]
