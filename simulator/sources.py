"""Where workloads come from: a zoo name, a SCALE-Sim topology CSV or a sparsa YAML file."""

from __future__ import annotations

from pathlib import Path

from simulator.scalesim_io import load_scalesim_topology
from simulator.workload import Workload, WorkloadError, load_workload_yaml
from simulator.zoo import zoo_names, zoo_workload

__all__ = ["load_workload"]


def load_workload(spec: str, batch: int | None = None) -> Workload:
    """Resolve ``spec`` to a workload.

    ``spec`` is a file (``.csv``: SCALE-Sim topology, conv or GEMM form; ``.yaml`` /
    ``.yml``: sparsa's format) or a zoo name with optional parameters
    (``llama7b-decode:kv_len=4096``). ``batch`` overrides the file's batch when given
    (zoo networks default to 1).
    """
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".yaml", ".yml"):
        if not path.is_file():
            raise FileNotFoundError(f"workload file {spec} does not exist")
        if suffix == ".csv":
            return load_scalesim_topology(path, batch=batch or 1)
        workload = load_workload_yaml(path)
        return workload if batch is None else workload.with_batch(batch)
    if spec.split(":")[0] in zoo_names():
        return zoo_workload(spec, batch=batch or 1)
    if "/" in spec or "." in spec:
        raise WorkloadError(
            f"workload {spec!r}: not a zoo name, and files must end in .csv, .yaml or .yml"
        )
    return zoo_workload(spec, batch=batch or 1)
