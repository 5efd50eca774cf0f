"""Sweep specifications: a base config, workloads, axes, sampling and constraints.

A spec in YAML::

    name: resnet18-edge
    base: edge-32x32.yaml            # a config file (relative to the spec) or a mapping
    workloads: [resnet18]            # zoo specs or workload files (relative to the spec)
    batch: 1                         # optional, overrides the workloads' batch
    sampling: {method: grid}         # grid | random | lhs, with samples: and seed:
    axes:
      rows: [8, 16, 32, 64]                            # a list of values
      cols: {range: [8, 64], step: 8}                  # an inclusive arithmetic range
      dram_bytes_per_cycle: {range: [2, 64], num: 6, scale: log}   # n points
      clock_mhz: {range: [200, 1000]}                  # continuous (random/lhs only)
      dataflow: [os, ws, is]
    constraints:
      - rows * cols <= 16384
      - area_mm2 <= 10
    chunk_size: 256

Axes are named by :class:`~simulator.config.AcceleratorConfig` fields. Every axis value
is validated against the config when the spec is read, so a bad value is reported with
the axis name before anything runs.

Two other kinds of axis:

- a *bundle* axis, named freely, whose values are mappings of config fields set together
  (fields that only make sense together, such as an N:M array's PE kind and patterns);
  ``label`` names a value in the results (default: its fields)::

      array:
        - {label: dense}
        - {label: "2:4", pe_kind: nm, nm_patterns: ["2:4"]}
        - {label: codebook, weight_decoder: codebook, decoder_entries: 16}

- ``recipe``: compression recipes applied to ``model`` (:mod:`simulator.sweep.recipes`);
  every config point runs every recipe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from compress.errors import InputError
from simulator.config import FIELD_NAMES, AcceleratorConfig, ConfigError, parse_bytes
from simulator.sweep.constraints import Constraint, parse_constraint
from simulator.sweep.recipes import RecipeAxis, RecipeError, parse_recipe_axis
from simulator.workloads.sources import load_config

__all__ = ["Axis", "SpecError", "SweepSpec", "load_spec"]

SAMPLING_METHODS = ("grid", "random", "lhs")
_SPEC_KEYS = {
    "name", "base", "workloads", "batch", "sampling", "axes", "constraints", "chunk_size",
    "model", "compression",
}  # fmt: skip
RECIPE_AXIS = "recipe"
RECIPE_METRICS = ("accuracy", "storage_ratio_fp32")
_LABEL = "label"
_INT_FIELDS = {
    name
    for name, value in AcceleratorConfig(rows=1, cols=1).to_dict().items()
    if isinstance(value, int) and not isinstance(value, bool)
}
_FLOAT_FIELDS = {"dram_bytes_per_cycle", "clock_mhz"}


class SpecError(InputError):
    """A sweep spec is invalid; the message names the key, axis or constraint."""


@dataclass(frozen=True)
class Axis:
    """One swept config field.

    Either ``values`` (a discrete set, sampled by index) or a continuous ``low..high``
    interval (``scale`` linear or log), which only random and LHS sampling can use. A
    bundle axis has ``fields``: the config fields each of its ``values`` (labels) sets.
    """

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    scale: str = "linear"
    fields: tuple[Mapping[str, Any], ...] | None = None

    @property
    def bundle(self) -> bool:
        return self.fields is not None

    def fields_of(self, label: Any) -> Mapping[str, Any]:
        """The config fields a bundle value sets (``{name: value}`` for a field axis)."""
        if self.fields is None:
            return {self.name: label}
        return self.fields[self.values.index(label)]

    @property
    def discrete(self) -> bool:
        return self.values is not None

    @property
    def is_int(self) -> bool:
        return self.name in _INT_FIELDS

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map samples ``u`` in [0, 1) to axis values (object array for strings)."""
        if self.discrete:
            index = np.minimum((u * len(self.values)).astype(np.int64), len(self.values) - 1)
            return np.array(self.values, dtype=object)[index]
        if self.scale == "log":
            x = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return np.rint(x).astype(np.int64) if self.is_int else x

    def to_dict(self) -> dict[str, Any]:
        if self.bundle:
            return {
                "values": [
                    {_LABEL: label, **fields}
                    for label, fields in zip(self.values, self.fields, strict=True)
                ]
            }
        if self.discrete:
            return {"values": list(self.values)}
        return {"range": [self.low, self.high], "scale": self.scale}


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: what to vary, over which workloads, how to sample, what to keep."""

    name: str
    base: AcceleratorConfig
    workloads: tuple[str, ...]
    axes: tuple[Axis, ...]
    method: str = "grid"
    samples: int = 0
    seed: int = 0
    batch: int | None = None
    constraints: tuple[Constraint, ...] = ()
    chunk_size: int = 256
    recipe_axis: RecipeAxis | None = None
    """Recipes applied to a model, crossed with every config point (None: no recipes)."""

    @property
    def bundles(self) -> dict[str, Axis]:
        """The bundle axes by name."""
        return {axis.name: axis for axis in self.axes if axis.bundle}

    @property
    def n_points(self) -> int:
        """Configurations before constraints are applied."""
        if self.method == "grid":
            return int(np.prod([len(axis.values) for axis in self.axes], dtype=np.int64))
        return self.samples

    def to_dict(self) -> dict[str, Any]:
        """The canonical form: what the spec hash is computed from."""
        return {
            "name": self.name,
            "base": self.base.to_dict(),
            "workloads": list(self.workloads),
            "batch": self.batch,
            "sampling": {"method": self.method, "samples": self.samples, "seed": self.seed},
            "axes": {axis.name: axis.to_dict() for axis in self.axes},
            "constraints": [c.text for c in self.constraints],
            "chunk_size": self.chunk_size,
            **({} if self.recipe_axis is None else {"recipe": self.recipe_axis.to_dict()}),
        }

    def fingerprint(self, workload_digests: Mapping[str, str] | None = None) -> str:
        """A hash of the canonical spec (plus the content of workload, model and recipe
        files)."""
        payload = {"spec": self.to_dict(), "workload_files": dict(workload_digests or {})}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _bundle_axis(name: str, values: list, base: AcceleratorConfig) -> Axis:
    """An axis whose values are mappings of config fields set together."""
    where = f"axis '{name}'"
    labels, bundles = [], []
    for raw in values:
        fields = {k: v for k, v in raw.items() if k != _LABEL}
        unknown = sorted(set(fields) - set(FIELD_NAMES) | ({"name"} & set(fields)))
        if unknown:
            raise SpecError(
                f"{where}: {unknown[0]!r} is not a sweepable config field; a bundle value "
                f"sets fields of {', '.join(FIELD_NAMES[1:])} (and an optional label)"
            )
        fields = {k: parse_bytes(v) if k.endswith("_bytes") else v for k, v in fields.items()}
        label = raw.get(_LABEL) or ",".join(f"{k}={v}" for k, v in fields.items()) or "base"
        try:
            base.replace(**fields)
        except ConfigError as exc:
            raise SpecError(f"{where}: value {label!r}: {exc}") from None
        labels.append(str(label))
        bundles.append(fields)
    if len(set(labels)) != len(labels):
        raise SpecError(f"{where}: repeated labels {labels!r}; give each value its own label")
    return Axis(name=name, values=tuple(labels), fields=tuple(bundles))


def _axis(name: str, raw: Any, base: AcceleratorConfig) -> Axis:
    where = f"axis '{name}'"
    if (
        name not in FIELD_NAMES
        and isinstance(raw, list | tuple)
        and raw
        and all(isinstance(v, Mapping) for v in raw)
    ):
        return _bundle_axis(name, list(raw), base)
    if name not in FIELD_NAMES or name == "name":
        raise SpecError(
            f"{where}: not a sweepable config field; use one of {', '.join(FIELD_NAMES[1:])}"
        )
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"values", "range", "step", "num", "scale"}
        if unknown:
            raise SpecError(
                f"{where}: unknown key {sorted(unknown)[0]!r}; use values, range, step, num, scale"
            )
        if "values" in raw:
            return _discrete(name, raw["values"], base)
        return _range_axis(name, raw, base)
    return _discrete(name, raw, base)


def _discrete(name: str, values: Any, base: AcceleratorConfig) -> Axis:
    where = f"axis '{name}'"
    if not isinstance(values, list | tuple) or not values:
        raise SpecError(f"{where}: needs a non-empty list of values or a range, not {values!r}")
    parsed = tuple(parse_bytes(v) if name.endswith("_bytes") else v for v in values)
    for value in parsed:
        _check_value(name, value, base)
    if len(set(map(repr, parsed))) != len(parsed):
        raise SpecError(f"{where}: repeated values in {list(values)!r}")
    return Axis(name=name, values=parsed)


def _range_axis(name: str, raw: Mapping[str, Any], base: AcceleratorConfig) -> Axis:
    where = f"axis '{name}'"
    bounds = raw.get("range")
    if not (isinstance(bounds, list | tuple) and len(bounds) == 2):
        raise SpecError(f"{where}: range must be [low, high], not {bounds!r}")
    low, high = (parse_bytes(b) if name.endswith("_bytes") else b for b in bounds)
    if (
        not all(isinstance(b, int | float) and not isinstance(b, bool) for b in (low, high))
        or not low < high
    ):
        raise SpecError(f"{where}: range needs two numbers with low < high, not {bounds!r}")
    if name not in _INT_FIELDS | _FLOAT_FIELDS:
        raise SpecError(f"{where}: a range needs a numeric field; give a list of values instead")
    scale = raw.get("scale", "linear")
    if scale not in ("linear", "log") or (scale == "log" and low <= 0):
        raise SpecError(f"{where}: scale must be linear or log (log needs low > 0), not {scale!r}")
    for bound in (low, high):
        _check_value(name, int(bound) if name in _INT_FIELDS else bound, base)
    if "step" in raw and "num" in raw:
        raise SpecError(f"{where}: give step or num, not both")
    if "step" in raw:
        step = raw["step"]
        if not isinstance(step, int | float) or isinstance(step, bool) or step <= 0:
            raise SpecError(f"{where}: step must be a positive number, not {step!r}")
        values = np.arange(low, high + step * 1e-9, step)
        return _discrete(name, [_as_field(name, v) for v in values], base)
    if "num" in raw:
        num = raw["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 2:
            raise SpecError(f"{where}: num must be an integer >= 2, not {num!r}")
        space = np.geomspace if scale == "log" else np.linspace
        values = list(dict.fromkeys(_as_field(name, v) for v in space(low, high, num)))
        return _discrete(name, values, base)
    return Axis(name=name, low=float(low), high=float(high), scale=scale)


def _as_field(name: str, value: float) -> int | float:
    return round(value) if name in _INT_FIELDS else float(value)


def _check_value(name: str, value: Any, base: AcceleratorConfig) -> None:
    try:
        base.replace(**{name: value})
    except ConfigError as exc:
        raise SpecError(f"axis '{name}': value {value!r} {exc.allowed}") from None


def _sampling(raw: Any) -> tuple[str, int, int]:
    raw = raw if raw is not None else {"method": "grid"}
    if not isinstance(raw, Mapping):
        raise SpecError(
            f"sampling must be a mapping like {{method: lhs, samples: 100}}, not {raw!r}"
        )
    unknown = set(raw) - {"method", "samples", "seed"}
    if unknown:
        raise SpecError(f"sampling: unknown key {sorted(unknown)[0]!r}; use method, samples, seed")
    method = raw.get("method", "grid")
    if method not in SAMPLING_METHODS:
        raise SpecError(
            f"sampling method must be one of {', '.join(SAMPLING_METHODS)}, not {method!r}"
        )
    samples, seed = raw.get("samples", 0), raw.get("seed", 0)
    if method != "grid" and (
        isinstance(samples, bool) or not isinstance(samples, int) or samples < 1
    ):
        raise SpecError(f"sampling: {method} needs samples as a positive integer, not {samples!r}")
    if method == "grid" and "samples" in raw:
        raise SpecError("sampling: grid takes every combination; samples applies to random and lhs")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(f"sampling: seed must be a non-negative integer, not {seed!r}")
    return method, int(samples), int(seed)


def spec_from_dict(data: Mapping[str, Any], root: Path | None = None) -> SweepSpec:
    """Validate a parsed spec; relative paths resolve against ``root``."""
    if not isinstance(data, Mapping):
        raise SpecError(f"a sweep spec must be a mapping, not {type(data).__name__}")
    unknown = set(data) - _SPEC_KEYS
    if unknown:
        raise SpecError(
            f"unknown spec key {sorted(unknown)[0]!r}; "
            f"allowed keys are {', '.join(sorted(_SPEC_KEYS))}"
        )
    root = root or Path.cwd()
    base = _base(data.get("base"), root)
    axes_raw = data.get("axes")
    if not isinstance(axes_raw, Mapping) or not axes_raw:
        raise SpecError("axes must be a non-empty mapping of config field -> values")
    recipe_axis, workloads = _recipes(data, axes_raw, root)
    axes_raw = {name: raw for name, raw in axes_raw.items() if name != RECIPE_AXIS}
    if not axes_raw:
        raise SpecError("axes: the recipe axis needs at least one config axis beside it")
    axes = tuple(_axis(str(name), raw, base) for name, raw in axes_raw.items())
    _check_bundles(axes)
    method, samples, seed = _sampling(data.get("sampling"))
    if method == "grid":
        continuous = [axis.name for axis in axes if not axis.discrete]
        if continuous:
            raise SpecError(f"axis '{continuous[0]}': grid sampling needs values, a step or num")
    constraints_raw = data.get("constraints") or []
    if not isinstance(constraints_raw, list):
        raise SpecError("constraints must be a list of expressions such as 'rows * cols <= 16384'")
    constraints = tuple(parse_constraint(str(text)) for text in constraints_raw)
    for constraint in constraints:
        per_recipe = constraint.names & set(RECIPE_METRICS)
        if per_recipe and recipe_axis is None:
            raise SpecError(
                f"constraint {constraint.text!r}: {sorted(per_recipe)[0]} needs a recipe axis"
            )
    batch = data.get("batch")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise SpecError(f"batch must be a positive integer, not {batch!r}")
    chunk_size = data.get("chunk_size", 256)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise SpecError(f"chunk_size must be a positive integer, not {chunk_size!r}")
    name = str(data.get("name") or "sweep")
    return SweepSpec(
        name, base, workloads, axes, method, samples, seed, batch, constraints, chunk_size,
        recipe_axis,
    )  # fmt: skip


def _recipes(
    data: Mapping[str, Any], axes_raw: Mapping[str, Any], root: Path
) -> tuple[RecipeAxis | None, tuple[str, ...]]:
    """The recipe axis (or None) and the workloads: the model's own with recipes."""
    if RECIPE_AXIS not in axes_raw:
        for key in ("model", "compression"):
            if key in data:
                raise SpecError(f"{key}: only with a recipe axis (axes: recipe: [...])")
        return None, _workloads(data.get("workloads"), root)
    try:
        axis = parse_recipe_axis(axes_raw[RECIPE_AXIS], data, data.get("workloads"), root)
    except RecipeError as exc:
        raise SpecError(str(exc)) from None
    return axis, (axis.workload or axis.model,)


def _check_bundles(axes: tuple[Axis, ...]) -> None:
    """No config field is set by two axes."""
    owner: dict[str, str] = {}
    for axis in axes:
        for name in {f for fields in (axis.fields or ({axis.name: None},)) for f in fields}:
            if name in owner:
                raise SpecError(
                    f"axis '{axis.name}': sets '{name}', which axis '{owner[name]}' sets too"
                )
            owner[name] = axis.name


def _base(raw: Any, root: Path) -> AcceleratorConfig:
    if raw is None:
        raise SpecError("base is required: a config file or a mapping of config fields")
    try:
        if isinstance(raw, Mapping):
            return AcceleratorConfig.from_dict(raw, source="spec base")
        return load_config(root / str(raw))
    except (ConfigError, FileNotFoundError) as exc:
        raise SpecError(f"base: {exc}") from None


def _workloads(raw: Any, root: Path) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise SpecError("workloads must be a non-empty list of zoo names or workload files")
    out = []
    for item in raw:
        text = str(item)
        if Path(text).suffix.lower() in (".csv", ".yaml", ".yml"):
            path = root / text
            if not path.is_file():
                raise SpecError(f"workloads: file {path} does not exist")
            text = str(path)
        out.append(text)
    return tuple(out)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec YAML file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep spec {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"sweep spec {path}: not valid YAML ({exc})") from None
    return spec_from_dict(data, root=path.parent.resolve())
