"""Run a workload on an accelerator config: the library call behind ``sparsa simulate``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator.config import AcceleratorConfig
from simulator.mapping import dataflow_code
from simulator.result import Cycles, LayerResult, SimResult
from simulator.timing import SCHEDULE_CODES, DenseTiming, dense_timing
from simulator.workload import Workload

__all__ = ["config_arrays", "layer_timing", "simulate", "timing_over_configs"]


def layer_timing(workload: Workload, config: AcceleratorConfig) -> DenseTiming:
    """Timing arrays of every layer of ``workload`` on ``config`` (shape ``(layers,)``)."""
    m, n, k, groups = workload.gemm_arrays()
    return dense_timing(
        m,
        n,
        k,
        groups,
        config.rows,
        config.cols,
        dataflow_code(config.dataflow),
        SCHEDULE_CODES[config.fold_schedule],
    )


def config_arrays(configs: Sequence[AcceleratorConfig]) -> dict[str, np.ndarray]:
    """The timing-relevant fields of many configs as ``int64[configs, 1]`` columns."""
    columns = {
        "rows": [c.rows for c in configs],
        "cols": [c.cols for c in configs],
        "dataflow": [dataflow_code(c.dataflow) for c in configs],
        "schedule": [SCHEDULE_CODES[c.fold_schedule] for c in configs],
    }
    return {name: np.array(values, dtype=np.int64)[:, None] for name, values in columns.items()}


def timing_over_configs(workload: Workload, configs: Sequence[AcceleratorConfig]) -> DenseTiming:
    """Timing of every layer on every config at once: arrays of shape ``(configs, layers)``.

    One broadcast evaluation of :func:`simulator.timing.dense_timing`; equal, element by
    element, to calling :func:`layer_timing` once per config.
    """
    m, n, k, groups = workload.gemm_arrays()
    hw = config_arrays(configs)
    return dense_timing(m, n, k, groups, hw["rows"], hw["cols"], hw["dataflow"], hw["schedule"])


def simulate(workload: Workload, config: AcceleratorConfig) -> SimResult:
    """Simulate ``workload`` on ``config``.

    Memory stalls are zero until the memory model lands: the array is never starved.
    """
    timing = layer_timing(workload, config)
    stall = np.zeros_like(timing.compute_cycles)
    total = timing.compute_cycles + stall
    layers = []
    for i, layer in enumerate(workload.layers):
        cycles = Cycles(
            compute=int(timing.compute_cycles[i]),
            stall=int(stall[i]),
            total=int(total[i]),
            scalesim_total=int(timing.scalesim_cycles[i]),
        )
        layers.append(
            LayerResult(
                name=layer.name,
                kind=layer.kind.value,
                m=layer.m,
                n=layer.n,
                k=layer.k,
                groups=layer.groups,
                macs=layer.macs,
                cycles=cycles,
                utilization=layer.macs / (cycles.total * config.pes),
                mapping_efficiency=float(timing.mapping_efficiency[i]),
                row_folds=int(timing.row_folds[i]),
                col_folds=int(timing.col_folds[i]),
            )
        )
    return SimResult(
        config=config,
        workload_name=workload.name,
        workload_source=workload.source,
        batch=workload.batch,
        layers=tuple(layers),
    )
