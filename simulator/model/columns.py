"""The bundles every model function takes: config columns and layer columns.

Configs run along axis 0 and layers along axis 1: :class:`ConfigColumns` holds each
config field as a ``(C, 1)`` column, :class:`LayerColumns` each layer figure as a
``(1, L)`` row, so any expression of the two broadcasts to ``(C, L)``. Each is built by
one gatherer (:meth:`ConfigColumns.of`, from a list of configs or, once per distinct field
value, from :class:`~simulator.model.variants.ConfigVariants`; :meth:`LayerColumns.of`);
tests and callers that need other values derive variants with ``_replace``.
:func:`operand_widths` gives the bits of each operand where a layer meets a config.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

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
from simulator.model.variants import ConfigVariants
from simulator.workloads.layer import Conv2d, Layer, Workload

if TYPE_CHECKING:
    from simulator.model.sparsity import WeightExecution

__all__ = [
    "EXECUTION_FIELDS",
    "ConfigColumns",
    "ConfigVariants",
    "LayerColumns",
    "Widths",
    "execution_key",
    "operand_widths",
]


EXECUTION_FIELDS: tuple[str, ...] = (
    "pe_kind", "dataflow", "nm_patterns", "weight_bits", "weight_decoder", "decoder_entries",
    "decoder_vector_length", "decoder_entry_bits", "huffman_symbols_per_cycle",
)  # fmt: skip
"""The fields :func:`execution_key` reads (a test keeps it complete)."""


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
        """Gather the fields of ``configs`` (a list, or :class:`ConfigVariants`, whose
        fields are gathered per distinct value); load each distinct energy table once."""
        if not len(configs):
            raise ValueError("evaluate at least one accelerator config")
        return cls._gather(configs if isinstance(configs, ConfigVariants) else _Listed(configs))

    @classmethod
    def _gather(cls, src: ConfigVariants | _Listed) -> ConfigColumns:
        column, mapped = src.column, src.mapped
        table_keys, table_of = src.grouped(
            ("energy_table", "energy_overrides"), lambda c: (c.energy_table, c.energy_overrides)
        )
        distinct = list(dict.fromkeys(table_keys))
        table_index = np.array([distinct.index(key) for key in table_keys], dtype=np.int64)
        keys, key_of = src.grouped(EXECUTION_FIELDS, execution_key)
        nm_groups, nm_group_of = src.grouped(("nm_patterns",), lambda c: c.nm_group)
        cols = column("cols")
        acc_bits = column("accumulator_bits")
        double_buffered = column("sram_double_buffered", bool)
        sram_bytes = {
            Operand.INPUT: column("ifmap_sram_bytes"),
            Operand.WEIGHT: column("filter_sram_bytes"),
            Operand.OUTPUT: column("ofmap_sram_bytes"),
        }
        tiling = mapped("stream_tiling", STREAM_TILING_CODES.__getitem__)
        usable = {op: usable_buffer_bits(size, double_buffered) for op, size in sram_bytes.items()}
        dataflow = mapped("dataflow", dataflow_code)
        os_code = dataflow_code(Dataflow.OS)
        fit = tiling == STREAM_TILING_CODES[StreamTiling.FIT]
        return cls(
            rows=column("rows"),
            cols=cols,
            dataflow=dataflow,
            schedule=mapped("fold_schedule", SCHEDULE_CODES.__getitem__),
            stream_tile_limit=np.where(
                dataflow == os_code,
                0,
                stream_tile_limit(tiling, cols, acc_bits, usable[Operand.OUTPUT]),
            ),
            os_stream_tiling=fit & (dataflow == os_code),
            a_bits=column("activation_bits"),
            w_bits=column("weight_bits"),
            acc_bits=acc_bits,
            sram_bytes=sram_bytes,
            usable_bits=usable,
            double_buffered=double_buffered,
            dram_bytes_per_cycle=column("dram_bytes_per_cycle", np.float64),
            # AcceleratorConfig.clock_hz, as one multiply per column (the same float op).
            clock_hz=column("clock_mhz", np.float64) * 1e6,
            table_index=table_index[table_of][:, None],
            tables=tuple(load_energy_table(name, overrides) for name, overrides in distinct),
            pe_kind=mapped("pe_kind", PE_KIND_CODES.__getitem__),
            zero_gating=column("zero_gating", bool),
            nm_group=np.asarray(nm_groups, dtype=np.int64)[nm_group_of][:, None],
            weight_decoder=mapped("weight_decoder", WEIGHT_DECODER_CODES.__getitem__),
            decoder_entries=column("decoder_entries"),
            decoder_vector_length=column("decoder_vector_length"),
            decoder_entry_bits=column("decoder_entry_bits"),
            huffman_symbols_per_cycle=column("huffman_symbols_per_cycle", np.float64),
            scalesim_sparsity=mapped(
                "scalesim_sparsity", lambda v: v is ScaleSimSparsity.LAYERWISE
            ),
            technology_nm=column("technology_nm", np.float64),
            on_chip_activations=mapped(
                "inter_layer_activations", lambda v: v is InterLayerActivations.ON_CHIP, bool
            ),
            execution_keys=tuple(keys[i] for i in key_of.tolist()),
        )


class _Listed:
    """A list of configs, read field by field (the counterpart of :class:`ConfigVariants`'
    per-distinct-value readers, with the same results)."""

    def __init__(self, configs: Sequence[AcceleratorConfig]) -> None:
        self.configs = configs

    def column(self, name: str, dtype: Any = np.int64) -> np.ndarray:
        return np.array([getattr(c, name) for c in self.configs], dtype=dtype)[:, None]

    def mapped(self, name: str, fn: Callable[[Any], Any], dtype: Any = np.int64) -> np.ndarray:
        return np.array([fn(getattr(c, name)) for c in self.configs], dtype=dtype)[:, None]

    def grouped(
        self, names: Sequence[str], fn: Callable[[AcceleratorConfig], Any]
    ) -> tuple[list[Any], np.ndarray]:
        results = [fn(c) for c in self.configs]
        where: dict[Any, int] = {}
        index = np.array([where.setdefault(r, len(where)) for r in results], dtype=np.intp)
        return list(where), index


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
