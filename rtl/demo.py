"""The demo's RTL step: the Verilog of the demo accelerator and of its N:M variant.

Registered in the ``sparsa.demo`` entry-point group, so ``sparsa demo`` (in the
simulator, which never imports ``rtl``) runs it after the simulation and compression.
It writes the dense engine of the demo config into ``verilog/`` and the sparse engine of
the N:M variant the demo simulates the compressed networks on
(:func:`simulator.demo.sparse_variant`: 2:4 and 1:4 PEs, zero gating) into
``verilog/<its name>/``; each is Verilog, ``params.json`` and ``params.h``. Converting a
32x32 N:M engine takes about 20 s the first time; both are cached.
"""

from __future__ import annotations

from pathlib import Path

from rtl.export import ExportResult, write_outputs
from rtl.params import RtlParams
from simulator.config import AcceleratorConfig
from simulator.demo import DemoStep, sparse_variant

__all__ = ["verilog_step"]


def _line(params: RtlParams, result: ExportResult) -> str:
    p = params
    kind = f"N:M {', '.join(map(str, p.nm_patterns))} PEs" if p.nm_group > 1 else "dense PEs"
    gating = ", zero gating" if p.zero_gating else ""
    cached = " (from the cache)" if result.cache_hit else ""
    return (
        f"top       {p.name}: {p.dataflow.value} {p.rows}x{p.cols} {kind}{gating}, "
        f"int{p.activation_bits} x int{p.weight_bits} -> int{p.accumulator_bits} "
        f"({p.overflow.value}){cached}"
    )


def verilog_step(out_dir: Path, config: AcceleratorConfig) -> DemoStep:
    """Write the dense engine of ``config`` into ``verilog/`` and the N:M engine of its
    sparse variant into ``verilog/<name>/``."""
    folder = Path(out_dir) / "verilog"
    dense = RtlParams.from_config(config)
    sparse_config = sparse_variant(config)
    sparse = RtlParams.from_config(sparse_config)
    dense_result = write_outputs(dense, folder)
    sparse_result = write_outputs(sparse, folder / sparse.name)
    lines = (
        _line(dense, dense_result),
        _line(sparse, sparse_result),
        f"folds     streamed in tiles of up to {dense.stream_tile_limit or 'all'} vectors, as "
        "the timing model tiles them; N:M folds from each column's pattern",
        "verified  this generator's RTL is checked by cocotb in `make test` (2x2 to 8x8, "
        "Icarus: dense, N:M, codebook decoders) and `make test-slow` (16x16, Verilator): "
        "bit-exact with compress's integer model, 0 cycles off the simulator's model",
    )
    written = tuple(
        path
        for result in (dense_result, sparse_result)
        for path in (result.verilog, result.params_json, result.header)
    )
    return DemoStep(
        title=f"verilog: {config.name} and {sparse_config.name}", lines=lines, written=written
    )
