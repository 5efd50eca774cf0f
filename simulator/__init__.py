"""sparsa's accelerator model: workloads, configs, mapping, timing, results and the CLI."""

from simulator.config import (
    AcceleratorConfig,
    ConfigError,
    Dataflow,
    FoldSchedule,
    Overflow,
    PEKind,
    load_config,
)
from simulator.mapping import DATAFLOW_MAPS, Operand
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
    "ConfigError",
    "Conv2d",
    "Cycles",
    "Dataflow",
    "DenseTiming",
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
    "Workload",
    "WorkloadError",
    "dense_timing",
    "load_config",
    "load_scalesim_cfg",
    "load_scalesim_topology",
    "load_workload_yaml",
    "simulate",
    "zoo_names",
    "zoo_workload",
]
