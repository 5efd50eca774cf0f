"""sparsa's accelerator model, in layers that import only downwards:

- :mod:`simulator.config`: the accelerator configuration;
- :mod:`simulator.workloads`: layers lowered to GEMMs, the zoo, YAML, SCALE-Sim inputs;
- :mod:`simulator.model`: mapping, timing, memory traffic, energy, area, roofline;
- :mod:`simulator.results`: :func:`simulate` and :func:`evaluate_configs` and what they return;
- :mod:`simulator.reports`: report.md, terminal tables and plots of a result;
- :mod:`simulator.codesign`: a model and a recipe to a verdict on accelerators (``sparsa run``);
- :mod:`simulator.sweep` (with recipes as an axis) and :mod:`simulator.cli` on top.
"""

from simulator.config import (
    AcceleratorConfig,
    ConfigError,
    Dataflow,
    FoldSchedule,
    InterLayerActivations,
    Overflow,
    PEKind,
    StreamTiling,
    WeightDecoder,
)
from simulator.model import (
    DATAFLOW_MAPS,
    ActionCounts,
    DenseTiming,
    EnergyTable,
    Operand,
    dense_timing,
    load_energy_table,
)
from simulator.reports import write_report
from simulator.results import (
    BatchResult,
    Cycles,
    LayerResult,
    SimResult,
    evaluate_configs,
    simulate,
)
from simulator.workloads import (
    ZOO,
    Conv2d,
    Gemm,
    Layer,
    Linear,
    MatMul,
    OpKind,
    Workload,
    WorkloadError,
    load_config,
    load_scalesim_cfg,
    load_scalesim_topology,
    load_workload_yaml,
    zoo_names,
    zoo_workload,
)

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
    "InterLayerActivations",
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
    "WeightDecoder",
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
