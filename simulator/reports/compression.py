"""The report's compression section: dense and compressed side by side.

Rendered from a :class:`~simulator.results.SimResult` only: each layer's weights and
dense baseline, the speed-up with its limiter, the energy saved by source and what the
hardware does differently from what the compression asked.
"""

from __future__ import annotations

from simulator.reports.units import energy_node, format_bytes, format_energy, markdown_table
from simulator.results.result import LayerResult, SimResult

__all__ = ["compression_section"]


def _bits(value: float | None) -> str:
    return "" if value is None else f"{value / 8 / 1024:,.1f} KiB"


def _layer_row(layer: LayerResult, unit: str) -> tuple[str, ...]:
    w, base = layer.weights, layer.baseline
    ideal = f"{1 / w.density:.2f}" if w.density > 0 else ""
    return (
        layer.name,
        w.format,
        w.source,
        w.mode,
        f"{w.density:.2f}",
        f"{w.value_bits:g}",
        _bits(w.stored_bits),
        _bits(w.dram_bits),
        f"{base.cycles:,} -> {layer.cycles.total:,}",
        f"{layer.speedup:.2f} (ideal {ideal})",
        layer.limiter,
        format_energy(base.energy, unit) + " -> " + format_energy(layer.energy.total, unit),
        f"{layer.energy_ratio:.2f}",
    )


def _savings(result: SimResult) -> list[str]:
    unit = result.energy_unit
    base = result.baseline.energy
    rows = [
        (
            s.source,
            format_energy(s.dram, unit),
            format_energy(s.sram, unit),
            format_energy(s.compute, unit),
            format_energy(s.total, unit),
            f"{s.total / base:.1%}",
        )
        for s in result.savings
    ]
    return [
        f"Energy saved against the dense baseline {energy_node(result)}, step by step "
        "(negative: the step costs "
        "energy): `sparsity` is the keep-masks on this accelerator with values at its own "
        "width, `values` the layers' value formats (precision, weight sharing, entropy "
        "coding), `zero activations` the gating of zero inputs (only with `zero_gating`).",
        "",
        *markdown_table(
            ("source", "DRAM", "SRAM", "compute", "total", "of baseline"), rows, "lrrrrr"
        ),
    ]


def _notes(result: SimResult) -> list[str]:
    lines = [f"- {note}" for note in result.notes]
    for layer in result.layers:
        lines += [f"- {layer.name}: {note}" for note in layer.weights.notes]
    return ["Where the hardware runs a compression differently:", "", *lines] if lines else []


def compression_section(result: SimResult) -> list[str]:
    """``## Compression`` lines, or nothing when every layer is dense."""
    if not result.compressed:
        return []
    base = result.baseline
    unit = result.energy_unit
    source = result.weights_from or "declared N:M patterns (uniform masks, no weights)"
    synthetic = (
        " **Synthetic weights**: a recipe applied to each layer's usual initialization, "
        "not to trained weights."
        if result.synthetic_weights
        else ""
    )
    header = ("layer", "weights", "source", "runs as", "density", "value bits", "stored",
              "DRAM", "cycles dense -> here", "speed-up", "limiter",
              f"energy {energy_node(result)}", "ratio")  # fmt: skip
    rows = [_layer_row(layer, unit) for layer in result.layers if layer.weights.source != "dense"]
    lines = [
        "## Compression",
        "",
        f"Weights: {source}.{synthetic} Baseline: the same layers with dense weights at "
        f"{result.config.weight_bits} bits on a dense {result.config.rows}x"
        f"{result.config.cols} array (no zero gating, no decoder).",
        "",
        f"- **{result.speedup:.2f}x** faster: {base.cycles:,} -> {result.cycles.total:,} cycles",
        f"- energy **x{result.energy_ratio:.2f}**: {format_energy(base.energy, unit)} -> "
        f"{format_energy(result.energy.total, unit)}",
        f"- DRAM traffic {format_bytes(base.dram_bytes)} -> "
        f"{format_bytes(result.memory.dram_bytes)}",
        "",
        *markdown_table(header, rows, "lllllrrrrrlrr"),
        "",
        "stored: the compressed tensor's exact storage; DRAM: one copy as this hardware reads "
        "it (the stored format when it runs it, else its own re-encoding). limiter: what "
        "keeps a layer from 1 / density (memory bound, fill and drain, fold quantisation, "
        "imbalance); `runs dense`: the PEs cannot exploit the format.",
        "",
        *_savings(result),
    ]
    notes = _notes(result)
    return [*lines, "", *notes] if notes else lines
