"""Human-readable quantities for reports and plots: SI prefixes, binary sizes, energies,
and markdown tables of them."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "energy_node",
    "energy_scale",
    "format_bytes",
    "format_energy",
    "format_si",
    "markdown_table",
    "plot_energy_scale",
]

_ENERGY_PREFIXES = ((1e12, "J"), (1e9, "mJ"), (1e6, "uJ"), (1e3, "nJ"), (1.0, "pJ"))


def format_si(value: float, unit: str) -> str:
    """``4.2e10, "MAC/s"`` -> ``"42 GMAC/s"`` (three significant digits)."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def format_bytes(value: float) -> str:
    """Bytes with a binary prefix: ``"1.5 MiB"``."""
    for scale, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if value >= scale:
            return f"{value / scale:.3g} {name}"
    return f"{value:.0f} B"


def energy_scale(value: float, unit: str) -> tuple[float, str]:
    """The divisor and name that show ``value`` (in ``unit``) with a readable prefix.

    Only picojoules get prefixes (pJ, nJ, uJ, mJ, J); other units (the normalized
    ``MAC16``) are shown as they are.
    """
    if unit != "pJ":
        return 1.0, unit
    for scale, name in _ENERGY_PREFIXES:
        if abs(value) >= scale:
            return scale, name
    return 1.0, "pJ"


def format_energy(value: float, unit: str) -> str:
    """``4.2e9, "pJ"`` -> ``"4.2 mJ"``; ``123.0, "MAC16"`` -> ``"123 MAC16"``."""
    scale, name = energy_scale(value, unit)
    return f"{value / scale:,.4g} {name}"


def markdown_table(header: Iterable[str], rows: Iterable[Iterable[str]], align: str) -> list[str]:
    """A markdown table's lines; ``align`` has an ``l`` or ``r`` per column."""
    header = list(header)
    marks = {"l": "---", "r": "---:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def energy_node(result) -> str:
    """``"at 28 nm"`` for scaled energies; ``"(normalized, not scaled to a node)"`` for a
    table whose unit is not pJ (MAC16 ratios are not scaled)."""
    if result.energy_unit != "pJ":
        return "(normalized, not scaled to a node)"
    return f"at {result.config.technology_nm:g} nm"


def plot_energy_scale(value: float, unit: str) -> tuple[float, str]:
    """The divisor and axis unit that show energies up to ``value`` with at most four
    digits: a prefixed joule for pJ (``uJ``, ``mJ``), a power of ten for other units
    (``10^6 MAC16``), so a figure never needs an offset such as ``1e9`` on its ticks."""
    if unit == "pJ":
        return energy_scale(value, unit)
    exponent = 0
    while abs(value) >= 1e4 * 10**exponent:
        exponent += 3
    return float(10**exponent), unit if exponent == 0 else f"10^{exponent} {unit}"
