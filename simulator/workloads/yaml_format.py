"""sparsa's YAML workload format: a name, a batch and a list of layers, one operator each.

::

    name: tiny
    batch: 1
    layers:
      - {name: conv1, conv: {h: 32, w: 32, c: 3, k: 16, r: 3, s: 3, padding: 1}}
      - {name: fc, linear: {in_features: 1024, out_features: 10}}
      - {name: scores, matmul: {m: 128, k: 64, n: 128, count: 12}}
      - {name: proj, gemm: {m: 128, n: 768, k: 768}, nm: "2:4", activation_density: 0.6}

``nm`` declares a uniform N:M pattern (no mask), ``weight_density`` an unstructured
density (each weight kept independently); ``activation_density`` is the fraction of
the layer's inputs that are nonzero (default 1), which zero gating turns into saved MAC
energy. Unknown keys are errors that name the layer and the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING
from pathlib import Path
from typing import Any

import yaml

from compress.errors import load_yaml
from simulator.config import parse_number
from simulator.workloads.layer import OP_OF_KEY, Layer, Workload, WorkloadError, parse_nm

__all__ = ["load_workload_yaml", "workload_from_dict", "write_workload_yaml"]


def workload_from_dict(data: Mapping[str, Any], source: str = "") -> Workload:
    """Build from the YAML form; unknown keys are errors.

    ::

        name: tiny
        batch: 1
        layers:
          - {name: conv1, conv: {h: 32, w: 32, c: 3, k: 16, r: 3, s: 3, padding: 1}}
          - {name: fc, linear: {in_features: 1024, out_features: 10}}
          - {name: scores, matmul: {m: 128, k: 64, n: 128, count: 12}}
          - {name: proj, gemm: {m: 128, n: 768, k: 768}, nm: "2:4"}
    """
    where = f"workload {source or 'mapping'}"
    if not isinstance(data, Mapping):
        raise WorkloadError(f"{where}: expected a mapping with 'layers', not {data!r}")
    _reject_unknown(where, data, {"name", "batch", "layers"})
    layers_data = data.get("layers")
    if not isinstance(layers_data, list) or not layers_data:
        raise WorkloadError(
            f"{where}: 'layers' must be a non-empty list of layers (- name: ... lines), "
            f"not {_short(layers_data)}"
        )
    batch = data.get("batch", 1)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise WorkloadError(f"{where}: 'batch' must be a positive integer, not {batch!r}")
    name = data.get("name") or (Path(source).stem if source else "workload")
    if not isinstance(name, str | int):
        raise WorkloadError(f"{where}: 'name' must be text, not {_short(name)}")
    layers = [_layer_from_dict(item, i, batch, where) for i, item in enumerate(layers_data)]
    return Workload(name=str(name), layers=tuple(layers), source=source)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reject_unknown(where: str, data: Mapping[Any, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = sorted(set(data) - allowed, key=str)
    if unknown:
        raise WorkloadError(
            f"{where}: unknown key {unknown[0]!r}; allowed keys are {', '.join(sorted(allowed))}"
        )


def _operator(here: str, key: str, params: Any) -> Any:
    """The operator of a layer's ``key: {params}`` entry."""
    cls = OP_OF_KEY[key]
    if not isinstance(params, Mapping):
        raise WorkloadError(f"{here}: {key} must be a mapping of its parameters, not {params!r}")
    fields = cls.__dataclass_fields__
    _reject_unknown(f"{here} {key}", params, fields)
    required = [name for name, f in fields.items() if f.default is MISSING]
    missing = [name for name in required if name not in params]
    if missing:
        raise WorkloadError(
            f"{here}: {key} needs {', '.join(required)}; missing {', '.join(missing)}"
        )
    try:
        return cls(**params)
    except WorkloadError as exc:
        raise WorkloadError(f"{here}: {exc}") from None


def _layer_from_dict(item: Any, index: int, batch: int, where: str) -> Layer:
    if not isinstance(item, Mapping):
        raise WorkloadError(f"{where}: layer #{index} must be a mapping, not {_short(item)}")
    name = item.get("name", f"layer{index}")
    if not isinstance(name, str | int) or isinstance(name, bool) or name == "":
        raise WorkloadError(f"{where}: layer #{index}: name must be text, not {name!r}")
    here = f"{where}: layer {str(name)!r}"
    _reject_unknown(here, item, {"name", "nm", "activation_density", "weight_density", *OP_OF_KEY})
    op_keys = [key for key in OP_OF_KEY if key in item]
    if len(op_keys) != 1:
        raise WorkloadError(
            f"{here}: needs exactly one operator key among {', '.join(OP_OF_KEY)}, "
            f"found {op_keys or 'none'}"
        )
    op = _operator(here, op_keys[0], item[op_keys[0]])
    nm = parse_nm(item.get("nm"), here)
    try:
        return Layer(
            name=str(name),
            op=op,
            batch=batch,
            nm=nm,
            activation_density=parse_number(item.get("activation_density", 1.0)),
            weight_density=parse_number(item.get("weight_density", 1.0)),
        )
    except WorkloadError as exc:
        raise WorkloadError(f"{where}: {exc}") from None


def load_workload_yaml(path: str | Path) -> Workload:
    """Read a workload in sparsa's YAML format (see :func:`workload_from_dict`): UTF-8 text
    holding a mapping (:func:`compress.errors.load_yaml`)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"workload file {path} does not exist")
    return workload_from_dict(load_yaml(path, "workload"), source=str(path))


def write_workload_yaml(workload: Workload, path: str | Path) -> None:
    """Write ``workload`` (shapes and declared patterns, no weights) in this format."""
    Path(path).write_text(yaml.safe_dump(workload.to_dict(), sort_keys=False))
