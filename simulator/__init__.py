"""sparsa's accelerator model: workloads, configs, mapping, timing, memory traffic, energy,
area, roofline, results, reports and the CLI."""

from simulator.batch import BatchResult, evaluate_configs
from simulator.config import (
    AcceleratorConfig,
    ConfigError,
    Dataflow,
    FoldSchedule,
    Overflow,
    PEKind,
    StreamTiling,
    load_config,
)
from simulator.energy import ActionCounts, EnergyTable, load_energy_table
from simulator.mapping import DATAFLOW_MAPS, Operand
from simulator.report import write_report
from simulator.result import Cycles, LayerResult, SimResult
from simulator.scalesim_io import load_scalesim_cfg, load_scalesim_topology
from simulator.simulate import simulate
from simulator.timing import DenseTiming, dense_timing
from simulator.workload import (
    Conv2d,
    Gemm,
    Layer,
    Linear,
    MatMul,
    OpKind,
    Workload,
    WorkloadError,
    load_workload_yaml,
)
from simulator.zoo import ZOO, zoo_names, zoo_workload

__all__ = [
    "DATAFLOW_MAPS",
    "ZOO",
    "AcceleratorConfig",
    "ActionCounts",
    "BatchResult",
    "ConfigError",
    "Conv2d",
    "Cycles",
    "Dataflow",
    "DenseTiming",
    "EnergyTable",
    "FoldSchedule",
    "Gemm",
    "Layer",
    "LayerResult",
    "Linear",
    "MatMul",
    "OpKind",
    "Operand",
    "Overflow",
    "PEKind",
    "SimResult",
    "StreamTiling",
    "Workload",
    "WorkloadError",
    "dense_timing",
    "evaluate_configs",
    "load_config",
    "load_energy_table",
    "load_scalesim_cfg",
    "load_scalesim_topology",
    "load_workload_yaml",
    "simulate",
    "write_report",
    "zoo_names",
    "zoo_workload",
]
