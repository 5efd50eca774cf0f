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
from typing import NamedTuple

import numpy as np

from simulator.config import AcceleratorConfig
from simulator.model.energy import EnergyTable, load_energy_table
from simulator.model.mapping import (
    SCHEDULE_CODES,
    STREAM_TILING_CODES,
    Operand,
    dataflow_code,
    stream_tile_limit,
    usable_buffer_bits,
)
from simulator.workloads.layer import Conv2d, Layer, Workload

__all__ = ["ConfigColumns", "LayerColumns", "Widths", "operand_widths"]


class ConfigColumns(NamedTuple):
    """Config fields as ``(C, 1)`` columns, plus the energy tables they use."""

    rows: np.ndarray
    cols: np.ndarray
    dataflow: np.ndarray
    """Dataflow codes (:func:`simulator.model.mapping.dataflow_code`)."""
    schedule: np.ndarray
    """Fold-schedule codes (:data:`simulator.model.timing.SCHEDULE_CODES`)."""
    stream_tile_limit: np.ndarray
    """The stream tile ``Ts`` (0: untiled), :func:`simulator.model.mapping.stream_tile_limit`."""
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
        return cls(
            rows=column([c.rows for c in configs]),
            cols=cols,
            dataflow=column([dataflow_code(c.dataflow) for c in configs]),
            schedule=column([SCHEDULE_CODES[c.fold_schedule] for c in configs]),
            stream_tile_limit=stream_tile_limit(tiling, cols, acc_bits, usable[Operand.OUTPUT]),
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

    @property
    def macs(self) -> np.ndarray:
        return self.m * self.n * self.k * self.groups

    @classmethod
    def of(cls, workload: Workload) -> LayerColumns:
        """Gather the shapes of every layer of ``workload``."""
        m, n, k, groups = workload.gemm_arrays()
        has_weights = np.array([layer.has_weights for layer in workload.layers])
        unique = np.array([_input_elements(layer) for layer in workload.layers], dtype=np.int64)
        return cls(m[None], n[None], k[None], groups[None], has_weights[None], unique[None])

    @classmethod
    def of_shapes(cls, m, n, k, groups=1) -> LayerColumns:
        """Weight layers of the given GEMM shapes (broadcast as given, not reshaped)."""
        m, n, k, groups = (np.asarray(x, dtype=np.int64) for x in (m, n, k, groups))
        return cls(m, n, k, groups, np.ones(np.shape(m), dtype=bool), m * k)


def _input_elements(layer: Layer) -> int:
    """Distinct elements of one GEMM's ``A``: the (unpadded) feature map of a convolution,
    capped at ``m * k`` (a strided 1x1 conv reads only the pixels it samples)."""
    if isinstance(layer.op, Conv2d):
        op = layer.op
        return min(op.h * op.w * (op.c // op.groups) * layer.batch, layer.m * layer.k)
    return layer.m * layer.k


class Widths(NamedTuple):
    """Bits of each operand where layers meet configs (arrays broadcasting to ``(C, L)``).

    ``a``: inputs (``activation_bits``); ``b``: the second operand, a weight at
    ``weight_bits`` or, in attention matmuls, an activation; ``acc``: partial sums;
    ``out``: final outputs, requantized to ``activation_bits`` for the next layer.
    """

    a: np.ndarray
    b: np.ndarray
    acc: np.ndarray
    out: np.ndarray

    @property
    def by_operand(self) -> dict[Operand, np.ndarray]:
        """On-chip widths: A, B, and partial sums for the output buffer."""
        return {Operand.INPUT: self.a, Operand.WEIGHT: self.b, Operand.OUTPUT: self.acc}


def operand_widths(hw: ConfigColumns, ly: LayerColumns) -> Widths:
    """The :class:`Widths` of ``ly``'s operands on ``hw``."""
    return Widths(
        a=hw.a_bits,
        b=np.where(ly.has_weights, hw.w_bits, hw.a_bits),
        acc=hw.acc_bits,
        out=hw.a_bits,
    )
