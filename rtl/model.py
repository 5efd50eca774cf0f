"""The simulator's timing model for one GEMM on the RTL's array: what the RTL must take.

:func:`model_timing` runs the same functions :func:`simulator.simulate` runs for a
layer (:func:`simulator.model.sparsity.weight_execution`, then
:func:`simulator.model.timing.dense_timing`) on a one-layer workload,
``Layer("g", Gemm(m, n, k), compressed=stats)``, and the config of the
:class:`~rtl.params.RtlParams` (array, dataflow, PE kind and N:M patterns, widths,
decoder; the sequential fold schedule), with the stream tile the GEMM driver uses. The
one difference from ``simulate`` is that the stream tile is given rather than derived
from the config's buffers, so tests can tile freely; where the config decides the tile,
the two agree (tested). Nothing here looks at the RTL's own fold list.

``stats`` is the :class:`compress.WeightStats` of the weights: a CompressedTensor's own
(``ct.stats``), or, for integer weights given with a keep-mask, :func:`mask_stats` (the
summary of a mask in the accelerator's own value format, as
:func:`compress.stats.structure_only` would give). Without ``stats`` the GEMM is dense.

What the model says about a fold (``../shared/notes/sparse-execution.md``, section 3):
every fold, dense or N:M, costs the dense sequential fold length ``P + (R - 1) + Ts +
(C - 1)`` (``P = R`` in ws, 0 in os; ``Ts`` the vectors the fold streams), and the
layer has ``fold_positions`` fold positions of ``stream_tiles`` folds each, the first
``stream_tiles - 1`` streaming ``stream_tile`` vectors and the last the rest of ``T``.
:attr:`ModelTiming.fold_stream_lengths` lists those lengths; the RTL's folds must have
exactly these lengths (as a multiset: the orders are the driver's) and cycles.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from compress import WeightStats
from compress.stats import mask_stats as compress_mask_stats
from rtl.params import RtlParams
from simulator.config import AcceleratorConfig, Dataflow, FoldSchedule, StreamTiling
from simulator.model.columns import ConfigColumns, LayerColumns
from simulator.model.sparsity import weight_execution
from simulator.model.timing import dense_timing
from simulator.workloads.layer import Gemm, Layer, WeightSource, Workload

__all__ = ["ModelTiming", "mask_stats", "model_config", "model_timing", "unbuilt_schedule"]


def unbuilt_schedule(config: AcceleratorConfig) -> str | None:
    """What ``config``'s timing model schedules that the RTL's GEMM driver does not, in one
    line, or None. Today: in os, ``stream_tiling: fit`` tiles ``k`` per layer (sums added
    into the output buffer after each tile) where that saves input refetches; the driver
    streams ``k`` untiled, so on the layers the model tiles the engine takes the untiled
    cycles, which :func:`model_timing` (untiled in os) still matches."""
    if config.dataflow is Dataflow.OS and config.stream_tiling is StreamTiling.FIT:
        return (
            "stream_tiling fit: in os the timing model tiles k per layer where that saves "
            "input refetches; the RTL's driver streams k untiled, so on those layers the "
            "engine takes the untiled cycles (sparsa simulate --stream-tiling none)"
        )
    return None


def model_config(params: RtlParams) -> AcceleratorConfig:
    """The accelerator config whose model the RTL of ``params`` implements."""
    p = params
    return AcceleratorConfig(
        name=p.name,
        rows=p.rows,
        cols=p.cols,
        dataflow=p.dataflow,
        fold_schedule=FoldSchedule.SEQUENTIAL,
        activation_bits=p.activation_bits,
        weight_bits=p.weight_bits,
        accumulator_bits=p.accumulator_bits,
        accumulator_overflow=p.overflow,
        pe_kind=p.pe_kind,
        nm_patterns=[str(x) for x in p.nm_patterns],
        zero_gating=p.zero_gating,
        weight_decoder=p.weight_decoder,
        decoder_entries=p.decoder_entries,
        decoder_vector_length=p.decoder_vector_length,
        decoder_entry_bits=p.decoder_entry_bits,
    )


def mask_stats(keep: np.ndarray, name: str = "g") -> WeightStats:
    """The :class:`compress.WeightStats` of a ``[k, n]`` keep-mask (the GEMM's ``b``
    layout) in the accelerator's own value format (``storage`` is None):
    :func:`compress.stats.mask_stats` of its ``[out, K]`` transpose."""
    return compress_mask_stats(np.asarray(keep, dtype=bool).T, name)


@dataclass(frozen=True)
class ModelTiming:
    """The model's timing of one GEMM (scalars of :class:`~simulator.model.timing.DenseTiming`)."""

    compute_cycles: int
    """The layer's compute cycles: what the RTL takes from its first ``start`` to its
    last ``done``."""
    scalesim_cycles: int
    """SCALE-Sim's convention: ``compute_cycles - 1``."""
    fold_positions: int
    stream_tiles: int
    stream_tile: int
    t: int
    fold_overhead: int
    """``P + (R - 1) + (C - 1)``: a fold's cycles besides its streamed vectors."""
    row_folds: int
    """Row folds of the column fold with the most."""

    @property
    def folds(self) -> int:
        """Folds the layer runs: ``fold_positions * stream_tiles``."""
        return self.fold_positions * self.stream_tiles

    @property
    def fold_stream_lengths(self) -> Counter:
        """How many folds stream how many vectors (module docstring)."""
        last = self.t - (self.stream_tiles - 1) * self.stream_tile
        lengths = Counter({last: self.fold_positions})
        if self.stream_tiles > 1:
            lengths[self.stream_tile] += self.fold_positions * (self.stream_tiles - 1)
        return lengths

    def fold_cycles(self, stream_length: int) -> int:
        """The model's cycles of a fold that streams ``stream_length`` vectors."""
        return self.fold_overhead + stream_length


def model_timing(
    params: RtlParams,
    m: int,
    n: int,
    k: int,
    stats: WeightStats | None = None,
    stream_tile_limit: int | None = None,
) -> ModelTiming:
    """The simulator's timing of ``A[m x k] @ B[k x n]`` on ``params``' array (module
    docstring); ``stream_tile_limit`` defaults to ``params.stream_tile_limit``."""
    limit = params.stream_tile_limit if stream_tile_limit is None else stream_tile_limit
    source = WeightSource.COMPRESSED if stats is not None else None
    if stats is not None and len(stats.shape) != 2:  # a conv's [out, in, kh, kw]: its GEMM
        stats = replace(stats, shape=(stats.out, stats.k))
    layer = Layer("g", Gemm(m, n, k), compressed=stats, weight_source=source)
    ly = LayerColumns.of(Workload("rtl", (layer,)))
    hw = ConfigColumns.of([model_config(params)])
    hw = hw._replace(stream_tile_limit=np.full_like(hw.stream_tile_limit, limit))
    timing = dense_timing(hw, ly, weight_execution(hw, ly))
    scalar = {
        name: int(np.asarray(value).reshape(-1)[0]) for name, value in timing._asdict().items()
    }
    passes = scalar["pass_cycles"] - scalar["t"]  # nt * (R + C - 2)
    return ModelTiming(
        compute_cycles=scalar["compute_cycles"],
        scalesim_cycles=scalar["compute_cycles"] - 1,
        fold_positions=scalar["fold_positions"],
        stream_tiles=scalar["stream_tiles"],
        stream_tile=scalar["stream_tile"],
        t=scalar["t"],
        fold_overhead=scalar["preload_cycles"] + passes // scalar["stream_tiles"],
        row_folds=scalar["row_folds"],
    )
