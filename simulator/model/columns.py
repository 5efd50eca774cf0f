"""The bundles every model function takes: config columns and layer columns.

Configs run along axis 0 and layers along axis 1: :class:`ConfigColumns` holds each
config field as a ``(C, 1)`` column, :class:`LayerColumns` each layer figure as a
``(1, L)`` row, so any expression of the two broadcasts to ``(C, L)``. Each is built by
one gatherer (:meth:`ConfigColumns.of`, :meth:`LayerColumns.of`); tests and callers that
need other values derive variants with ``_replace``. :func:`operand_widths` gives the
bits of each operand where a layer meets a config.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from compress import WeightStats, declared_density_stats, declared_stats
from simulator.config import (
    AcceleratorConfig,
    Dataflow,
    InterLayerActivations,
    ScaleSimSparsity,
    StreamTiling,
    WeightDecoder,
)
from simulator.model.energy import EnergyTable, load_energy_table
from simulator.model.mapping import (
    PE_KIND_CODES,
    SCHEDULE_CODES,
    STREAM_TILING_CODES,
    WEIGHT_DECODER_CODES,
    Operand,
    dataflow_code,
    stream_tile_limit,
    usable_buffer_bits,
)
from simulator.workloads.layer import Conv2d, Layer, Workload

if TYPE_CHECKING:
    from simulator.model.sparsity import WeightExecution

__all__ = ["ConfigColumns", "LayerColumns", "Widths", "execution_key", "operand_widths"]


def execution_key(config: AcceleratorConfig) -> tuple:
    """What decides how compressed weights run on ``config``, apart from the array size:
    PE kind, dataflow, the N:M group and supported N, weight width, decoder, Huffman."""
    decoder = (
        (config.decoder_entries, config.decoder_vector_length, config.decoder_entry_bits)
        if config.weight_decoder is WeightDecoder.CODEBOOK
        else None
    )
    return (
        config.pe_kind.value,
        config.dataflow.value,
        config.nm_group,
        config.nm_slots,
        config.weight_bits,
        decoder,
        config.huffman_symbols_per_cycle > 0,
    )


class ConfigColumns(NamedTuple):
    """Config fields as ``(C, 1)`` columns, plus the energy tables they use."""

    rows: np.ndarray
    cols: np.ndarray
    dataflow: np.ndarray
    """Dataflow codes (:func:`simulator.model.mapping.dataflow_code`)."""
    schedule: np.ndarray
    """Fold-schedule codes (:data:`simulator.model.timing.SCHEDULE_CODES`)."""
    stream_tile_limit: np.ndarray
    """The stream tile ``Ts`` of ws and is (0: untiled; always 0 in os),
    :func:`simulator.model.mapping.stream_tile_limit`."""
    os_stream_tiling: np.ndarray
    """bool: an os config with ``stream_tiling: fit`` (k tiles per layer,
    :func:`simulator.model.mapping.os_stream_tile`)."""
    a_bits: np.ndarray
    w_bits: np.ndarray
    acc_bits: np.ndarray
    sram_bytes: dict[Operand, np.ndarray]
    """Capacity of each operand's buffer."""
    usable_bits: dict[Operand, np.ndarray]
    """Bits of each buffer that can hold resident data: all of it, or half when
    ``double_buffered`` (:func:`simulator.model.mapping.usable_buffer_bits`)."""
    double_buffered: np.ndarray
    dram_bytes_per_cycle: np.ndarray
    clock_hz: np.ndarray
    table_index: np.ndarray
    """Index into ``tables`` of each config's energy table."""
    tables: tuple[EnergyTable, ...]
    pe_kind: np.ndarray
    """PE-kind codes (:data:`simulator.model.mapping.PE_KIND_CODES`)."""
    zero_gating: np.ndarray
    nm_group: np.ndarray
    """The M of the supported N:M patterns (1 unless ``pe_kind: nm``)."""
    weight_decoder: np.ndarray
    """Weight-decoder codes (:data:`simulator.model.mapping.WEIGHT_DECODER_CODES`)."""
    decoder_entries: np.ndarray
    decoder_vector_length: np.ndarray
    decoder_entry_bits: np.ndarray
    huffman_symbols_per_cycle: np.ndarray
    scalesim_sparsity: np.ndarray
    """1 where ``scalesim_sparsity: layerwise`` (``scalesim_total`` follows SCALE-Sim's
    layer-wise N:M), else 0."""
    technology_nm: np.ndarray
    """float64: the CMOS node energies and areas are scaled to."""
    on_chip_activations: np.ndarray
    """bool: ``inter_layer_activations: on_chip`` (:mod:`simulator.model.residency`)."""
    execution_keys: tuple[tuple, ...]
    """Per config, what decides how compressed weights execute on it apart from the
    array's size (:func:`simulator.model.sparsity.execution_key`)."""

    @property
    def pes(self) -> np.ndarray:
        return self.rows * self.cols

    @property
    def energy_units(self) -> tuple[str, ...]:
        return tuple(self.tables[i].unit for i in self.table_index[:, 0])

    @classmethod
    def of(cls, configs: Sequence[AcceleratorConfig]) -> ConfigColumns:
        """Gather the fields of ``configs``; load each distinct energy table once."""
        if not configs:
            raise ValueError("evaluate at least one accelerator config")

        def column(values, dtype=np.int64) -> np.ndarray:
            return np.array(values, dtype=dtype)[:, None]

        table_keys = [(c.energy_table, c.energy_overrides) for c in configs]
        distinct = list(dict.fromkeys(table_keys))
        index = {key: i for i, key in enumerate(distinct)}
        cols = column([c.cols for c in configs])
        acc_bits = column([c.accumulator_bits for c in configs])
        double_buffered = column([c.sram_double_buffered for c in configs], bool)
        sram_bytes = {
            Operand.INPUT: column([c.ifmap_sram_bytes for c in configs]),
            Operand.WEIGHT: column([c.filter_sram_bytes for c in configs]),
            Operand.OUTPUT: column([c.ofmap_sram_bytes for c in configs]),
        }
        tiling = column([STREAM_TILING_CODES[c.stream_tiling] for c in configs])
        usable = {op: usable_buffer_bits(size, double_buffered) for op, size in sram_bytes.items()}
        dataflow = column([dataflow_code(c.dataflow) for c in configs])
        os_code = dataflow_code(Dataflow.OS)
        fit = tiling == STREAM_TILING_CODES[StreamTiling.FIT]
        return cls(
            rows=column([c.rows for c in configs]),
            cols=cols,
            dataflow=dataflow,
            schedule=column([SCHEDULE_CODES[c.fold_schedule] for c in configs]),
            stream_tile_limit=np.where(
                dataflow == os_code,
                0,
                stream_tile_limit(tiling, cols, acc_bits, usable[Operand.OUTPUT]),
            ),
            os_stream_tiling=fit & (dataflow == os_code),
            a_bits=column([c.activation_bits for c in configs]),
            w_bits=column([c.weight_bits for c in configs]),
            acc_bits=acc_bits,
            sram_bytes=sram_bytes,
            usable_bits=usable,
            double_buffered=double_buffered,
            dram_bytes_per_cycle=column([c.dram_bytes_per_cycle for c in configs], np.float64),
            clock_hz=column([c.clock_hz for c in configs], np.float64),
            table_index=column([index[key] for key in table_keys]),
            tables=tuple(load_energy_table(name, overrides) for name, overrides in distinct),
            pe_kind=column([PE_KIND_CODES[c.pe_kind] for c in configs]),
            zero_gating=column([c.zero_gating for c in configs], bool),
            nm_group=column([c.nm_group for c in configs]),
            weight_decoder=column([WEIGHT_DECODER_CODES[c.weight_decoder] for c in configs]),
            decoder_entries=column([c.decoder_entries for c in configs]),
            decoder_vector_length=column([c.decoder_vector_length for c in configs]),
            decoder_entry_bits=column([c.decoder_entry_bits for c in configs]),
            huffman_symbols_per_cycle=column(
                [c.huffman_symbols_per_cycle for c in configs], np.float64
            ),
            scalesim_sparsity=column(
                [c.scalesim_sparsity is ScaleSimSparsity.LAYERWISE for c in configs]
            ),
            technology_nm=column([c.technology_nm for c in configs], np.float64),
            on_chip_activations=column(
                [c.inter_layer_activations is InterLayerActivations.ON_CHIP for c in configs], bool
            ),
            execution_keys=tuple(execution_key(c) for c in configs),
        )


class LayerColumns(NamedTuple):
    """Layer figures as ``(1, L)`` rows."""

    m: np.ndarray
    n: np.ndarray
    k: np.ndarray
    groups: np.ndarray
    has_weights: np.ndarray
    """False for a matmul of two activations (attention): ``B`` is not a weight."""
    input_elements: np.ndarray
    """Distinct input elements per GEMM (a convolution's feature map, else ``m * k``)."""
    activation_density: np.ndarray
    """Nonzero fraction of each layer's inputs, float."""
    declared_nm: np.ndarray
    """int64 ``(2, 1, L)``: the declared ``(N, M)`` of each layer, ``(0, 0)`` when none."""
    weights: tuple[WeightStats | None, ...] = ()
    """Per layer, the summary of its weights: a compressed tensor's or a declared
    pattern's (:func:`compress.declared_stats`); None when dense. Empty: all dense."""
    pool_first: tuple[bool, ...] = ()
    """Per layer, True for the first layer that uses its network-wide weight pool (it
    loads the pool); empty when no layer uses one."""

    @property
    def macs(self) -> np.ndarray:
        return self.m * self.n * self.k * self.groups

    @property
    def compressed(self) -> bool:
        """Some layer has weight statistics (compressed or declared)."""
        return any(stats is not None for stats in self.weights)

    @classmethod
    def of(cls, workload: Workload) -> LayerColumns:
        """Gather the shapes and weight statistics of every layer of ``workload``."""
        layers = workload.layers
        m, n, k, groups = workload.gemm_arrays()
        has_weights = np.array([layer.has_weights for layer in layers])
        unique = np.array([_input_elements(layer) for layer in layers], dtype=np.int64)
        density = np.array([layer.activation_density for layer in layers], dtype=np.float64)
        declared = np.array([layer.nm or (0, 0) for layer in layers], dtype=np.int64).T
        weights = tuple(_weight_stats(layer) for layer in layers)
        return cls(
            m[None], n[None], k[None], groups[None], has_weights[None], unique[None],
            density[None], declared[:, None, :],
            weights if any(w is not None for w in weights) else (),
            _pool_first(weights),
        )  # fmt: skip

    @classmethod
    def of_shapes(cls, m, n, k, groups=1) -> LayerColumns:
        """Dense weight layers of the given GEMM shapes (broadcast as given)."""
        m, n, k, groups = (np.asarray(x, dtype=np.int64) for x in (m, n, k, groups))
        shape = np.broadcast_shapes(np.shape(m), np.shape(n), np.shape(k))
        return cls(
            m, n, k, groups, np.ones(shape, dtype=bool), m * k, np.ones(shape),
            np.zeros((2, *shape), dtype=np.int64),
        )  # fmt: skip


def _weight_stats(layer: Layer) -> WeightStats | None:
    if layer.compressed is not None:
        return layer.compressed
    if layer.nm is not None and layer.has_weights:
        return declared_stats(layer.name, layer.weight_shape, layer.nm)
    if layer.weight_density < 1 and layer.has_weights:
        return declared_density_stats(layer.name, layer.weight_shape, layer.weight_density)
    return None


def _pool_first(weights: tuple[WeightStats | None, ...]) -> tuple[bool, ...]:
    seen: set[str] = set()
    first = []
    for stats in weights:
        pool = stats.codebook.pool if stats is not None and stats.codebook else None
        first.append(pool is not None and pool not in seen)
        if pool is not None:
            seen.add(pool)
    return tuple(first) if seen else ()


def _input_elements(layer: Layer) -> int:
    """Distinct elements of one GEMM's ``A``: the (unpadded) feature map of a convolution,
    capped at ``m * k`` (a strided 1x1 conv reads only the pixels it samples)."""
    if isinstance(layer.op, Conv2d):
        op = layer.op
        return min(op.h * op.w * (op.c // op.groups) * layer.batch, layer.m * layer.k)
    return layer.m * layer.k


class Widths(NamedTuple):
    """Bits of each operand where layers meet configs (arrays broadcasting to ``(C, L)``).

    ``a``: inputs (``activation_bits``); ``b``: the second operand per element of the
    ``k x n`` GEMM operand as the weight SRAM holds it (a weight at ``weight_bits``, an
    activation in attention matmuls; compressed weights: their on-chip bits, values or
    indices and metadata, over ``k n``); ``acc``: partial sums; ``out``: final outputs,
    requantized to ``activation_bits`` for the next layer. ``b_dram``: DRAM bits per
    element of ``B`` (stored bits, ``b`` when dense); ``b_fill``: the same as the stall
    model sees the fill (longer behind a slow Huffman decoder); ``b_mac``: the weight
    operand's width in the multipliers; ``b_pe``: bits a PE holds or passes per weight
    (value and position).
    """

    a: np.ndarray
    b: np.ndarray
    acc: np.ndarray
    out: np.ndarray
    b_dram: np.ndarray
    b_fill: np.ndarray
    b_mac: np.ndarray
    b_pe: np.ndarray

    @property
    def by_operand(self) -> dict[Operand, np.ndarray]:
        """On-chip widths: A, B, and partial sums for the output buffer."""
        return {Operand.INPUT: self.a, Operand.WEIGHT: self.b, Operand.OUTPUT: self.acc}


def operand_widths(
    hw: ConfigColumns, ly: LayerColumns, execution: WeightExecution | None = None
) -> Widths:
    """The :class:`Widths` of ``ly``'s operands on ``hw``; compressed layers take theirs
    from ``execution`` (:func:`simulator.model.sparsity.weight_execution`)."""
    b = np.where(ly.has_weights, hw.w_bits, hw.a_bits)
    if execution is None:
        return Widths(hw.a_bits, b, hw.acc_bits, hw.a_bits, b, b, b, b)
    weighted = execution.weighted
    elements = ly.k * ly.n * ly.groups
    on_chip = np.where(weighted, execution.onchip_bits / elements, b)
    dram = np.where(weighted, execution.dram_bits / elements, b)
    rate = np.maximum(hw.huffman_symbols_per_cycle, 1e-300)
    decode = execution.symbols * hw.dram_bytes_per_cycle * 8 / rate / elements
    fill = np.where(execution.symbols > 0, np.maximum(dram, decode), dram)
    return Widths(
        a=hw.a_bits,
        b=on_chip,
        acc=hw.acc_bits,
        out=hw.a_bits,
        b_dram=dram,
        b_fill=fill,
        b_mac=np.where(weighted, execution.mac_bits, b),
        b_pe=np.where(weighted, execution.pe_bits, b),
    )
