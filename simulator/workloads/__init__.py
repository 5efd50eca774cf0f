"""Workloads: layers lowered to GEMMs, the zoo of published networks, sparsa's YAML format,
SCALE-Sim topologies and configs, ONNX models, and where inputs come from."""

from simulator.workloads.layer import (
    Conv2d,
    Gemm,
    Layer,
    Linear,
    MatMul,
    OpKind,
    Workload,
    WorkloadError,
    parse_nm,
)
from simulator.workloads.onnx import InitializerSource, OnnxImport, load_onnx_workload, read_onnx
from simulator.workloads.scalesim import (
    ScaleSimConfig,
    load_scalesim_cfg,
    load_scalesim_topology,
    read_scalesim_cfg,
)
from simulator.workloads.sources import load_config, load_config_with_notes, load_workload
from simulator.workloads.yaml_format import (
    load_workload_yaml,
    workload_from_dict,
    write_workload_yaml,
)
from simulator.workloads.zoo import ZOO, zoo_names, zoo_workload

__all__ = [
    "ZOO",
    "Conv2d",
    "Gemm",
    "InitializerSource",
    "Layer",
    "Linear",
    "MatMul",
    "OnnxImport",
    "OpKind",
    "ScaleSimConfig",
    "Workload",
    "WorkloadError",
    "load_config",
    "load_config_with_notes",
    "load_onnx_workload",
    "load_scalesim_cfg",
    "load_scalesim_topology",
    "load_workload",
    "load_workload_yaml",
    "parse_nm",
    "read_onnx",
    "read_scalesim_cfg",
    "workload_from_dict",
    "write_workload_yaml",
    "zoo_names",
    "zoo_workload",
]
