"""A plain-text table of a compressed model, for the terminal."""

from __future__ import annotations

from compress.model import CompressedModel

__all__ = ["model_table"]


def _kbits(bits: int) -> str:
    return f"{bits / 1000:,.1f}"


def model_table(model: CompressedModel) -> str:
    """Per layer: shape, format, density, kbits by kind, bits/weight, ratio; then totals."""
    header = ("layer", "shape", "format", "density", "values", "index", "codebook", "scales",
              "bits/w", "x fp32")  # fmt: skip
    rows = []
    for t in model.tensors.values():
        f, s = t.stats, t.storage
        fmt = f.value_format + (f" {f.nm}" if f.nm else "")
        fmt += " +huffman" if f.entropy_coded else ""
        rows.append((f.name, "x".join(map(str, f.shape)), fmt, f"{t.density:.3f}",
                     _kbits(s.values), _kbits(s.index), _kbits(s.codebook), _kbits(s.scales),
                     f"{f.bits_per_weight:.2f}", f"{32 / f.bits_per_weight:.1f}"))  # fmt: skip
    st = model.storage
    total = ("total", "", "", "", _kbits(st.values), _kbits(st.index), _kbits(st.codebook),
             _kbits(st.scales), "", f"{model.ratio_fp32:.1f}")  # fmt: skip
    widths = [max(len(r[i]) for r in (header, *rows, total)) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))  # fmt: skip

    rule = "  ".join("-" * w for w in widths)
    lines = [line(header), rule, *(line(r) for r in rows), rule, line(total), ""]
    lines.append(f"model     {model.model}, recipe: {model.recipe}")
    lines.append(
        f"storage   {model.total_bits:,} bits (kbits above; shared pools "
        f"{model.shared_bits:,}, uncompressed params {model.extra_bits:,}); "
        f"{model.ratio_fp32:.1f}x vs fp32, {model.ratio_int8:.2f}x vs int8"
    )
    lines.append(
        f"weights   {model.weights_ratio_fp32:.1f}x vs fp32 counting compressed weights only"
    )
    if model.activations:
        q = next(iter(model.activations.values()))
        lines.append(f"activations  int{q.spec.bits} per tensor ({q.method} calibration), "
                     f"{len(model.activations)} layer inputs")  # fmt: skip
    if model.accuracy_before is not None:
        lines.append(
            f"accuracy  {model.accuracy_before:.2%} dense -> {model.accuracy_after:.2%} "
            f"compressed (fine-tuning: {model.finetune_epochs} epochs per stage)"
        )
    for stage in model.stages:
        acc = f", accuracy {stage.accuracy:.2%}" if stage.accuracy is not None else ""
        lines.append(f"stage     {stage.name}: {stage.ratio_fp32:.1f}x vs fp32{acc}")
    return "\n".join(lines)
