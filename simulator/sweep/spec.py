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

Every file a spec names (the base config, workload files, energy-override files, the
recipe model and recipe files) is relative to the spec's folder, never to the working
directory, so a spec gives the same numbers wherever it is run from; the fingerprint of
a sweep covers the contents of all of them (:meth:`SweepSpec.input_files`). A sweep has
at most :data:`MAX_POINTS` points, counted before anything is allocated, and its
energies are all in one unit: energy tables of different units (pJ and the relative
MAC16 of ``eyeriss``) in one spec are refused, since their energies could share neither
a column nor a Pareto front.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compress.errors import InputError, load_yaml
from simulator.config import AcceleratorConfig, ConfigError
from simulator.model import technology
from simulator.model.energy import DATA_DIR, load_energy_table
from simulator.sweep.axes import Axis, SpecError, field_value, parse_axis, spec_number
from simulator.sweep.constraints import Constraint, parse_constraint
from simulator.sweep.recipes import RecipeAxis, RecipeError, parse_recipe_axis
from simulator.workloads.sources import load_config

__all__ = ["MAX_CHUNK_SIZE", "MAX_POINTS", "Axis", "SpecError", "SweepSpec", "load_spec"]

MAX_POINTS = 10_000_000
"""The most points (configs) one sweep may have, before constraints."""
MAX_CHUNK_SIZE = 100_000
SAMPLING_METHODS = ("grid", "random", "lhs")
_SPEC_KEYS = {
    "name", "base", "workloads", "batch", "sampling", "axes", "constraints", "chunk_size",
    "model", "compression",
}  # fmt: skip
RECIPE_AXIS = "recipe"
RECIPE_METRICS = ("accuracy", "storage_ratio_fp32")
WORKLOAD_SUFFIXES = (".csv", ".yaml", ".yml", ".onnx")
_MODEL_TABLES = (DATA_DIR / "area_45nm.yaml", technology.DATA_FILE)
"""Tables every point's numbers depend on, whatever its config."""


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
    base_file: str | None = None
    """The config file the base was read from (None: a mapping in the spec)."""
    source: str = ""
    """The spec file, for messages ("" for a spec built in code)."""

    def problem(self, message: str) -> SpecError:
        """A :class:`SpecError` about this spec that names its file."""
        return SpecError(f"sweep spec {self.source}: {message}" if self.source else message)

    @property
    def bundles(self) -> dict[str, Axis]:
        """The bundle axes by name."""
        return {axis.name: axis for axis in self.axes if axis.bundle}

    @property
    def n_points(self) -> int:
        """Configurations before constraints are applied."""
        if self.method == "grid":
            return math.prod(len(axis.values) for axis in self.axes)
        return self.samples

    def field_values(self, field: str) -> tuple[str, tuple[Any, ...]]:
        """Where ``field`` comes from (an axis name, or ``base``) and every value it takes."""
        for axis in self.axes:
            values = axis.settings(field)
            if values is not None:
                default = getattr(self.base, field)
                return f"axis '{axis.name}'", tuple(default if v is None else v for v in values)
        return "base", (getattr(self.base, field),)

    def input_files(self) -> tuple[str, ...]:
        """Every file the points' numbers depend on: the base config, workload files, the
        recipe model and recipe files, energy-override files, and the built-in tables the
        configs use (energy tables by name, area, technology nodes)."""
        files = [self.base_file] if self.base_file else []
        files += [w for w in self.workloads if Path(w).suffix.lower() in WORKLOAD_SUFFIXES]
        if self.recipe_axis is not None:
            files += self.recipe_axis.files
        files += [o for o in self.field_values("energy_overrides")[1] if o]
        files += [str(DATA_DIR / f"energy_{t}.yaml") for t in self.field_values("energy_table")[1]]
        files += [str(path) for path in _MODEL_TABLES]
        return tuple(dict.fromkeys(files))

    def file_digests(self) -> dict[str, str]:
        """The SHA-256 of every :meth:`input_files` file, by path."""
        return {path: _sha256(Path(path)) for path in self.input_files()}

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

    def fingerprint(self, file_digests: Mapping[str, str] | None = None) -> str:
        """A hash of the canonical spec and of the contents of the files it names
        (``file_digests``, :meth:`file_digests`)."""
        payload = {"spec": self.to_dict(), "workload_files": dict(file_digests or {})}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    if method == "grid" and "samples" in raw:
        raise SpecError("sampling: grid takes every combination; samples applies to random and lhs")
    samples = 0
    if method != "grid":
        if "samples" not in raw:
            raise SpecError(f"sampling: {method} needs samples: a positive integer")
        samples = spec_number(raw["samples"], f"sampling: {method} samples", integer=True)
        if samples > MAX_POINTS:
            raise SpecError(
                f"sampling: samples {samples:,} is more than the {MAX_POINTS:,} points "
                "one sweep may have"
            )
    seed = spec_number(raw.get("seed", 0), "sampling: seed", integer=True, minimum=0)
    return method, samples, seed


def spec_from_dict(data: Mapping[str, Any], root: Path | None = None) -> SweepSpec:
    """Validate a parsed spec; relative paths resolve against ``root`` (the spec's
    folder; default: the working directory)."""
    if not isinstance(data, Mapping):
        raise SpecError(f"a sweep spec must be a mapping, not {type(data).__name__}")
    unknown = sorted(map(str, set(data) - _SPEC_KEYS))
    if unknown:
        raise SpecError(
            f"unknown spec key {unknown[0]!r}; allowed keys are {', '.join(sorted(_SPEC_KEYS))}"
        )
    root = Path(root or Path.cwd()).resolve()
    base, base_file = _base(data.get("base"), root)
    axes_raw = data.get("axes")
    if not isinstance(axes_raw, Mapping) or not axes_raw:
        raise SpecError("axes must be a non-empty mapping of config field -> values")
    recipe_axis, workloads = _recipes(data, axes_raw, root)
    axes_raw = {name: raw for name, raw in axes_raw.items() if name != RECIPE_AXIS}
    if not axes_raw:
        raise SpecError("axes: the recipe axis needs at least one config axis beside it")
    axes = tuple(parse_axis(str(name), raw, base, root) for name, raw in axes_raw.items())
    _check_bundles(axes)
    method, samples, seed = _sampling(data.get("sampling"))
    if method == "grid":
        _check_grid(axes)
    spec = SweepSpec(
        _name(data.get("name", "sweep")), base, workloads, axes, method, samples, seed,
        _batch(data.get("batch")), _constraints(data.get("constraints"), recipe_axis),
        spec_number(data.get("chunk_size", 256), "chunk_size", integer=True), recipe_axis,
        base_file,
    )  # fmt: skip
    if spec.chunk_size > MAX_CHUNK_SIZE:
        raise SpecError(f"chunk_size must be at most {MAX_CHUNK_SIZE:,}, not {spec.chunk_size:,}")
    _check_energy(spec)
    return spec


def _name(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise SpecError(f"name must be a string, not {raw!r}")
    return str(raw) or "sweep"


def _batch(raw: Any) -> int | None:
    return None if raw is None else spec_number(raw, "batch", integer=True)


def _check_grid(axes: tuple[Axis, ...]) -> None:
    continuous = [axis.name for axis in axes if not axis.discrete]
    if continuous:
        raise SpecError(f"axis '{continuous[0]}': grid sampling needs values, a step or num")
    n_points = math.prod(len(axis.values) for axis in axes)
    if n_points > MAX_POINTS:
        sizes = " x ".join(f"{axis.name} {len(axis.values):,}" for axis in axes)
        raise SpecError(
            f"the grid has {n_points:,} points ({sizes}); at most {MAX_POINTS:,} are allowed: "
            "give fewer values, or use sampling: {method: lhs, samples: N}"
        )


def _constraints(raw: Any, recipe_axis: RecipeAxis | None) -> tuple[Constraint, ...]:
    raw = [] if raw is None else raw
    if not isinstance(raw, list):
        raise SpecError(
            f"constraints must be a list of expressions such as 'rows * cols <= 16384', not {raw!r}"
        )
    constraints = []
    for number, text in enumerate(raw, 1):
        if not isinstance(text, str):
            raise SpecError(
                f"constraints: entry {number} must be an expression in quotes such as "
                f"'rows * cols <= 16384', not {text!r}"
            )
        constraint = parse_constraint(text)
        per_recipe = constraint.names & set(RECIPE_METRICS)
        if per_recipe and recipe_axis is None:
            raise SpecError(
                f"constraint {constraint.text!r}: {sorted(per_recipe)[0]} needs a recipe axis"
            )
        constraints.append(constraint)
    return tuple(constraints)


def _check_energy(spec: SweepSpec) -> None:
    """Every energy table and override file the points use loads, and all price energy
    in one unit."""
    table_from, tables = spec.field_values("energy_table")
    overrides_from, overrides = spec.field_values("energy_overrides")
    for path in dict.fromkeys(overrides):
        if path and not Path(path).is_file():
            raise SpecError(f"{overrides_from}: energy_overrides file {path} does not exist")
    for table, path in itertools.product(dict.fromkeys(tables), dict.fromkeys(overrides)):
        try:
            load_energy_table(table, path)
        except InputError as exc:
            raise SpecError(f"{overrides_from if path else table_from}: {exc}") from None
    first_of_unit: dict[str, str] = {}
    for table in tables:
        first_of_unit.setdefault(load_energy_table(table).unit, table)
    if len(first_of_unit) > 1:
        (unit_a, a), (unit_b, b) = list(first_of_unit.items())[:2]
        raise SpecError(
            f"{table_from}: energy tables {a} ({unit_a}) and {b} ({unit_b}) price energy in "
            "different units, whose energies can share neither a column nor a Pareto front; "
            "sweep the tables of each unit in a spec of its own"
        )


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


def _base(raw: Any, root: Path) -> tuple[AcceleratorConfig, str | None]:
    """The base config, and the file it was read from (None for a mapping)."""
    if raw is None:
        raise SpecError("base is required: a config file or a mapping of config fields")
    if isinstance(raw, Mapping):
        fields = {str(k): field_value(str(k), v, root) for k, v in raw.items()}
        try:
            return AcceleratorConfig.from_dict(fields, source="spec base"), None
        except ConfigError as exc:
            raise SpecError(f"base: {exc}") from None
    if not isinstance(raw, str) or not raw:
        raise SpecError(
            f"base must be a config file name or a mapping of config fields, not {raw!r}"
        )
    path = (root / raw).resolve()
    try:
        return load_config(path), str(path)
    except (InputError, FileNotFoundError) as exc:
        raise SpecError(f"base: {exc}") from None


def _workloads(raw: Any, root: Path) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise SpecError("workloads must be a non-empty list of zoo names or workload files")
    out = []
    for item in raw:
        if not isinstance(item, str) or not item:
            raise SpecError(
                f"workloads: each entry must be a zoo name or a workload file, not {item!r}"
            )
        if Path(item).suffix.lower() in WORKLOAD_SUFFIXES:
            path = (root / item).resolve()
            if not path.is_file():
                raise SpecError(f"workloads: file {path} does not exist")
            item = str(path)
        out.append(item)
    if len(set(out)) != len(out):
        raise SpecError(f"workloads: repeated entries in {raw!r}")
    return tuple(out)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec YAML file; errors name the file."""
    path = Path(path)
    data = load_yaml(path, "sweep spec")
    try:
        spec = spec_from_dict(data, root=path.parent.resolve())
    except InputError as exc:
        raise SpecError(f"sweep spec {path}: {exc}") from None
    return dataclasses.replace(spec, source=str(path))
