"""Plain-text tables of results, for the terminal."""

from __future__ import annotations

from simulator.reports.units import energy_node, format_bytes, format_energy, format_si
from simulator.results.result import SimResult

__all__ = ["layer_table", "summary_lines"]


def _fmt_int(value: int) -> str:
    return f"{value:,}"


def layer_table(result: SimResult, max_name: int = 28) -> str:
    """A fixed-width per-layer table with a total row."""
    header = ("layer", "kind", "M", "N", "K", "G", "MACs", "cycles", "stall", "scalesim", "util",
              "energy", "limited by")  # fmt: skip
    unit = result.energy_unit
    rows = []
    for layer in result.layers:
        name = layer.name if len(layer.name) <= max_name else layer.name[: max_name - 1] + "~"
        rows.append(
            (
                name,
                layer.kind,
                _fmt_int(layer.m),
                _fmt_int(layer.n),
                _fmt_int(layer.k),
                str(layer.groups),
                _fmt_int(layer.macs),
                _fmt_int(layer.cycles.total),
                _fmt_int(layer.cycles.stall),
                _fmt_int(layer.cycles.scalesim_total),
                f"{layer.utilization:6.1%}",
                format_energy(layer.energy.total, unit),
                layer.limited_by,
            )
        )
    cycles = result.cycles
    total = ("total", "", "", "", "", "", _fmt_int(result.macs), _fmt_int(cycles.total))
    total += (_fmt_int(cycles.stall), _fmt_int(cycles.scalesim_total))
    total += (f"{result.utilization:6.1%}", format_energy(result.energy.total, unit))
    total += (result.limited_by,)
    widths = [max(len(r[i]) for r in (header, *rows, total)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(w) if i < 2 or i in (12, 13) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        )

    if result.compressed:
        header += ("weights", "x dense")
        rows = [
            (*row, layer.weights.format, f"{layer.speedup:.2f}")
            for row, layer in zip(rows, result.layers, strict=True)
        ]
        total += ("", f"{result.speedup:.2f}")
        widths = [max(len(r[i]) for r in (header, *rows, total)) for i in range(len(header))]
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows), rule, line(total)])


def summary_lines(result: SimResult) -> list[str]:
    """A few lines naming the workload, the config and the headline figures."""
    cfg = result.config
    tiling = ", stream tiles fit" if cfg.stream_tiling == "fit" and cfg.dataflow != "os" else ""
    cycles = result.cycles
    energy = result.energy
    roof = result.roofline
    return [
        f"workload  {result.workload_name} (batch {result.batch}, {len(result.layers)} layers, "
        f"{result.macs / 1e9:.3f} GMACs)",
        f"config    {cfg.name}: {cfg.rows}x{cfg.cols} {cfg.dataflow.value}, "
        f"{cfg.fold_schedule.value} folds{tiling}, {cfg.clock_mhz:g} MHz, "
        f"{result.area_total_mm2:.3g} mm^2 at {cfg.technology_nm:g} nm, activations "
        f"{cfg.inter_layer_activations.value}",
        f"cycles    {cycles.total:,} ({cycles.compute:,} compute + {cycles.stall:,} stall); "
        f"SCALE-Sim figure {cycles.scalesim_total:,}",
        f"latency   {result.latency_s * 1e3:.3f} ms at {cfg.clock_mhz:g} MHz, "
        f"utilization {result.utilization:.1%}, {format_si(result.macs_per_s, 'MAC/s')}",
        f"energy    {format_energy(energy.total, result.energy_unit)} {energy_node(result)} "
        f"({format_energy(energy.total / result.macs, result.energy_unit)}/MAC), "
        f"DRAM {format_bytes(result.memory.dram_bytes)} (compulsory "
        f"{format_bytes(result.compulsory_dram_bytes)})",
        f"limits    {_split(result)}; limited by {result.limited_by}, under the "
        f"{roof.bound if roof.bound == 'compute' else roof.bound.upper()} roof",
        *_compression_lines(result),
    ]


def _split(result: SimResult) -> str:
    split = result.cycle_split
    parts = (("useful", "useful MACs"), ("mapping_loss", "mapping loss"),
             ("fill_drain", "fill/drain"), ("dram_stall", "DRAM stall"))  # fmt: skip
    return ", ".join(f"{label} {split.share(field):.0%}" for field, label in parts)


def _compression_lines(result: SimResult) -> list[str]:
    if not result.compressed:
        return []
    base = result.baseline
    source = result.weights_from or "declared N:M patterns (no weights)"
    synthetic = (
        " (synthetic weights)" if result.synthetic_weights and "synthetic" not in source else ""
    )
    return [
        f"weights   {source}{synthetic}",
        f"vs dense  {result.speedup:.2f}x faster ({base.cycles:,} -> {result.cycles.total:,} "
        f"cycles), energy x{result.energy_ratio:.2f}, DRAM "
        f"{format_bytes(base.dram_bytes)} -> {format_bytes(result.memory.dram_bytes)}",
        *(f"note      {note}" for note in result.notes),
    ]
