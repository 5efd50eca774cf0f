"""The demo's RTL step: the Verilog of the demo accelerator, from the same config.

Registered in the ``sparsa.demo`` entry-point group, so ``sparsa demo`` (in the
simulator, which never imports ``rtl``) runs it after the simulation and compression.
"""

from __future__ import annotations

from pathlib import Path

from rtl.export import write_outputs
from rtl.params import RtlParams
from simulator.config import AcceleratorConfig
from simulator.demo import DemoStep

__all__ = ["verilog_step"]


def verilog_step(out_dir: Path, config: AcceleratorConfig) -> DemoStep:
    """Write ``verilog/<name>.v``, ``params.json`` and ``params.h`` for ``config``."""
    params = RtlParams.from_config(config)
    result = write_outputs(params, Path(out_dir) / "verilog")
    p = params
    cached = " (from the cache)" if result.cache_hit else ""
    lines = (
        f"top       {p.name}: {p.dataflow.value} {p.rows}x{p.cols}, int{p.activation_bits} x "
        f"int{p.weight_bits} -> int{p.accumulator_bits} ({p.overflow.value}){cached}",
        f"folds     streamed in tiles of up to {p.stream_tile_limit or 'all'} vectors, as the "
        "timing model tiles them",
        "verified  this generator's RTL is checked by cocotb in `make test` (2x2 to 8x8, "
        "Icarus) and `make test-slow` (16x16, Verilator): bit-exact with numpy, 0 cycles "
        "off the timing model",
    )
    return DemoStep(
        title=f"verilog: {config.name}",
        lines=lines,
        written=(result.verilog, result.params_json, result.header),
    )
