"""sparsa's accelerator model, in layers that import only downwards:

- :mod:`simulator.config`: the accelerator configuration;
- :mod:`simulator.workloads`: layers lowered to GEMMs, the zoo, YAML, SCALE-Sim inputs;
- :mod:`simulator.model`: mapping, timing, memory traffic, energy, area, roofline;
- :mod:`simulator.results`: :func:`simulate` and :func:`evaluate_configs` and what they return;
- :mod:`simulator.reports`: report.md, terminal tables and plots of a result;
- :mod:`simulator.codesign`: a model and a recipe to a verdict on accelerators (``sparsa run``);
- :mod:`simulator.sweep` (with recipes as an axis) and :mod:`simulator.cli` on top.

The names below are imported from their modules on first use (:mod:`compress.lazy`),
so that importing one module of the package does not import them all.
"""

from compress.lazy import lazy_exports

__all__ = lazy_exports(
    __name__,
    {
        "simulator.config": (
            "AcceleratorConfig",
            "ConfigError",
            "Dataflow",
            "FoldSchedule",
            "InterLayerActivations",
            "Overflow",
            "PEKind",
            "StreamTiling",
            "WeightDecoder",
        ),
        "simulator.model": (
            "DATAFLOW_MAPS",
            "ActionCounts",
            "DenseTiming",
            "EnergyTable",
            "Operand",
            "dense_timing",
            "load_energy_table",
        ),
        "simulator.reports": ("write_report",),
        "simulator.results": (
            "BatchResult",
            "Cycles",
            "LayerResult",
            "SimResult",
            "evaluate_configs",
            "simulate",
        ),
        "simulator.workloads": (
            "ZOO",
            "Conv2d",
            "Gemm",
            "Layer",
            "Linear",
            "MatMul",
            "OpKind",
            "Workload",
            "WorkloadError",
            "load_config",
            "load_scalesim_cfg",
            "load_scalesim_topology",
            "load_workload_yaml",
            "zoo_names",
            "zoo_workload",
        ),
    },
)
