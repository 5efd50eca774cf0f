"""Evaluate one workload on thousands of accelerator configs in one call.

:func:`evaluate_configs` runs :func:`simulator.model.evaluate.evaluate` (every model, broadcast
over configs x layers) in chunks of configs to bound memory, and keeps per-config and
per-(config, layer) arrays. Its numbers are exactly :func:`simulator.results.simulate`'s: the
same model arrays, and totals summed in the same order (layer after layer, component
after component), so ``evaluate_configs(w, [c])`` and ``simulate(w, c)`` agree to the
last bit.

Any :class:`~simulator.config.AcceleratorConfig` field may vary between configs
(array shape, dataflow, fold schedule, bit widths, SRAM sizes, double buffering, DRAM
bandwidth, clock, energy table and overrides).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from simulator.config import AcceleratorConfig
from simulator.model.energy import energy_by_component
from simulator.model.evaluate import LIMITERS, Evaluation, cycle_split, evaluate
from simulator.model.roofline import BOUND_NAMES
from simulator.workloads.layer import Workload

__all__ = ["BOUND_NAMES", "LIMITERS", "BatchResult", "evaluate_configs"]

_PER_CONFIG = (
    "cycles_total",
    "cycles_compute",
    "cycles_stall",
    "latency_s",
    "energy",
    "area_mm2",
    "utilization",
    "macs",
    "dram_bytes",
    "sram_bytes",
    "edp",
)


@dataclass(frozen=True)
class BatchResult:
    """A workload on ``C`` configs: numpy arrays, configs along axis 0, layers along axis 1.

    Per config, shape ``(C,)``: ``cycles_total``, ``cycles_compute``, ``cycles_stall``
    (int64 cycles), ``latency_s``, ``energy`` (total, in ``energy_unit``: pJ, or MAC16
    for the normalized eyeriss table), ``energy_by_component`` (name -> ``(C,)``),
    ``area_mm2``, ``area_mm2_by_component``, ``utilization``, ``macs`` (int64),
    ``dram_bytes`` and ``sram_bytes`` (all reads and writes), ``edp`` (energy x latency,
    unit x s) and ``energy_unit`` (str, from each config's table). Energy and area are at
    each config's ``technology_nm``.

    Per config and layer, shape ``(C, L)``: ``layer_cycles_total``, ``layer_energy``,
    ``layer_bound`` (int8 codes into ``bound_names``: the lowest roof: compute, dram,
    sram) and ``layer_limiter`` (int8 codes into ``limiter_names``: what most of the
    layer's cycles are spent on, :class:`simulator.model.evaluate.CycleSplitArrays`).

    ``energy_pj``, ``energy_pj_by_component`` and ``layer_energy_pj`` are deprecated
    aliases of the ``energy`` fields, kept for existing callers (the sweep table); they
    hold the same numbers, in ``energy_unit``.
    """

    layer_names: tuple[str, ...]
    cycles_total: np.ndarray
    cycles_compute: np.ndarray
    cycles_stall: np.ndarray
    latency_s: np.ndarray
    energy: np.ndarray
    energy_by_component: Mapping[str, np.ndarray]
    area_mm2: np.ndarray
    area_mm2_by_component: Mapping[str, np.ndarray]
    utilization: np.ndarray
    macs: np.ndarray
    dram_bytes: np.ndarray
    sram_bytes: np.ndarray
    edp: np.ndarray
    energy_unit: np.ndarray
    layer_cycles_total: np.ndarray
    layer_energy: np.ndarray
    layer_bound: np.ndarray
    layer_limiter: np.ndarray
    bound_names: tuple[str, ...] = BOUND_NAMES
    limiter_names: tuple[str, ...] = LIMITERS

    def __len__(self) -> int:
        return len(self.cycles_total)

    @property
    def energy_pj(self) -> np.ndarray:
        """Deprecated alias of :attr:`energy` (in ``energy_unit``, not always pJ)."""
        return self.energy

    @property
    def energy_pj_by_component(self) -> Mapping[str, np.ndarray]:
        """Deprecated alias of :attr:`energy_by_component`."""
        return self.energy_by_component

    @property
    def layer_energy_pj(self) -> np.ndarray:
        """Deprecated alias of :attr:`layer_energy`."""
        return self.layer_energy


def _sequential_sum(values: np.ndarray) -> np.ndarray:
    """Sum over the last axis left to right, as Python's ``sum`` does (not pairwise).

    A copy, not a view: the view of the last cumulative sum would keep the whole
    ``(C, L)`` cumsum (and with it every chunk) alive in the merged result.
    """
    return np.cumsum(values, axis=-1)[..., -1].copy()


def _reduce(ev: Evaluation) -> dict[str, object]:
    """Per-config totals summed in :class:`simulator.results.result.SimResult`'s order."""
    by_component = energy_by_component(ev.energy_by_action)
    layer_energy = sum(by_component.values())
    totals = {name: _sequential_sum(value) for name, value in by_component.items()}
    energy = sum(totals.values())
    macs = _sequential_sum(np.broadcast_to(ev.layers.macs, ev.total_cycles.shape))
    useful = _sequential_sum(np.broadcast_to(ev.useful_macs, ev.total_cycles.shape))
    cycles_total = _sequential_sum(ev.total_cycles)
    latency = cycles_total / ev.hw.clock_hz[:, 0]

    def traffic_bytes(kind: str) -> np.ndarray:
        per_operand = [
            _sequential_sum(getattr(t, f"{kind}_read_bits") / 8)
            + _sequential_sum(getattr(t, f"{kind}_write_bits") / 8)
            for t in ev.traffic.operands.values()
        ]
        return sum(per_operand)

    area = {name: value[:, 0] for name, value in ev.area_mm2.items()}
    return {
        "cycles_total": cycles_total,
        "cycles_compute": _sequential_sum(ev.timing.compute_cycles),
        "cycles_stall": _sequential_sum(ev.stall_cycles),
        "latency_s": latency,
        "energy": energy,
        "energy_by_component": totals,
        "area_mm2": sum(area.values()),
        "area_mm2_by_component": area,
        "utilization": useful / (cycles_total * ev.hw.pes[:, 0]),
        "macs": macs,
        "dram_bytes": traffic_bytes("dram"),
        "sram_bytes": traffic_bytes("sram"),
        "edp": energy * latency,
        "energy_unit": np.array(ev.energy_units),
        "layer_cycles_total": ev.total_cycles,
        "layer_energy": np.asarray(layer_energy),
        "layer_bound": ev.roofline.bound,
        "layer_limiter": cycle_split(ev).limiter,
    }


def evaluate_configs(
    workload: Workload, configs: Sequence[AcceleratorConfig], chunk: int = 2048
) -> BatchResult:
    """Evaluate ``workload`` on every config in ``configs``.

    Parameters
    ----------
    workload : Workload
        ``L`` layers.
    configs : sequence of AcceleratorConfig
        ``C`` configs, any mix of field values: a list, or a
        :class:`simulator.model.variants.ConfigVariants` (a sweep's chunk: a base config
        and the fields that vary), whose columns are gathered without a config per point.
    chunk : int
        Configs evaluated per broadcast: the model's temporaries take about
        ``chunk x L x 600`` bytes, freed before the next chunk; the result itself takes
        ``C x (L x 18 + 250)`` bytes or so. The result does not depend on ``chunk``.

    Returns
    -------
    BatchResult
    """
    if chunk < 1:
        raise ValueError(f"chunk must be a positive number of configs, not {chunk!r}")
    n = len(configs)
    if not n:
        raise ValueError("evaluate at least one accelerator config")
    merged: dict[str, object] = {}
    units = []
    for start in range(0, n, chunk):
        part = _reduce(evaluate(workload, configs[start : start + chunk]))
        units.append(part.pop("energy_unit"))
        rows = slice(start, start + len(part["cycles_total"]))
        for key, value in part.items():
            if isinstance(value, dict):
                target = merged.setdefault(key, {})
                for name, array in value.items():
                    _fill(target, name, array, rows, n)
            else:
                _fill(merged, key, value, rows, n)
    # Unit names differ in length (pJ, MAC16): concatenating gives the widest dtype.
    merged["energy_unit"] = np.concatenate(units)
    return BatchResult(layer_names=tuple(layer.name for layer in workload.layers), **merged)


def _fill(into: dict, key: str, part: np.ndarray, rows: slice, n: int) -> None:
    """Write one chunk's ``part`` into rows ``rows`` of ``into[key]``, allocated for ``n``
    configs on the first chunk: the result is built in place, never as a list of chunks
    and their concatenation."""
    target = into.get(key)
    if target is None:
        target = into[key] = np.empty((n, *part.shape[1:]), dtype=part.dtype)
    elif target.dtype != part.dtype:  # as concatenation would: the wider dtype
        target = into[key] = target.astype(np.result_type(target, part))
    if target.shape[1:] != part.shape[1:]:
        raise ValueError(f"{key}: a chunk of shape {part.shape} in a result of {target.shape}")
    target[rows] = part
