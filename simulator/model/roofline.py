"""Roofline with two memory levels: is a layer compute-, DRAM- or SRAM-bound?

Per config::

    peak      = rows * cols * clock                       MAC/s
    dram_bw   = dram_bytes_per_cycle * clock              bytes/s
    sram_bw   = sum of the array-side SRAM port widths / 8 * clock   bytes/s
                (see simulator.model.memory.sram_port_bits)

Per layer (``macs`` useful MACs)::

    intensity       = macs / DRAM bytes (reads + writes)        MAC/byte
    sram_intensity  = macs / array-side SRAM bytes              MAC/byte
    attained        = macs / (total cycles / clock)             MAC/s
    roofs           = peak, intensity * dram_bw, sram_intensity * sram_bw
    bound           = the lowest roof (ties go to compute, then DRAM)
    roof_fraction   = attained / the lowest roof                in (0, 1]

``attained`` never exceeds any roof: the timing model never does more than ``rows *
cols`` MACs a cycle, the stall model never moves DRAM bytes faster than the bandwidth,
and the SRAM ports are as wide as the array edges they feed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["BOUND_NAMES", "Roofline", "roofline"]

BOUND_NAMES: tuple[str, ...] = ("compute", "dram", "sram")
"""``bound`` codes index this tuple."""


class Roofline(NamedTuple):
    """Roofline figures, arrays broadcasting over configs (and layers)."""

    intensity: np.ndarray
    sram_intensity: np.ndarray
    attained_macs_per_s: np.ndarray
    peak_macs_per_s: np.ndarray
    dram_roof_macs_per_s: np.ndarray
    sram_roof_macs_per_s: np.ndarray
    bound: np.ndarray
    """``int8`` code into :data:`BOUND_NAMES`."""
    roof_macs_per_s: np.ndarray
    roof_fraction: np.ndarray


def roofline(
    macs, total_cycles, dram_bytes, sram_bytes, pes, clock_hz, dram_bytes_per_s, sram_bytes_per_s
) -> Roofline:
    """Roofline figures of layers (or whole workloads); formulas in the module docstring.

    Parameters
    ----------
    macs, total_cycles, dram_bytes, sram_bytes : array_like
        Useful MACs, cycles, DRAM bytes and array-side SRAM bytes.
    pes, clock_hz, dram_bytes_per_s, sram_bytes_per_s : array_like
        The config's PEs, clock (Hz) and bandwidths (bytes/s).
    """
    macs = np.asarray(macs, dtype=np.float64)
    intensity = _ratio(macs, dram_bytes)
    sram_intensity = _ratio(macs, sram_bytes)
    attained = macs * clock_hz / np.asarray(total_cycles, dtype=np.float64)
    peak = np.asarray(pes, dtype=np.float64) * clock_hz
    dram_roof = intensity * dram_bytes_per_s
    sram_roof = sram_intensity * sram_bytes_per_s
    roofs = np.stack(np.broadcast_arrays(peak, dram_roof, sram_roof))
    bound = np.argmin(roofs, axis=0).astype(np.int8)
    roof = np.min(roofs, axis=0)
    return Roofline(
        intensity=intensity,
        sram_intensity=sram_intensity,
        attained_macs_per_s=attained,
        peak_macs_per_s=np.broadcast_to(peak, roof.shape),
        dram_roof_macs_per_s=np.broadcast_to(dram_roof, roof.shape),
        sram_roof_macs_per_s=np.broadcast_to(sram_roof, roof.shape),
        bound=bound,
        roof_macs_per_s=roof,
        roof_fraction=_ratio(attained, roof),
    )


def _ratio(numerator, denominator) -> np.ndarray:
    """``numerator / denominator``; infinite over 0, and 0 for 0 / 0 (a layer whose
    weights are all pruned does no useful MAC)."""
    numerator, denominator = np.broadcast_arrays(
        np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    )
    out = np.where(numerator > 0, np.inf, 0.0)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)
