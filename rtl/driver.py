"""Drive a whole GEMM through a :class:`~rtl.engine.TileEngine`, fold by fold.

:class:`GemmTiling` cuts ``C[m x n] = A[m x k] @ B[k x n]`` into folds exactly as the
timing model maps it (:mod:`simulator.model.mapping`): the dimension on the array rows
(ws: ``k``, os: ``m``) in pieces of ``rows``, ``n`` in pieces of ``cols``, the streamed
dimension (ws: ``m``, os: ``k``) whole, or, when the config tiles the stream
(``stream_tiling: fit``), in the tiles of ``Ts`` vectors the timing model chose
(:func:`simulator.model.timing.dense_timing` reports ``Ts``; the driver takes it from there).
Partial folds are padded with zeros and cost a full fold, as in the model. Folds go
column block > stream tile > row fold, the model's loop nest, so in ws each fold adds to
the partial sums of the one before it along ``k`` (the ``psum`` lanes of ``feed``),
which makes the result the in-order accumulation of
:func:`rtl.reference.reference_matmul`.

:class:`GemmRun` turns the tiling into stream beats (packed payload integers) and
collects the output beats into the result. The model's figures come from
:func:`simulator.model.timing.dense_timing`, never from the RTL's own schedule.

:func:`run_functional` runs the same beats through :func:`fold_outputs`, a per-fold
functional model of the array, for testing the tiling without a simulator.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rtl.engine import feed_layout, load_layout, out_layout
from rtl.params import RtlParams
from rtl.payload import VectorPacker
from rtl.reference import accumulate_step
from simulator.config import AcceleratorConfig, Dataflow
from simulator.model.columns import ConfigColumns, LayerColumns
from simulator.model.mapping import DATAFLOW_MAPS
from simulator.model.timing import DenseTiming, dense_timing

__all__ = ["FoldTile", "GemmRun", "GemmTiling", "fold_outputs", "run_functional"]


@dataclass(frozen=True)
class FoldTile:
    """One fold: the slices of the row, column and streamed dimensions it covers.

    ``row_start:row_stop`` indexes the GEMM dimension mapped onto the array rows,
    ``col_start:col_stop`` the one on the columns, ``t_start:t_stop`` the streamed one.
    """

    index: int
    row_fold: int
    col_fold: int
    row_start: int
    row_stop: int
    col_start: int
    col_stop: int
    t_start: int
    t_stop: int

    @property
    def t(self) -> int:
        """Vectors this fold streams."""
        return self.t_stop - self.t_start


@dataclass(frozen=True)
class GemmTiling:
    """How an ``m x k @ k x n`` GEMM maps onto the array (module docstring)."""

    params: RtlParams
    m: int
    n: int
    k: int
    stream_tile_limit: int | None = None
    """The stream tile limit (0: untiled); ``None`` takes ``params.stream_tile_limit``."""

    def __post_init__(self) -> None:
        for name in ("m", "n", "k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GEMM dimension {name} must be a positive integer, not {value!r}")
        if self.stream_tile_limit is None:
            object.__setattr__(self, "stream_tile_limit", self.params.stream_tile_limit)
        limit = self.stream_tile_limit
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"stream_tile_limit must be an integer >= 0, not {limit!r}")
        if self.stream_tile > self.params.max_stream:
            raise ValueError(
                f"a fold streams {self.stream_tile} vectors but stream_bits="
                f"{self.params.stream_bits} allows at most {self.params.max_stream}"
            )

    @property
    def _dims(self) -> tuple[int, int, int]:
        return self.m, self.n, self.k

    @property
    def row_dim(self) -> int:
        return self._dims[DATAFLOW_MAPS[self.params.dataflow].row_dim]

    @property
    def col_dim(self) -> int:
        return self._dims[DATAFLOW_MAPS[self.params.dataflow].col_dim]

    @property
    def t(self) -> int:
        """The streamed dimension's size (ws: ``m``, os: ``k``)."""
        return self._dims[DATAFLOW_MAPS[self.params.dataflow].stream_dim]

    @property
    def stream_tile(self) -> int:
        """Vectors per stream tile, as the timing model tiles this GEMM (``t`` if untiled)."""
        return int(self.model.stream_tile)

    @cached_property
    def folds(self) -> tuple[FoldTile, ...]:
        rows, cols, ts = self.params.rows, self.params.cols, self.stream_tile
        row_folds = -(-self.row_dim // rows)
        col_folds = -(-self.col_dim // cols)
        tiles = []
        for cf, t_start, rf in itertools.product(
            range(col_folds), range(0, self.t, ts), range(row_folds)
        ):
            tiles.append(
                FoldTile(
                    index=len(tiles),
                    row_fold=rf,
                    col_fold=cf,
                    row_start=rf * rows,
                    row_stop=min((rf + 1) * rows, self.row_dim),
                    col_start=cf * cols,
                    col_stop=min((cf + 1) * cols, self.col_dim),
                    t_start=t_start,
                    t_stop=min(t_start + ts, self.t),
                )
            )
        return tuple(tiles)

    @cached_property
    def model(self) -> DenseTiming:
        """The timing model's figures for this GEMM in the sequential schedule."""
        p = self.params
        config = AcceleratorConfig(rows=p.rows, cols=p.cols, dataflow=p.dataflow)
        hw = ConfigColumns.of([config])._replace(
            stream_tile_limit=np.array([[self.stream_tile_limit]], dtype=np.int64)
        )
        timing = dense_timing(hw, LayerColumns.of_shapes(self.m, self.n, self.k))
        return DenseTiming(*(np.asarray(x).reshape(()) for x in timing))

    @property
    def model_fold_cycles(self) -> tuple[int, ...]:
        """Each fold's cycles in the model: preload + (R - 1) + its T + (C - 1).

        They add up to :attr:`model_cycles` (tested).
        """
        fixed = int(self.model.preload_cycles) + self.params.rows + self.params.cols - 2
        return tuple(fixed + fold.t for fold in self.folds)

    @property
    def model_cycles(self) -> int:
        """Cycles of the whole GEMM in the model (its ``compute_cycles``)."""
        return int(self.model.compute_cycles)


def _padded(values: np.ndarray, length: int) -> list[int]:
    out = [0] * length
    out[: len(values)] = [int(v) for v in values]
    return out


class GemmRun:
    """Beats to stream for one GEMM and the result assembled from the output beats.

    Stream sources take ``start_beats``, ``load_beats`` (ws) and, one at a time,
    ``feed_beat(i)``; the sink passes every output payload to :meth:`take_output` in
    order. In ws a fold's feed beats carry the partial sums its predecessor along ``k``
    produced, so ``feed_beat`` returns ``None`` until those outputs are back (on the
    RTL they always are: the predecessor's last output comes before the next fold's
    first feed beat).

    Parameters
    ----------
    params : RtlParams
        The engine's parameters.
    a : array_like of int, shape (m, k)
        Activations, within ``activation_bits`` signed.
    b : array_like of int, shape (k, n)
        Weights, within ``weight_bits`` signed.
    stream_tile_limit : int, optional
        Stream tile limit (0: untiled); by default ``params.stream_tile_limit``, the
        config's (see :class:`GemmTiling`).
    """

    def __init__(
        self,
        params: RtlParams,
        a: np.ndarray,
        b: np.ndarray,
        stream_tile_limit: int | None = None,
    ) -> None:
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f"need a (m, k) and b (k, n), got shapes {a.shape} and {b.shape}")
        for name, x, bits in (("a", a, params.activation_bits), ("b", b, params.weight_bits)):
            low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            if x.size and (x.min() < low or x.max() > high):
                raise ValueError(f"{name} holds values outside signed {bits}-bit [{low}, {high}]")
        self.params, self.a, self.b = params, a, b
        self.tiling = GemmTiling(params, a.shape[0], b.shape[1], a.shape[1], stream_tile_limit)
        per_fold_out = [fold.t if self.ws else params.rows for fold in self.tiling.folds]
        self._feed_starts = np.cumsum([0] + [fold.t for fold in self.tiling.folds])
        self._out_starts = np.cumsum([0, *per_fold_out])
        self.feed_packer = VectorPacker.from_layout(feed_layout(params))
        self.load_packer = VectorPacker.from_layout(load_layout(params))
        self.out_packer = VectorPacker.from_layout(out_layout(params))
        self.result = np.zeros((self.tiling.m, self.tiling.n), dtype=np.int64)
        self._outputs_taken = 0

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
        """``start`` payloads, one per fold: ``T - 1``."""
        return [fold.t - 1 for fold in self.tiling.folds]

    def load_beats(self) -> list[int]:
        """ws: ``rows`` weight rows per fold, bottom array row first; os: none."""
        if not self.ws:
            return []
        beats = []
        for fold in self.tiling.folds:
            block = self.b[fold.row_start : fold.row_stop, fold.col_start : fold.col_stop]
            for r in reversed(range(self.params.rows)):
                row = block[r] if r < len(block) else np.zeros(0, dtype=np.int64)
                beats.append(self.load_packer.pack(_padded(row, self.params.cols)))
        return beats

    def feed_beat(self, index: int) -> int | None:
        """Packed feed payload number ``index`` (over all folds), or ``None`` if not ready."""
        fold, j = self._locate(self._feed_starts, index)
        rows, cols = self.params.rows, self.params.cols
        cs, ce = fold.col_start, fold.col_stop
        if not self.ws:
            return self.feed_packer.pack(
                {
                    "a": _padded(self.a[fold.row_start : fold.row_stop, j], rows),
                    "b": _padded(self.b[j, cs:ce], cols),
                }
            )
        if fold.row_fold and self._outputs_taken < int(self._out_starts[fold.index]):
            return None
        row = fold.t_start + j
        psum = self.result[row, cs:ce] if fold.row_fold else np.zeros(0, dtype=np.int64)
        return self.feed_packer.pack(
            {
                "a": _padded(self.a[row, fold.row_start : fold.row_stop], rows),
                "psum": _padded(psum, cols),
            }
        )

    def take_output(self, raw: int) -> None:
        """Place the next output beat (a packed payload) into :attr:`result`."""
        if self.complete:
            raise ValueError("more output beats than the GEMM has")
        fold, j = self._locate(self._out_starts, self._outputs_taken)
        self._outputs_taken += 1
        vector = self.out_packer.unpack(raw)
        width = fold.col_stop - fold.col_start
        row = fold.t_start + j if self.ws else fold.row_start + j
        if self.ws or row < fold.row_stop:
            self.result[row, fold.col_start : fold.col_stop] = vector[:width]


def fold_outputs(params: RtlParams, load: list[int], feed: list[int]) -> list[int]:
    """What the array computes for one fold, without timing: packed outputs.

    ``load`` holds the fold's packed weight rows (ws, bottom row first), ``feed`` its
    packed feed beats. Each step applies the overflow rule, as the PEs do.
    """
    rows, cols = params.rows, params.cols
    feed_packer = VectorPacker.from_layout(feed_layout(params))
    out_packer = VectorPacker.from_layout(out_layout(params))
    beats = [feed_packer.unpack(raw) for raw in feed]
    rule = params.overflow
    bits = params.accumulator_bits
    if params.dataflow is Dataflow.WS:
        load_packer = VectorPacker.from_layout(load_layout(params))
        weights = np.array([load_packer.unpack(raw) for raw in reversed(load)])
        outputs = []
        for beat in beats:
            acc = beat["psum"]
            for r in range(rows):
                acc = accumulate_step(acc, beat["a"][r] * weights[r], bits, rule)
            outputs.append(out_packer.pack(acc))
        return outputs
    acc = np.zeros((rows, cols), dtype=np.int64)
    for beat in beats:
        acc = accumulate_step(acc, np.outer(beat["a"], beat["b"]), bits, rule)
    return [out_packer.pack(acc[r]) for r in range(rows)]


def run_functional(
    params: RtlParams, a: np.ndarray, b: np.ndarray, stream_tile_limit: int | None = None
) -> GemmRun:
    """Run a GEMM through :class:`GemmRun` with :func:`fold_outputs` standing in for the RTL."""
    run = GemmRun(params, a, b, stream_tile_limit)
    loads = run.load_beats()
    feed_at = 0
    for fold in run.tiling.folds:
        load = loads[fold.index * params.rows : (fold.index + 1) * params.rows] if run.ws else []
        feed = [run.feed_beat(feed_at + j) for j in range(fold.t)]
        feed_at += fold.t
        if any(beat is None for beat in feed):
            raise RuntimeError(f"fold {fold.index} has feed beats before its inputs are back")
        for raw in fold_outputs(params, load, feed):
            run.take_output(raw)
    return run
