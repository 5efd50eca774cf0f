"""Where inputs come from: workloads (a zoo name, a SCALE-Sim topology CSV, a sparsa YAML
file or an ONNX model) and accelerator configs (sparsa YAML or a SCALE-Sim ``.cfg``)."""

from __future__ import annotations

from pathlib import Path

from simulator.config import AcceleratorConfig, load_config_yaml
from simulator.workloads.layer import Workload, WorkloadError
from simulator.workloads.onnx import load_onnx_workload
from simulator.workloads.scalesim import (
    load_scalesim_cfg,
    load_scalesim_topology,
    read_scalesim_cfg,
)
from simulator.workloads.yaml_format import load_workload_yaml
from simulator.workloads.zoo import zoo_names, zoo_workload

__all__ = ["load_config", "load_config_with_notes", "load_workload"]


def load_config(path: str | Path) -> AcceleratorConfig:
    """Load an accelerator config from YAML, or import a SCALE-Sim ``.cfg`` file."""
    path = Path(path)
    if path.suffix == ".cfg":
        if not path.is_file():
            raise FileNotFoundError(f"accelerator config {path} does not exist")
        return load_scalesim_cfg(path)
    return load_config_yaml(path)


def load_config_with_notes(path: str | Path) -> tuple[AcceleratorConfig, tuple[str, ...]]:
    """:func:`load_config`, and what the import assumed or does not model, one sentence
    each (a SCALE-Sim cfg's notes, :attr:`ScaleSimConfig.notes`; none for sparsa YAML)."""
    path = Path(path)
    if path.suffix == ".cfg" and path.is_file():
        imported = read_scalesim_cfg(path)
        return imported.config, imported.notes
    return load_config(path), ()


def load_workload(spec: str, batch: int | None = None) -> Workload:
    """Resolve ``spec`` to a workload.

    ``spec`` is a file (``.csv``: SCALE-Sim topology, conv or GEMM form; ``.yaml`` /
    ``.yml``: sparsa's format; ``.onnx``: an ONNX model, see
    :mod:`simulator.workloads.onnx`, needs ``pip install sparsa[onnx]``) or a zoo name
    with optional parameters (``llama7b-decode:kv_len=4096``). ``batch`` overrides the
    file's batch when given (zoo networks default to 1; an ONNX model's symbolic batch
    is 1).
    """
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".yaml", ".yml", ".onnx"):
        if not path.is_file():
            raise FileNotFoundError(f"workload file {spec} does not exist")
        if suffix == ".onnx":
            return load_onnx_workload(path, batch=batch)
        if suffix == ".csv":
            return load_scalesim_topology(path, batch=batch or 1)
        workload = load_workload_yaml(path)
        return workload if batch is None else workload.with_batch(batch)
    if spec.split(":")[0] in zoo_names():
        return zoo_workload(spec, batch=batch or 1)
    if "/" in spec or "." in spec:
        raise WorkloadError(
            f"workload {spec!r}: not a zoo name, and files must end in .csv, .yaml or .yml "
            "(or .onnx for an ONNX model)"
        )
    return zoo_workload(spec, batch=batch or 1)
