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


def _is_cfg(path: Path, what: str = "accelerator config") -> bool:
    """Whether ``path`` is a SCALE-Sim cfg (by its suffix, in any case); it must exist."""
    if not path.exists():
        raise FileNotFoundError(f"{what} {path} does not exist")
    return path.suffix.lower() == ".cfg"


def load_config(path: str | Path) -> AcceleratorConfig:
    """Load an accelerator config from YAML, or import a SCALE-Sim ``.cfg`` file."""
    path = Path(path)
    return load_scalesim_cfg(path) if _is_cfg(path) else load_config_yaml(path)


def load_config_with_notes(path: str | Path) -> tuple[AcceleratorConfig, tuple[str, ...]]:
    """:func:`load_config`, and what the import assumed or does not model, one sentence
    each (a SCALE-Sim cfg's notes, :attr:`ScaleSimConfig.notes`; none for sparsa YAML)."""
    path = Path(path)
    if _is_cfg(path):
        imported = read_scalesim_cfg(path)
        return imported.config, imported.notes
    return load_config_yaml(path), ()


def load_workload(spec: str, batch: int | None = None) -> Workload:
    """Resolve ``spec`` to a workload.

    ``spec`` is a file (``.csv``: SCALE-Sim topology, conv or GEMM form; ``.yaml`` /
    ``.yml``: sparsa's format; ``.onnx``: an ONNX model, see
    :mod:`simulator.workloads.onnx`, needs ``pip install sparsa[onnx]``) or a zoo name
    with optional parameters (``llama7b-decode:kv_len=4096``). ``batch`` overrides the
    file's batch when given (zoo networks default to 1; an ONNX model's symbolic batch
    is 1); it must be a positive integer.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise WorkloadError(f"workload must be a zoo name or a file, not {spec!r}")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise WorkloadError(f"workload {spec!r}: batch must be a positive integer, not {batch!r}")
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".yaml", ".yml", ".onnx"):
        if not path.exists():
            raise FileNotFoundError(f"workload file {spec} does not exist")
        if path.is_dir():
            raise WorkloadError(f"workload file {spec} is a directory, not a file")
        if suffix == ".onnx":
            return load_onnx_workload(path, batch=batch)
        if suffix == ".csv":
            return load_scalesim_topology(path, batch=1 if batch is None else batch)
        workload = load_workload_yaml(path)
        return workload if batch is None else workload.with_batch(batch)
    if spec.split(":")[0] in zoo_names():
        return zoo_workload(spec, batch=1 if batch is None else batch)
    if "/" in spec or "." in spec:
        raise WorkloadError(
            f"workload {spec!r}: not a zoo name, and files must end in .csv, .yaml or .yml "
            "(or .onnx for an ONNX model)"
        )
    return zoo_workload(spec, batch=1 if batch is None else batch)
