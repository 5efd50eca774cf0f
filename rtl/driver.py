"""Drive a whole GEMM through a :class:`~rtl.engine.TileEngine`, fold by fold.

:class:`GemmRun` takes the activations and the weight operand (an integer matrix, a
:class:`~rtl.operands.WeightOperand` or, for engines with a codebook decoder, a
:class:`~rtl.operands.CodebookOperand`; build them from a CompressedTensor or a
``compressed.npz`` with :mod:`rtl.operands`), cuts the GEMM into folds exactly as the
timing model does (:class:`~rtl.tiling.GemmTiling`: for N:M arrays the per-column row
groups ``n_j`` come from the weights' own keep-mask) and turns them into stream beats
(packed payload integers); it collects the output beats into the result, putting each
column back in its place (N:M column folds reorder the columns).

Beats, in the order the engine takes them per fold:

- ``start``: ``T - 1``, and for N:M arrays the fold's mode (its ``n_c`` as an index
  into ``row_group_sizes``);
- ``load`` (ws without a decoder): ``rows`` weight rows, the bottom array row first;
  PE row ``r`` of row group ``q = r // n_c`` holds slot ``s = r % n_c``: the column's
  ``s``-th kept weight (ascending ``k``) of the fold's group ``q``, with its position
  ``k mod M``, or a zero weight;
- with a decoder, ``codebook`` (the table, once per layer or for a shared pool once per
  network) and per column ``lookup`` beats: the same weights in the same order as
  ``{index, mask, pads}`` lookups (:func:`column_lookups`);
- ``feed``: per streamed vector, ``M`` activation lanes per row group
  (``A[j, k of group q]``, zero past ``k``) and in ws the partial sums of the previous
  row fold (so a column accumulates over ``k`` in order, which makes the result
  :func:`rtl.reference.reference_matmul`'s in-order sum also under ``saturate``).

:func:`rtl.functional.run_functional` runs the same beats through a functional model of
the array and the decoder, for testing the tiling without a simulator.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rtl.decoder import codebook_layout, lookup_layout
from rtl.engine import feed_layout, load_layout, out_layout, start_layout
from rtl.model import ModelTiming, mask_stats, model_timing
from rtl.operands import CodebookOperand, WeightOperand
from rtl.params import RtlParams
from rtl.payload import VectorPacker
from rtl.tiling import FoldTile, GemmTiling, column_row_groups, group_slots
from simulator.config import Dataflow

__all__ = ["GemmRun", "Lookup", "column_lookups", "fold_slots", "positions"]


@dataclass(frozen=True)
class Lookup:
    """One decoder lookup: ``pads`` zeros, then the ``mask`` elements of entry ``index``
    (highest first), positions ``(offset + element) mod M``."""

    index: int
    mask: int
    pads: int
    offset: int = 0


def fold_slots(
    params: RtlParams, fold: FoldTile, slots: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    """``[rows, cols]``: the ``k`` each PE of ``fold`` holds, -1 for a zero weight.

    ``slots`` is :func:`~rtl.tiling.group_slots` of the ``[k, n]`` keep-mask ``keep``.
    In a dense fold PE row ``r`` holds ``row_start + r`` (where kept); in a sparse one,
    slot ``r mod n_c`` of the fold's group ``r // n_c``.
    """
    rows, n_c = params.rows, fold.group_rows
    r = np.arange(rows)
    out = np.full((rows, params.cols), -1, dtype=np.int64)
    width = len(fold.columns)
    columns = np.array(fold.columns)
    if fold.dense:
        k = fold.row_start + r
        inside = k < fold.row_stop
        kept = inside[:, None] & keep[np.where(inside, k, 0)][:, columns]
        out[:, :width] = np.where(kept, k[:, None], -1)
        return out
    q, s = r // n_c, r % n_c
    used = (q < fold.group_stop - fold.group_start) & (r < (rows // n_c) * n_c)
    g = np.where(used, fold.group_start + q, 0)
    out[:, :width] = np.where(used[:, None], slots[g, s][:, columns], -1)
    return out


def positions(params: RtlParams, fold: FoldTile, ks: np.ndarray) -> np.ndarray:
    """The positions the PEs holding ``ks`` (:func:`fold_slots`) load: ``k mod M`` in a
    sparse fold; 0 in a dense one, whose lanes do not depend on it (:mod:`rtl.array`)."""
    if fold.dense:
        return np.zeros_like(ks)
    return np.where(ks >= 0, ks % params.nm_group, 0)


def column_lookups(
    params: RtlParams, ks: np.ndarray, column: int, operand: CodebookOperand, dense: bool = False
) -> list[Lookup]:
    """The lookups that give one column the weights at ``ks`` (load order, -1: zero).

    Consecutive weights of one vector go in one lookup when their elements descend and
    share the offset ``(k - element) mod M`` (0 in a ``dense`` fold, where positions do
    not matter); zeros become the next lookup's ``pads``.
    """
    group = params.nm_group
    out: list[Lookup] = []
    pads, current, current_vector, last_element = 0, None, -1, 0
    for k in ks:
        if k < 0:
            if current is not None:
                out.append(current)
                current = None
            pads += 1
            continue
        vector, element = int(operand.vector[k]), int(operand.element[k])
        index = int(operand.index[column, vector])
        offset = 0 if dense else (int(k) - element) % group
        same = (
            current is not None
            and (current.index, current.offset) == (index, offset)
            and element < last_element
            and vector == current_vector
        )
        if not same:
            if current is not None:
                out.append(current)
            if offset and not params.offset_bits:
                raise ValueError(
                    f"column {column}: k={k} is element {element} of its vector, so its "
                    f"position in its group of {group} needs an offset the decoder lacks "
                    f"(decoder_vector_length {params.decoder_vector_length} is a multiple "
                    "of M: vectors must run along k, as MVQ's do)"
                )
            current, current_vector, pads = Lookup(index, 0, pads, offset), vector, 0
        current = Lookup(current.index, current.mask | 1 << element, current.pads, offset)
        last_element = element
    if current is not None:
        out.append(current)
    if pads:
        out.append(Lookup(0, 0, pads))
    return out


def _as_operand(b) -> WeightOperand | CodebookOperand:
    if isinstance(b, WeightOperand | CodebookOperand):
        return b
    return WeightOperand(np.asarray(b, dtype=np.int64))


def _padded(values: np.ndarray, length: int) -> list[int]:
    out = [0] * length
    out[: len(values)] = [int(v) for v in values]
    return out


def _check_range(name: str, x: np.ndarray, bits: int) -> None:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if x.size and (x.min() < low or x.max() > high):
        raise ValueError(f"{name} holds values outside signed {bits}-bit [{low}, {high}]")


class GemmRun:
    """Beats to stream for one GEMM and the result assembled from the output beats.

    Stream sources take ``start_beats``, ``load_beats`` (ws) or ``codebook_beats`` and
    ``lookup_beats`` (decoder) and, one at a time, ``feed_beat(i)``; the sink passes
    every output payload to :meth:`take_output` in order. In ws a fold's feed beats
    carry the partial sums its predecessor along ``k`` produced, so ``feed_beat``
    returns ``None`` until those outputs are back (on the RTL they always are: the
    predecessor's last output comes before the next fold's first feed beat).

    Parameters
    ----------
    params : RtlParams
        The engine's parameters.
    a : array_like of int, shape (m, k)
        Activations, within ``activation_bits`` signed.
    b : array_like of int (k, n), WeightOperand or CodebookOperand
        Weights, within ``weight_bits`` signed (a codebook's table within
        ``decoder_entry_bits``). An N:M array takes each column's ``n_j`` from the keep-
        mask (an integer matrix: its nonzeros).
    stream_tile_limit : int, optional
        Stream tile limit (0: untiled); by default ``params.stream_tile_limit``.
    load_codebook : bool
        Decoder only: send the table (``False`` for a layer that shares the table
        already loaded, as a network-wide weight pool does).
    """

    def __init__(
        self,
        params: RtlParams,
        a: np.ndarray,
        b,
        stream_tile_limit: int | None = None,
        load_codebook: bool = True,
    ) -> None:
        a = np.asarray(a, dtype=np.int64)
        operand = _as_operand(b)
        if a.ndim != 2 or a.shape[1] != operand.shape[0]:
            raise ValueError(
                f"need a (m, k) and b (k, n), got shapes {a.shape} and {operand.shape}"
            )
        self._check_operand(params, operand)
        _check_range("a", a, params.activation_bits)
        self.params, self.a, self.operand = params, a, operand
        self.b = operand.decoded()
        _check_range("b", self.b, params.weight_bits)
        keep = operand.keep
        if keep is None:  # a CompressedTensor without a mask keeps every weight
            by_value = params.nm_group > 1 and getattr(operand, "stats", None) is None
            keep = self.b != 0 if by_value else np.ones(self.b.shape, bool)
        self.keep = keep
        self.stats = getattr(operand, "stats", None)
        if self.stats is None and not keep.all():
            self.stats = mask_stats(keep)
        self.load_codebook = load_codebook
        m, n, k = a.shape[0], self.b.shape[1], a.shape[1]
        column_n = column_row_groups(keep, params) if self.ws else None
        self.tiling = GemmTiling(params, m, n, k, stream_tile_limit, column_n)
        self._slots = group_slots(keep, params.nm_group) if self.ws else None
        per_fold_out = [fold.t if self.ws else params.rows for fold in self.tiling.folds]
        self._feed_starts = np.cumsum([0] + [fold.t for fold in self.tiling.folds])
        self._out_starts = np.cumsum([0, *per_fold_out])
        self.start_packer = VectorPacker.from_layout(start_layout(params))
        self.feed_packer = VectorPacker.from_layout(feed_layout(params))
        self.out_packer = VectorPacker.from_layout(out_layout(params))
        if params.has_decoder:
            self.codebook_packer = VectorPacker.from_layout(codebook_layout(params))
            self.lookup_packer = VectorPacker.from_layout(lookup_layout(params))
        elif self.ws:
            self.load_packer = VectorPacker.from_layout(load_layout(params))
        self.result = np.zeros((m, n), dtype=np.int64)
        self._outputs_taken = 0

    @cached_property
    def model(self) -> ModelTiming:
        """The simulator's timing of this GEMM (:func:`rtl.model.model_timing`): the
        cycles the RTL must take."""
        t = self.tiling
        return model_timing(self.params, t.m, t.n, t.k, self.stats, t.stream_tile_limit)

    def check_against_model(self) -> None:
        """Raise unless the tiling's folds are the model's: as many, streaming the
        model's tile lengths, and adding up to its compute cycles."""
        model, tiling = self.model, self.tiling
        lengths = Counter(fold.t for fold in tiling.folds)
        expected = [model.fold_cycles(fold.t) for fold in tiling.folds]
        if (
            len(tiling.folds) != model.folds
            or lengths != model.fold_stream_lengths
            or list(tiling.fold_cycles) != expected
            or sum(expected) != model.compute_cycles
        ):
            raise AssertionError(
                f"the driver's {len(tiling.folds)} folds (streams {dict(lengths)}, "
                f"{sum(tiling.fold_cycles)} cycles) are not the model's {model}"
            )

    @staticmethod
    def _check_operand(params: RtlParams, operand) -> None:
        decoder = isinstance(operand, CodebookOperand)
        if decoder != params.has_decoder:
            want = "a CodebookOperand" if params.has_decoder else "integer weights"
            raise ValueError(f"the engine {params.name} takes {want}")
        if not decoder:
            return
        if operand.vector_length != params.decoder_vector_length:
            raise ValueError(
                f"the codebook's vectors have {operand.vector_length} weights, "
                f"the decoder {params.decoder_vector_length}"
            )
        if operand.table.shape[0] > params.decoder_entries:
            raise ValueError(
                f"the codebook has {operand.table.shape[0]} entries, the "
                f"decoder {params.decoder_entries}"
            )
        _check_range("the codebook", operand.table, params.decoder_entry_bits)

    @property
    def ws(self) -> bool:
        return self.params.dataflow is Dataflow.WS

    @property
    def feed_beats(self) -> int:
        return int(self._feed_starts[-1])

    @property
    def complete(self) -> bool:
        return self._outputs_taken == int(self._out_starts[-1])

    def _locate(self, starts: np.ndarray, index: int) -> tuple[FoldTile, int]:
        """The fold that beat ``index`` belongs to, and the beat's place in it."""
        f = int(np.searchsorted(starts, index, side="right")) - 1
        return self.tiling.folds[f], index - int(starts[f])

    def start_beats(self) -> list[int]:
        """``start`` payloads, one per fold: ``T - 1`` (and the fold's mode)."""
        sizes = self.params.row_group_sizes
        if not self.params.mode_bits:
            return [self.start_packer.pack(fold.t - 1) for fold in self.tiling.folds]
        return [
            self.start_packer.pack({"t": fold.t - 1, "mode": sizes.index(fold.group_rows)})
            for fold in self.tiling.folds
        ]

    def fold_slots(self, fold: FoldTile) -> np.ndarray:
        """``[rows, cols]`` ``k`` held by each PE in ``fold`` (-1: zero weight); ws."""
        return fold_slots(self.params, fold, self._slots, self.keep)

    def load_beats(self) -> list[int]:
        """ws without a decoder: ``rows`` weight rows per fold, bottom row first."""
        if not self.ws or self.params.has_decoder:
            return []
        beats = []
        group = self.params.nm_group
        for fold in self.tiling.folds:
            ks = self.fold_slots(fold)
            columns = np.array(fold.columns)
            width = len(columns)
            held = positions(self.params, fold, ks)
            for r in reversed(range(self.params.rows)):
                row = ks[r, :width]
                weights = np.where(row >= 0, self.b[np.maximum(row, 0), columns], 0)
                if group == 1:
                    beats.append(self.load_packer.pack(_padded(weights, self.params.cols)))
                    continue
                payload = {
                    "w": _padded(weights, self.params.cols),
                    "pos": _padded(held[r, :width], self.params.cols),
                }
                beats.append(self.load_packer.pack(payload))
        return beats

    def codebook_beats(self) -> list[int]:
        """Decoder: the table, one ``{index, entry}`` per entry (none without
        ``load_codebook``)."""
        if not self.params.has_decoder or not self.load_codebook:
            return []
        table = self.operand.table
        return [
            self.codebook_packer.pack({"index": i, "entry": [int(x) for x in entry]})
            for i, entry in enumerate(table)
        ]

    def lookups(self) -> list[list[Lookup]]:
        """Decoder: per array column, the lookups of every fold in order."""
        per_column: list[list[Lookup]] = [[] for _ in range(self.params.cols)]
        for fold in self.tiling.folds:
            ks = self.fold_slots(fold)
            for c in range(self.params.cols):
                if c < len(fold.columns):
                    column = fold.columns[c]
                    looked = column_lookups(
                        self.params, ks[::-1, c], column, self.operand, fold.dense
                    )
                else:
                    looked = [Lookup(0, 0, self.params.rows)]
                per_column[c].extend(looked)
        return per_column

    def lookup_beats(self) -> list[list[int]]:
        """Decoder: per array column, the packed ``lookup`` payloads."""
        out = []
        for looked in self.lookups():
            beats = []
            for lookup in looked:
                payload = {"index": lookup.index, "mask": lookup.mask, "pads": lookup.pads}
                if self.params.offset_bits:
                    payload["offset"] = lookup.offset
                beats.append(self.lookup_packer.pack(payload))
            out.append(beats)
        return out

    def _lanes(self, fold: FoldTile, row: int) -> list[int]:
        """ws feed lanes of vector ``row``: the fold's ``k`` in order (M per row group in a
        sparse fold, one per PE row in a dense one), zero past them."""
        return _padded(self.a[row, fold.row_start : fold.row_stop], self.params.feed_lanes)

    def feed_beat(self, index: int) -> int | None:
        """Packed feed payload number ``index`` (over all folds), or ``None`` if not ready."""
        fold, j = self._locate(self._feed_starts, index)
        rows, cols = self.params.rows, self.params.cols
        columns = list(fold.columns)
        if not self.ws:
            return self.feed_packer.pack(
                {
                    "a": _padded(self.a[fold.row_start : fold.row_stop, j], rows),
                    "b": _padded(self.b[j, columns], cols),
                }
            )
        if fold.row_fold and self._outputs_taken < int(self._out_starts[fold.index]):
            return None
        row = fold.t_start + j
        psum = self.result[row, columns] if fold.row_fold else np.zeros(0, dtype=np.int64)
        return self.feed_packer.pack({"a": self._lanes(fold, row), "psum": _padded(psum, cols)})

    def take_output(self, raw: int) -> None:
        """Place the next output beat (a packed payload) into :attr:`result`."""
        if self.complete:
            raise ValueError("more output beats than the GEMM has")
        fold, j = self._locate(self._out_starts, self._outputs_taken)
        self._outputs_taken += 1
        vector = self.out_packer.unpack(raw)
        columns = list(fold.columns)
        row = fold.t_start + j if self.ws else fold.row_start + j
        if self.ws or row < fold.row_stop:
            self.result[row, columns] = vector[: len(columns)]
