"""Simulation results: per layer and in total, serializable to JSON and CSV.

All cycle figures are in cycles of the array clock. ``utilization`` is useful MACs over
``total cycles x rows x cols``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simulator.config import AcceleratorConfig

__all__ = ["Cycles", "LayerResult", "SimResult"]

RESULT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Cycles:
    """Where a layer's time goes.

    ``compute``: cycles the array is busy (folds, preload, fill and drain);
    ``stall``: cycles waiting on memory; ``total = compute + stall``;
    ``scalesim_total``: SCALE-Sim's "Total Cycles" for the same layer and array
    (its sequential compute count minus one per GEMM), for side-by-side comparison.
    """

    compute: int
    stall: int
    total: int
    scalesim_total: int

    def __add__(self, other: Cycles) -> Cycles:
        return Cycles(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def astuple(cycles: Cycles) -> tuple[int, int, int, int]:
    return (cycles.compute, cycles.stall, cycles.total, cycles.scalesim_total)


@dataclass(frozen=True)
class LayerResult:
    """One layer on one accelerator."""

    name: str
    kind: str
    m: int
    n: int
    k: int
    groups: int
    macs: int
    cycles: Cycles
    utilization: float
    mapping_efficiency: float
    row_folds: int
    col_folds: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerResult:
        return cls(**{**data, "cycles": Cycles(**data["cycles"])})


@dataclass(frozen=True)
class SimResult:
    """A workload on an accelerator: per-layer results and their totals."""

    config: AcceleratorConfig
    workload_name: str
    workload_source: str
    batch: int
    layers: tuple[LayerResult, ...]

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def cycles(self) -> Cycles:
        total = Cycles(0, 0, 0, 0)
        for layer in self.layers:
            total = total + layer.cycles
        return total

    @property
    def utilization(self) -> float:
        return self.macs / (self.cycles.total * self.config.pes)

    @property
    def latency_s(self) -> float:
        return self.cycles.total / self.config.clock_hz

    def layer(self, name: str) -> LayerResult:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer named {name!r} in {self.workload_name}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": RESULT_FORMAT_VERSION,
            "config": self.config.to_dict(),
            "workload": {
                "name": self.workload_name,
                "source": self.workload_source,
                "batch": self.batch,
                "layers": len(self.layers),
            },
            "layers": [layer.to_dict() for layer in self.layers],
            "total": {
                "macs": self.macs,
                "cycles": asdict(self.cycles),
                "utilization": self.utilization,
                "latency_s": self.latency_s,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimResult:
        version = data.get("format_version")
        if version != RESULT_FORMAT_VERSION:
            raise ValueError(
                f"result format_version {version!r} is not supported; "
                f"this sparsa reads version {RESULT_FORMAT_VERSION}"
            )
        workload = data["workload"]
        return cls(
            config=AcceleratorConfig.from_dict(data["config"]),
            workload_name=workload["name"],
            workload_source=workload["source"],
            batch=workload["batch"],
            layers=tuple(LayerResult.from_dict(layer) for layer in data["layers"]),
        )

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def read_json(cls, path: str | Path) -> SimResult:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def csv_rows(self) -> list[dict[str, Any]]:
        """One flat dict per layer: nested records become ``cycles_compute`` etc."""
        rows = []
        for layer in self.layers:
            flat: dict[str, Any] = {}
            for key, value in layer.to_dict().items():
                if isinstance(value, dict):
                    flat.update({f"{key}_{sub}": v for sub, v in value.items()})
                else:
                    flat[key] = value
            rows.append(flat)
        return rows

    def write_csv(self, path: str | Path) -> None:
        rows = self.csv_rows()
        with Path(path).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
