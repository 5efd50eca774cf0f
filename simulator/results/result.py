"""Simulation results: per layer and in total, serializable to JSON and CSV.

Units: cycles of the array clock; bytes; seconds (``latency_s``); MAC/s; energy in the
energy table's unit (``energy_unit``: pJ for the default ``horowitz45`` table, MAC16 for
``eyeriss``), stored under ``energy`` with its unit (and, for readers of format 3, also
under ``energy_pj`` when the unit is pJ, never otherwise); energy and area at the config's
``technology_nm``; area in mm^2. ``utilization`` is useful MACs
over ``total cycles x rows x cols``. Totals are derived from the layers (and recomputed
when a result is read back), so they always equal the sum of their parts.
"""

from __future__ import annotations

import csv
import functools
import json
import operator
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from compress.errors import InputError, load_json
from compress.schema import check
from simulator.config import AcceleratorConfig
from simulator.model.roofline import roofline
from simulator.results.checks import (
    RESULT_SCHEMA,
    check_layer_figures,
    derived_mismatch,
    first_difference,
)
from simulator.results.records import (
    OPERANDS,
    Baseline,
    Cycles,
    CycleSplit,
    EnergySaving,
    LayerActivations,
    LayerEnergy,
    LayerMemory,
    LayerWeights,
    OperandBytes,
    OperandMemory,
    RooflinePoint,
    Roofs,
    TilingAlternative,
    compression_limiter,
    point_at,
)
from simulator.results.tokens import TokenFigures

__all__ = [
    "OPERANDS",
    "RESULT_FORMAT_VERSION",
    "Baseline",
    "CycleSplit",
    "Cycles",
    "EnergySaving",
    "LayerActivations",
    "LayerEnergy",
    "LayerMemory",
    "LayerResult",
    "LayerWeights",
    "OperandBytes",
    "OperandMemory",
    "RooflinePoint",
    "Roofs",
    "SimResult",
    "TilingAlternative",
    "TokenFigures",
    "compression_limiter",
    "point_at",
]

RESULT_FORMAT_VERSION = 4


@dataclass(frozen=True)
class LayerResult:
    """One layer on one accelerator.

    ``stream_tiles``: stream tiles per fold position (1 untiled); ``psum_block_bytes``:
    the partial sums of one untiled output block (``T x min(cols, Sc)`` at accumulator
    width; 0 in os, whose partial sums stay in the PEs). ``macs`` counts every weight
    (the dense layer's work); ``macs_useful`` the kept weights', ``macs_issued`` what the
    PEs issue (nm's zero padding included); ``fold_positions`` and ``streamed`` are
    the layer's fold positions and streamed vectors (:mod:`simulator.model.timing`).
    ``energy`` is in ``energy_unit``; ``cycle_split`` says where the cycles go and
    ``limited_by`` names the largest share (``compute``, ``mapping loss``,
    ``fill/drain``, ``DRAM stall``); ``limiter`` is the compression limiter;
    ``activations`` where the input came from and the output went.
    """

    name: str
    kind: str
    m: int
    n: int
    k: int
    groups: int
    macs: int
    macs_useful: float
    macs_issued: float
    cycles: Cycles
    utilization: float
    mapping_efficiency: float
    row_folds: int
    col_folds: int
    stream_tiles: int
    fold_positions: int
    streamed: int
    psum_block_bytes: float
    latency_s: float
    macs_per_s: float
    memory: LayerMemory
    energy: LayerEnergy
    roofline: RooflinePoint
    weights: LayerWeights
    baseline: Baseline
    limiter: str
    """What keeps the layer from a speed-up of 1 / density (:func:`compression_limiter`)."""
    cycle_split: CycleSplit
    activations: LayerActivations
    footprint: OperandBytes
    """One copy of each operand in DRAM: the layer's compulsory traffic is the parts it
    reads from or writes to DRAM (:attr:`dram_excess_bytes`)."""
    energy_unit: str = "pJ"
    tiling_alternative: TilingAlternative | None = None

    @property
    def energy_pj(self) -> LayerEnergy:
        """Deprecated alias of :attr:`energy` (in :attr:`energy_unit`, which may not be pJ)."""
        return self.energy

    @property
    def limited_by(self) -> str:
        """What the layer's time is mostly spent on (:attr:`CycleSplit.limiter`)."""
        return self.cycle_split.limiter

    @property
    def dram_bytes(self) -> float:
        return self.memory.dram_bytes

    @property
    def dram_compulsory_bytes(self) -> float:
        """One copy of what the layer must move: its weights (or second operand), its input
        unless it was on chip, its output unless it stays, and residual reads from DRAM."""
        act, fp = self.activations, self.footprint
        return (
            fp.weight
            + (fp.input if act.input_from == "dram" else 0.0)
            + (fp.output if act.output_to == "dram" else 0.0)
            + act.residual_dram_bytes
        )

    @property
    def dram_excess_bytes(self) -> float:
        """DRAM bytes beyond :attr:`dram_compulsory_bytes`: refetches and spills."""
        return max(0.0, self.dram_bytes - self.dram_compulsory_bytes)

    @property
    def speedup(self) -> float:
        """Baseline cycles / cycles."""
        return self.baseline.cycles / self.cycles.total

    @property
    def energy_ratio(self) -> float:
        """Energy / baseline energy."""
        return self.energy.total / self.baseline.energy

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields. ``energy_pj`` (and the baseline's) repeat ``energy`` when
        the unit is pJ, for readers of result format 3; they are absent otherwise."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["cycles"] = asdict(self.cycles)
        out["memory"] = asdict(self.memory)
        out["energy"] = self.energy.to_dict(self.energy_unit)
        out["roofline"] = asdict(self.roofline)
        out["weights"] = asdict(self.weights)
        out["weights"]["notes"] = list(self.weights.notes)
        out["baseline"] = asdict(self.baseline)
        out["cycle_split"] = asdict(self.cycle_split)
        out["activations"] = asdict(self.activations)
        out["footprint"] = asdict(self.footprint)
        alternative = self.tiling_alternative
        out["tiling_alternative"] = None if alternative is None else asdict(alternative)
        out["limited_by"] = self.limited_by
        out["dram_bytes"] = self.dram_bytes
        out["dram_compulsory_bytes"] = self.dram_compulsory_bytes
        out["speedup"] = self.speedup
        out["energy_ratio"] = self.energy_ratio
        if self.energy_unit == "pJ":
            out["energy_pj"] = self.energy.to_dict()
            out["baseline"]["energy_pj"] = self.baseline.energy
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerResult:
        derived = ("dram_bytes", "speedup", "energy_ratio", "energy_pj", "limited_by",
                   "dram_compulsory_bytes")  # fmt: skip
        data = {key: value for key, value in data.items() if key not in derived}
        energy = {k: v for k, v in data["energy"].items() if k != "unit"}
        baseline = {k: v for k, v in data["baseline"].items() if k != "energy_pj"}
        return cls(
            **{
                **data,
                "weights": LayerWeights(**data["weights"]),
                "baseline": Baseline(**baseline),
                "cycles": Cycles(**data["cycles"]),
                "memory": LayerMemory.from_dict(data["memory"]),
                "energy": LayerEnergy.from_dict(energy),
                "cycle_split": CycleSplit(**data["cycle_split"]),
                "activations": LayerActivations(**data["activations"]),
                "footprint": OperandBytes(**data["footprint"]),
                "roofline": RooflinePoint(**data["roofline"]),
                "tiling_alternative": (
                    None
                    if data.get("tiling_alternative") is None
                    else TilingAlternative(**data["tiling_alternative"])
                ),
            }
        )


@dataclass(frozen=True)
class SimResult:
    """A workload on an accelerator: per-layer results, the chip's area and roofs."""

    config: AcceleratorConfig
    workload_name: str
    workload_source: str
    batch: int
    layers: tuple[LayerResult, ...]
    energy_unit: str
    energy_table: Mapping[str, Any]
    """Name, unit, overridden entries and the price of every action (per layer shape)."""
    area_mm2: Mapping[str, float]
    """Per component."""
    roofs: Roofs
    stream_tile_limit: int = 0
    """The config's stream tile ``Ts`` (0: untiled)."""
    weights_from: str = ""
    """Where bound weights came from (empty when none are bound)."""
    notes: tuple[str, ...] = ()
    """Remarks on the workload's weights (layers that bound none, ...)."""
    savings: tuple[EnergySaving, ...] = ()
    """Energy saved against the dense baseline, by source (empty when dense)."""
    input_notes: tuple[str, ...] = ()
    """What the inputs did not say or sparsa does not model (a SCALE-Sim cfg's keys that
    are not modelled, the clock a cfg lacks), one sentence each, for the report."""

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def macs_useful(self) -> float:
        return sum(layer.macs_useful for layer in self.layers)

    @property
    def compressed(self) -> bool:
        """Some layer's weights are compressed or declared sparse."""
        return any(layer.weights.source != "dense" for layer in self.layers)

    @property
    def synthetic_weights(self) -> bool:
        return any(layer.weights.source == "recipe" for layer in self.layers)

    def _sum(self, name: str):
        """Attribute ``name`` of every layer, added up (the records define ``+``)."""
        return functools.reduce(operator.add, (getattr(layer, name) for layer in self.layers))

    @property
    def baseline(self) -> Baseline:
        return self._sum("baseline")

    @property
    def speedup(self) -> float:
        return self.baseline.cycles / self.cycles.total

    @property
    def energy_ratio(self) -> float:
        return self.energy.total / self.baseline.energy

    @property
    def cycle_split(self) -> CycleSplit:
        """Where all the cycles go (:class:`CycleSplit`, summed over layers)."""
        return self._sum("cycle_split")

    @property
    def limited_by(self) -> str:
        """The largest share of all the cycles (:attr:`CycleSplit.limiter`)."""
        return self.cycle_split.limiter

    @property
    def compulsory_dram_bytes(self) -> float:
        """The least a workload moves: every layer's weights (and attention K, V) once, the
        first layer's input and the last layer's output."""
        weights = sum(layer.footprint.weight for layer in self.layers)
        return weights + self.layers[0].footprint.input + self.layers[-1].footprint.output

    @property
    def cycles(self) -> Cycles:
        return self._sum("cycles")

    @property
    def utilization(self) -> float:
        """Useful MACs (of the kept weights) / (cycles x PEs)."""
        return self.macs_useful / (self.cycles.total * self.config.pes)

    @property
    def latency_s(self) -> float:
        return self.cycles.total / self.config.clock_hz

    @property
    def inferences_per_s(self) -> float:
        return self.batch / self.latency_s

    @property
    def macs_per_s(self) -> float:
        return self.macs / self.latency_s

    @property
    def tokens(self) -> TokenFigures | None:
        """Tokens/s, time to first token and the weight vs KV-cache traffic, or None
        when the workload has no attention (see :class:`TokenFigures`)."""
        return TokenFigures.of(self.layers, self.batch, self.latency_s)

    @property
    def memory(self) -> LayerMemory:
        return self._sum("memory")

    @property
    def energy(self) -> LayerEnergy:
        return self._sum("energy")

    @property
    def area_total_mm2(self) -> float:
        return sum(self.area_mm2.values())

    @property
    def roofline(self) -> RooflinePoint:
        """The whole workload as one roofline point."""
        array_sram = sum(layer.macs_useful / layer.roofline.sram_intensity for layer in self.layers)
        roof = roofline(
            self.macs_useful,
            self.cycles.total,
            self.memory.dram_bytes,
            array_sram,
            self.config.pes,
            self.config.clock_hz,
            self.roofs.dram_bytes_per_s,
            self.roofs.sram_bytes_per_s,
        )
        return point_at(roof, ())

    def layer(self, name: str) -> LayerResult:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer named {name!r} in {self.workload_name}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the total's ``energy_pj`` and ``baseline.energy_pj`` repeat
        ``energy`` only when the unit is pJ (see :meth:`LayerResult.to_dict`)."""
        out = self._to_dict()
        if self.energy_unit == "pJ":
            total = out["total"]
            total["energy_pj"] = self.energy.to_dict()
            total["baseline"]["energy_pj"] = self.baseline.energy
        return out

    def _to_dict(self) -> dict[str, Any]:
        energy = self.energy
        return {
            "format_version": RESULT_FORMAT_VERSION,
            "config": self.config.to_dict(),
            "workload": {
                "name": self.workload_name,
                "source": self.workload_source,
                "batch": self.batch,
                "layers": len(self.layers),
            },
            "energy_unit": self.energy_unit,
            "energy_table": dict(self.energy_table),
            "area_mm2": {"total": self.area_total_mm2, "by_component": dict(self.area_mm2)},
            "roofs": asdict(self.roofs),
            "stream_tile_limit": self.stream_tile_limit,
            "weights_from": self.weights_from,
            "synthetic_weights": self.synthetic_weights,
            "notes": list(self.notes),
            "savings": [asdict(saving) | {"total": saving.total} for saving in self.savings],
            "input_notes": list(self.input_notes),
            "layers": [layer.to_dict() for layer in self.layers],
            "total": {
                "macs": self.macs,
                "macs_useful": self.macs_useful,
                "cycles": asdict(self.cycles),
                "utilization": self.utilization,
                "latency_s": self.latency_s,
                "inferences_per_s": self.inferences_per_s,
                "macs_per_s": self.macs_per_s,
                "memory": asdict(self.memory),
                "dram_bytes": self.memory.dram_bytes,
                "dram_compulsory_bytes": self.compulsory_dram_bytes,
                "sram_bytes": self.memory.sram_bytes,
                "energy": energy.to_dict(self.energy_unit),
                "area_mm2": self.area_total_mm2,
                "technology_nm": self.config.technology_nm,
                "cycle_split": asdict(self.cycle_split),
                "limited_by": self.limited_by,
                "roofline": asdict(self.roofline),
                "baseline": asdict(self.baseline),
                "speedup": self.speedup,
                "energy_ratio": self.energy_ratio,
                "tokens": None if self.tokens is None else asdict(self.tokens),
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "") -> SimResult:
        """Rebuild a result from :meth:`to_dict`'s mapping, checked first: its fields
        (:data:`simulator.results.checks.RESULT_SCHEMA`), each layer's figures against each
        other, and the derived figures (``total``, ``speedup``, ...) against its layers. An
        :class:`InputError` names ``source`` ("result file out/result.json"), the field
        (``layers[3].cycles.total``), its value and what is allowed.
        """
        where = source or "result"
        version = data.get("format_version") if isinstance(data, Mapping) else None
        if version != RESULT_FORMAT_VERSION:
            raise InputError(
                f"{where}: result format_version {version!r} is not supported; this sparsa "
                f"reads version {RESULT_FORMAT_VERSION} (write it again with `sparsa simulate`)"
            )
        clean = check(RESULT_SCHEMA, data, where)
        config = AcceleratorConfig.from_dict(clean["config"], f"{where}: config")
        check_layer_figures(clean, config, where)
        result = cls._from_clean(clean, config)
        skip = ("config",) if "input_notes" in clean else ("config", "input_notes")
        found = first_difference(result.to_dict(), clean, skip=skip)
        if found is not None:
            raise derived_mismatch(where, found)
        return result

    @classmethod
    def _from_clean(cls, data: Mapping[str, Any], config: AcceleratorConfig) -> SimResult:
        workload = data["workload"]
        return cls(
            config=config,
            workload_name=workload["name"],
            workload_source=workload["source"],
            batch=workload["batch"],
            layers=tuple(LayerResult.from_dict(layer) for layer in data["layers"]),
            energy_unit=data["energy_unit"],
            energy_table=data["energy_table"],
            area_mm2=dict(data["area_mm2"]["by_component"]),
            roofs=Roofs(**data["roofs"]),
            stream_tile_limit=data["stream_tile_limit"],
            weights_from=data["weights_from"],
            notes=tuple(data["notes"]),
            savings=tuple(
                EnergySaving(**{k: v for k, v in saving.items() if k != "total"})
                for saving in data["savings"]
            ),
            input_notes=tuple(data.get("input_notes", ())),
        )

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def read_json(cls, path: str | Path) -> SimResult:
        """Read a ``result.json`` written by :meth:`write_json`, checked (:meth:`from_dict`)."""
        data = load_json(path, "result file")
        return cls.from_dict(data, f"result file {path}")

    def csv_rows(self) -> list[dict[str, Any]]:
        """One flat dict per layer: nested records become ``cycles_compute``,
        ``memory_input_dram_read_bytes``, ``energy_by_component_dram`` etc."""
        return [_flatten(layer.to_dict()) for layer in self.layers]

    def write_csv(self, path: str | Path) -> None:
        rows = self.csv_rows()
        with Path(path).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}_"))
        else:
            flat[name] = value
    return flat
