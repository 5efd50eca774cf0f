"""What a result file may hold: its schema, and the relations between its figures.

A ``result.json`` is read back in three steps (:meth:`simulator.results.SimResult.from_dict`):

1. :data:`RESULT_SCHEMA` checks every field's type and range (derived from the record
   dataclasses that :meth:`~simulator.results.SimResult.to_dict` serializes);
2. :func:`check_layer_figures` checks what a layer's stored figures imply about each
   other (``cycles.total = compute + stall``, at least ``macs_useful / PEs`` cycles, the
   utilization and latency they give, energy by component = the sum of its actions);
3. :func:`first_difference` compares the derived figures the file holds (the ``total``
   section, ``speedup``, ``dram_bytes``, ...) with what the layers give.

Each refusal names the file, the path of the field (``layers[3].cycles.total``), the
value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Any

import numpy as np

from compress.schema import (
    MISSING,
    Anything,
    Integer,
    ListOf,
    MapOf,
    Nullable,
    Number,
    Record,
    SchemaError,
    Text,
    child_path,
    preview,
    record_of,
)
from simulator.config import AcceleratorConfig, StreamTiling
from simulator.model.area import AREA_COMPONENTS
from simulator.model.energy import ACTION_KEYS, COMPONENTS, component_of
from simulator.model.residency import SPILL_REASONS
from simulator.model.roofline import BOUND_NAMES, roofline
from simulator.model.sparsity import EXEC_MODES
from simulator.results.records import (
    Baseline,
    Cycles,
    CycleSplit,
    EnergySaving,
    LayerActivations,
    LayerMemory,
    LayerWeights,
    OperandBytes,
    RooflinePoint,
    Roofs,
    TilingAlternative,
    point_at,
)
from simulator.workloads.layer import OpKind, WeightSource

__all__ = [
    "COMPRESSION_LIMITERS",
    "EXTRA",
    "RESULT_SCHEMA",
    "TOLERANCE",
    "check_layer_figures",
    "derived_mismatch",
    "first_difference",
]

TOLERANCE = 1e-6
"""Relative tolerance of the relations between figures (they are sums of floats)."""

COMPRESSION_LIMITERS = (
    "dense", "runs dense", "none", "memory bound", "fill and drain", "imbalance",
    "fold quantisation",
)  # fmt: skip
"""What :func:`simulator.results.records.compression_limiter` may name."""
SAVING_SOURCES = ("sparsity", "values", "zero activations")


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


EXTRA = _Marker("<no such field>")
"""The expected value :func:`first_difference` gives for a key the file should not have."""

_SIGNED = Number(low=None)
_RATIO = Number(infinite=True)
_SHARE = Number(0.0, 1.0)
_DENSITY = Number(0.0, 1.0, above=True)

_ENERGY = Record(
    {
        "by_component": MapOf(Number(), COMPONENTS, complete=True),
        "by_action": MapOf(Number(), ACTION_KEYS, complete=True),
    },
    derived=frozenset({"total", "unit"}),
)
_ROOFLINE = record_of(
    RooflinePoint,
    intensity=_RATIO,
    sram_intensity=Number(above=True, infinite=True),  # the total divides by it
    dram_roof=_RATIO,
    sram_roof=_RATIO,
    roof_fraction=_RATIO,
    bound=Text(BOUND_NAMES),
)
_LAYER_DERIVED = ("limited_by", "dram_bytes", "dram_compulsory_bytes", "speedup",
                  "energy_ratio", "energy_pj")  # fmt: skip
_LAYER = Record(
    {
        "name": Text(),
        "kind": Text(tuple(kind.value for kind in OpKind)),
        "m": Integer(1),
        "n": Integer(1),
        "k": Integer(1),
        "groups": Integer(1),
        "macs": Integer(1),
        "macs_useful": Number(),
        "macs_issued": Number(),
        "cycles": record_of(Cycles, total=Integer(1)),
        "utilization": _SHARE,
        "mapping_efficiency": _SHARE,
        "row_folds": Integer(1),
        "col_folds": Integer(1),
        "stream_tiles": Integer(1),
        "fold_positions": Integer(1),
        "streamed": Integer(),
        "psum_block_bytes": Number(),
        "latency_s": Number(above=True),
        "macs_per_s": Number(),
        "memory": record_of(LayerMemory),
        "energy": _ENERGY,
        "roofline": _ROOFLINE,
        "weights": record_of(
            LayerWeights,
            source=Text(tuple(source.value for source in WeightSource)),
            mode=Text(EXEC_MODES),
            density=_DENSITY,
            activation_density=_DENSITY,
        ),
        "baseline": record_of(
            Baseline, derived=("energy_pj",), cycles=Integer(1), energy=Number(above=True)
        ),
        "limiter": Text(COMPRESSION_LIMITERS),
        "cycle_split": record_of(CycleSplit),
        "activations": record_of(
            LayerActivations,
            input_from=Text(("dram", "on_chip")),
            output_to=Text(("dram", "on_chip")),
            reason=Text(SPILL_REASONS),
        ),
        "footprint": record_of(OperandBytes),
        "energy_unit": Text(),
        "tiling_alternative": Nullable(
            record_of(
                TilingAlternative,
                stream_tiling=Text(tuple(t.value for t in StreamTiling)),
                stream_tiles=Integer(1),
            )
        ),
    },
    derived=frozenset(_LAYER_DERIVED),
)
_PRICE = Record({"value": Number(), "unit": Text()})

RESULT_SCHEMA = Record(
    {
        "format_version": Integer(),
        "config": Anything(),  # AcceleratorConfig.from_dict checks it
        "workload": Record(
            {"name": Text(), "source": Text(), "batch": Integer(1)},
            derived=frozenset({"layers"}),
        ),
        "energy_unit": Text(),
        "energy_table": Record(
            {
                "name": Text(),
                "unit": Text(),
                "overrides": Text(),
                "overridden": ListOf(Text()),
                "prices": MapOf(_PRICE, ACTION_KEYS, complete=True),
            }
        ),
        "area_mm2": Record(
            {"by_component": MapOf(Number(), AREA_COMPONENTS, complete=True)},
            derived=frozenset({"total"}),
        ),
        "roofs": record_of(Roofs, peak_macs_per_s=Number(above=True)),
        "stream_tile_limit": Integer(),
        "weights_from": Text(),
        "notes": ListOf(Text()),
        "savings": ListOf(
            record_of(
                EnergySaving,
                derived=("total",),
                source=Text(SAVING_SOURCES),
                dram=_SIGNED,
                sram=_SIGNED,
                compute=_SIGNED,
            )
        ),
        "input_notes": ListOf(Text()),
        "layers": ListOf(_LAYER, min_items=1),
    },
    optional=frozenset({"input_notes"}),
    derived=frozenset({"synthetic_weights", "total"}),
)
"""The fields of a result file (format 4) and what each may hold."""

# (field, formula, value, what it must equal) of one layer, given its PEs and clock.
_Figure = tuple[str, str, Any, Any]


def _layer_relations(layer: Mapping[str, Any], pes: int, clock_hz: float) -> Iterator[_Figure]:
    cycles, base, energy = layer["cycles"], layer["baseline"], layer["energy"]
    yield (
        "macs",
        "m x n x k x groups",
        layer["macs"],
        (layer["m"] * layer["n"] * layer["k"] * layer["groups"]),
    )
    yield (
        "cycles.total",
        "cycles.compute + cycles.stall",
        cycles["total"],
        (cycles["compute"] + cycles["stall"]),
    )
    yield (
        "baseline.cycles",
        "baseline.compute_cycles + baseline.stall_cycles",
        base["cycles"],
        (base["compute_cycles"] + base["stall_cycles"]),
    )
    yield (
        "utilization",
        "macs_useful / (cycles.total x PEs)",
        layer["utilization"],
        (layer["macs_useful"] / (cycles["total"] * pes)),
    )
    yield "latency_s", "cycles.total / clock", layer["latency_s"], cycles["total"] / clock_hz
    yield "macs_per_s", "roofline.attained", layer["macs_per_s"], layer["roofline"]["attained"]
    yield (
        "cycle_split",
        "the sum of its parts = cycles.total",
        sum(layer["cycle_split"].values()),
        cycles["total"],
    )
    for component in COMPONENTS:
        actions = [key for key in ACTION_KEYS if component_of(key) == component]
        yield (
            f"energy.by_component.{component}",
            f"the sum of energy.by_action {', '.join(actions)}",
            energy["by_component"][component],
            sum(energy["by_action"][key] for key in actions),
        )


def _layer_bounds(layer: Mapping[str, Any], pes: int) -> Iterator[_Figure]:
    """(field, bound, value, least allowed) of one layer."""
    yield "macs_issued", "macs_useful", layer["macs_issued"], layer["macs_useful"]
    yield (
        "cycles.total",
        "macs_useful / PEs (a PE does one MAC a cycle)",
        layer["cycles"]["total"],
        layer["macs_useful"] / pes,
    )
    yield "macs", "macs_useful", layer["macs"], layer["macs_useful"]


def _close(value: Any, expected: Any) -> bool:
    if isinstance(expected, str | bool) or expected is None:
        return value == expected and type(value) is type(expected)
    # Figures are sums of non-negative parts: zero only when every part is; latencies
    # are small numbers of seconds, so the absolute tolerance stays far below them.
    return math.isclose(value, expected, rel_tol=TOLERANCE, abs_tol=1e-15)


def _roofline_point(
    layer: Mapping[str, Any], pes: int, clock_hz: float, roofs: Mapping[str, float]
) -> dict[str, Any]:
    """The roofline point a layer's MACs, cycles and bytes give (the array-side SRAM bytes
    are the one figure the file does not hold otherwise: taken from ``sram_intensity``)."""
    dram = sum(
        part["dram_read_bytes"] + part["dram_write_bytes"] for part in layer["memory"].values()
    )
    macs = layer["macs_useful"]
    sram = macs / layer["roofline"]["sram_intensity"]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # absurd edits
        roof = roofline(
            macs, layer["cycles"]["total"], dram, sram, pes, clock_hz,
            roofs["dram_bytes_per_s"], roofs["sram_bytes_per_s"],
        )  # fmt: skip
    return asdict(point_at(roof, ()))


def check_layer_figures(data: Mapping[str, Any], config: AcceleratorConfig, where: str) -> None:
    """Refuse a result whose stored figures contradict each other (module docstring), or
    whose savings do not match its weights (one per step when compressed, none when dense).

    ``data`` is the result mapping as :data:`RESULT_SCHEMA` cleaned it; ``config`` the
    accelerator it was simulated on.
    """
    roofs, energy_unit = data["roofs"], data["energy_unit"]
    pes, clock_hz = config.pes, config.clock_hz
    if not _close(roofs["peak_macs_per_s"], pes * clock_hz):
        raise SchemaError(
            where, "roofs.peak_macs_per_s", roofs["peak_macs_per_s"],
            f"must equal PEs x clock = {pes * clock_hz:.10g}",
        )  # fmt: skip
    compressed = any(layer["weights"]["source"] != "dense" for layer in data["layers"])
    sources = [saving["source"] for saving in data["savings"]]
    if sources != (list(SAVING_SOURCES) if compressed else []):
        allowed = (
            f"must list the savings of {', '.join(SAVING_SOURCES)}, in that order (the layers' "
            "weights are compressed)"
            if compressed
            else "must be empty: every layer's weights are dense"
        )
        raise SchemaError(where, "savings", sources, allowed)
    for i, layer in enumerate(data["layers"]):
        at = child_path("layers", i)
        if layer["energy_unit"] != energy_unit:
            raise SchemaError(
                where, f"{at}.energy_unit", layer["energy_unit"],
                f"must be the result's energy_unit {energy_unit!r}",
            )  # fmt: skip
        for name, bound, value, least in _layer_bounds(layer, pes):
            if value < least * (1 - TOLERANCE):
                raise SchemaError(
                    where, f"{at}.{name}", value, f"must be at least {bound} = {least:.10g}"
                )
        for name, formula, value, expected in _layer_relations(layer, pes, clock_hz):
            if not _close(value, expected):
                raise SchemaError(
                    where, f"{at}.{name}", value, f"must equal {formula} = {expected:.10g}"
                )
        capacity = layer["activations"]["capacity_bytes"]
        if not _close(capacity, config.ifmap_sram_bytes):
            raise SchemaError(
                where, f"{at}.activations.capacity_bytes", capacity,
                f"must equal the config's ifmap_sram_bytes = {config.ifmap_sram_bytes}",
            )  # fmt: skip
        expected = _roofline_point(layer, pes, clock_hz, roofs)
        found = first_difference(expected, layer["roofline"], f"{at}.roofline")
        if found is not None:
            raise derived_mismatch(where, found)


def first_difference(
    expected: Any, stored: Any, path: str = "", skip: tuple[str, ...] = ()
) -> tuple[str, Any, Any] | None:
    """The first ``(path, stored value, expected value)`` where ``stored`` differs from
    ``expected`` (numbers within :data:`TOLERANCE`), None when they agree.

    A key ``expected`` has and ``stored`` lacks gives the stored value
    :data:`compress.schema.MISSING`; a
    key only ``stored`` has gives the expected value ``EXTRA``. ``skip``: top-level keys
    not compared.
    """
    if isinstance(expected, Mapping):
        if not isinstance(stored, Mapping):
            return path, stored, expected
        for key in expected:
            if key not in stored and key not in skip:
                return child_path(path, key), MISSING, expected[key]
        for key in stored:
            if key not in expected:
                return child_path(path, key), stored[key], EXTRA
        return _first(
            (expected[key], stored[key], child_path(path, key))
            for key in expected
            if key not in skip
        )
    if isinstance(expected, list):
        if not isinstance(stored, list) or len(stored) != len(expected):
            return path, stored, expected
        return _first(
            (e, s, child_path(path, i))
            for i, (e, s) in enumerate(zip(expected, stored, strict=True))
        )
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        numeric = isinstance(stored, int | float) and not isinstance(stored, bool)
        return None if numeric and _close(stored, expected) else (path, stored, expected)
    return None if _close(stored, expected) else (path, stored, expected)


def _first(pairs: Iterator[tuple[Any, Any, str]]) -> tuple[str, Any, Any] | None:
    for expected, stored, path in pairs:
        found = first_difference(expected, stored, path)
        if found is not None:
            return found
    return None


def derived_mismatch(where: str, found: tuple[str, Any, Any]) -> SchemaError:
    """The error for a :func:`first_difference` ``(path, stored, expected)``."""
    path, stored, expected = found
    if expected is EXTRA:
        return SchemaError(where, path, MISSING, "is not a field here")
    if stored is MISSING:
        return SchemaError(where, path, MISSING, "is missing (a figure derived from the layers)")
    shown = f"{expected:.10g}" if isinstance(expected, float) else preview(expected)
    source = "the layers add up to" if path.startswith("total") else "the rest of the file gives"
    return SchemaError(
        where, path, stored,
        f"must be {shown}, what {source} (a result file holds what `sparsa simulate` wrote)",
    )  # fmt: skip
