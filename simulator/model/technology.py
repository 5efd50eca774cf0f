"""Technology nodes: energy and area scaled from the 45 nm tables, leakage, DRAM interface area.

The figures and their sources are in ``simulator/data/technology.yaml``. Scaling follows
Stillmaker and Baas, Integration 2017: at node ``n`` and supply ``V`` the energy of an
operation is proportional to ``EnergyFactor_n(V) = a_n V^2 + b_n V + c_n`` (their Table 5)
and its area to ``area_n`` (relative to 45 nm), so a 45 nm figure becomes::

    E_n = E_45 * EnergyFactor_n(V) / EnergyFactor_45(V)        (V = the table's 0.9 V)
    A_n = A_45 * area_n / area_45

Between tabulated nodes both factors are interpolated piecewise linearly in
``log(node)``-``log(factor)``; the config refuses nodes outside 7-180 nm. What scales and
what does not (DRAM, I/O, normalized tables) is stated in the data file. Everything here
is vectorized: ``node_nm`` may be any array (a ``(C, 1)`` config column).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compress.errors import load_yaml
from compress.schema import preview
from simulator.model.cost_table import TableError

__all__ = ["Figure", "Technology", "load_technology"]

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "technology.yaml"


@dataclass(frozen=True)
class Figure:
    """One cited constant."""

    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class Technology:
    """The node table and the per-node constants (see the module docstring)."""

    reference_node_nm: float
    supply_v: Figure
    node_nm: np.ndarray
    """Tabulated nodes, ascending (float64)."""
    area: np.ndarray
    """Area relative to the reference node, per tabulated node."""
    energy_coefficients: np.ndarray
    """``(nodes, 3)``: ``a, b, c`` of each node's energy factor."""
    leakage: Figure
    """Leakage power density in mW/mm^2."""
    dram_area: Figure
    """DRAM interface area in mm^2 per GB/s."""
    placement_utilization: Figure
    source: str

    def _interpolate(self, values: np.ndarray, node_nm: Any) -> np.ndarray:
        x = np.log(np.asarray(node_nm, dtype=np.float64))
        return np.exp(np.interp(x, np.log(self.node_nm), np.log(values)))

    @functools.cached_property
    def _energy_at_supply(self) -> np.ndarray:
        a, b, c = self.energy_coefficients.T
        v = self.supply_v.value
        return a * v * v + b * v + c

    def energy_factor(self, node_nm: Any) -> np.ndarray:
        """Energy at ``node_nm`` over energy at the reference node, both at ``supply_v``."""
        reference = self._interpolate(self._energy_at_supply, self.reference_node_nm)
        return self._interpolate(self._energy_at_supply, node_nm) / reference

    def area_factor(self, node_nm: Any) -> np.ndarray:
        """Area at ``node_nm`` over area at the reference node."""
        return self._interpolate(self.area, node_nm) / self._interpolate(
            self.area, self.reference_node_nm
        )

    def leakage_pj_per_cycle_mm2(self, clock_hz: Any) -> np.ndarray:
        """Leakage energy per cycle and mm^2 at ``clock_hz``: ``mW/mm^2 / GHz`` = pJ."""
        return self.leakage.value / (np.asarray(clock_hz, dtype=np.float64) * 1e-9)


_KEYS = (
    "name", "reference_node_nm", "description", "supply_v", "nodes", "nodes_unit",
    "nodes_source", "scaled", "leakage", "dram_interface", "placement_utilization",
)  # fmt: skip


def _fail(where: str, message: str) -> TableError:
    return TableError(f"{where}: {message}")


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _figure(file: str, raw: Any, where: str, unit: str, positive: bool = False) -> Figure:
    if not isinstance(raw, Mapping) or set(raw) != {"value", "unit", "source"}:
        raise _fail(file, f"{where} must have exactly value, unit and source, not {preview(raw)}")
    value = raw["value"]
    if not _real(value) or value < 0 or (positive and value == 0):
        raise _fail(
            file, f"{where} value {value!r} must be a {'positive' if positive else '>= 0'} number"
        )
    if raw["unit"] != unit:
        raise _fail(file, f"{where} unit must be {unit!r}, not {raw['unit']!r}")
    if not str(raw["source"]).strip():
        raise _fail(file, f"{where} needs a source")
    return Figure(float(value), unit, str(raw["source"]).strip())


def _nodes(file: str, raw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(raw, Mapping) or len(raw) < 2:
        raise _fail(file, "nodes must map at least two nodes (nm) to {area, energy}")
    rows = []
    for node, body in raw.items():
        where = f"nodes.{node}"
        if not _real(node) or node <= 0:
            raise _fail(file, f"{where}: a node must be a positive number of nm, not {node!r}")
        if not isinstance(body, Mapping) or set(body) != {"area", "energy"}:
            raise _fail(file, f"{where} must have exactly area and energy")
        coefficients = body["energy"]
        if not (isinstance(coefficients, list) and len(coefficients) == 3):
            raise _fail(file, f"{where}.energy must be [a, b, c], not {preview(coefficients)}")
        if not all(_real(x) for x in coefficients):
            raise _fail(file, f"{where}.energy {coefficients!r} must hold three finite numbers")
        if not (_real(body["area"]) and body["area"] > 0):
            raise _fail(file, f"{where}.area must be a positive number, not {body['area']!r}")
        rows.append((float(node), float(body["area"]), [float(x) for x in coefficients]))
    rows.sort()
    nodes = np.array([r[0] for r in rows])
    return nodes, np.array([r[1] for r in rows]), np.array([r[2] for r in rows])


def _checked(file: str, data: Mapping[str, Any]) -> None:
    unknown = [key for key in data if key not in _KEYS]
    if unknown:
        raise _fail(file, f"unknown key {unknown[0]!r}; allowed: {', '.join(_KEYS)}")
    for key in ("nodes_unit", "nodes_source", "reference_node_nm"):
        if key not in data:
            raise _fail(file, f"missing {key!r}")
    reference = data["reference_node_nm"]
    if not _real(reference) or reference <= 0:
        raise _fail(file, f"reference_node_nm must be a positive number, not {reference!r}")
    if not isinstance(data.get("dram_interface") or {}, Mapping):
        raise _fail(file, "dram_interface must be a mapping with area")


@functools.cache
def load_technology(path: str | Path = DATA_FILE) -> Technology:
    """The node table of ``simulator/data/technology.yaml``, validated."""
    file = f"technology table {path}"
    data = load_yaml(path, "technology table")
    _checked(file, data)
    nodes, area, coefficients = _nodes(file, data.get("nodes"))
    reference = float(data["reference_node_nm"])
    if not nodes[0] <= reference <= nodes[-1]:
        raise _fail(file, f"reference_node_nm {reference:g} is outside the nodes given")
    interface = data.get("dram_interface") or {}
    technology = Technology(
        reference_node_nm=reference,
        supply_v=_figure(file, data.get("supply_v"), "supply_v", "V", positive=True),
        node_nm=nodes,
        area=area,
        energy_coefficients=coefficients,
        leakage=_figure(file, data.get("leakage"), "leakage", "mW/mm^2"),
        dram_area=_figure(file, interface.get("area"), "dram_interface.area", "mm^2/(GB/s)"),
        placement_utilization=_figure(
            file, data.get("placement_utilization"), "placement_utilization", "1", positive=True
        ),
        source=str(data["nodes_source"]).strip(),
    )
    if np.any(technology._energy_at_supply <= 0):
        raise _fail(file, "every node's energy factor must be positive at the supply voltage")
    return technology
