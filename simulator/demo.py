"""The built-in end-to-end demo behind ``sparsa demo`` and ``make run``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulator.config import KIB, AcceleratorConfig, Dataflow, StreamTiling
from simulator.report import write_report
from simulator.result import SimResult
from simulator.simulate import simulate
from simulator.sources import load_workload

__all__ = ["DEFAULT_ACCELERATOR", "DEFAULT_WORKLOAD", "DemoRun", "run_demo"]

DEFAULT_WORKLOAD = "resnet18"
# The same accelerator as configs/edge-32x32.yaml (a test keeps the two equal).
DEFAULT_ACCELERATOR = AcceleratorConfig(
    name="edge-32x32",
    rows=32,
    cols=32,
    dataflow=Dataflow.WS,
    activation_bits=8,
    weight_bits=8,
    accumulator_bits=32,
    ifmap_sram_bytes=128 * KIB,
    filter_sram_bytes=128 * KIB,
    ofmap_sram_bytes=64 * KIB,
    dram_bytes_per_cycle=8.0,
    clock_mhz=500.0,
    stream_tiling=StreamTiling.FIT,
)


@dataclass(frozen=True)
class DemoRun:
    """What the demo produced."""

    result: SimResult
    written: tuple[Path, ...]


def run_demo(out_dir: str | Path) -> DemoRun:
    """Simulate the default zoo network on the default accelerator and write its outputs:
    result.json, layers.csv, report.md and the three plots."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = simulate(load_workload(DEFAULT_WORKLOAD), DEFAULT_ACCELERATOR)
    tables = (out / "result.json", out / "layers.csv")
    result.write_json(tables[0])
    result.write_csv(tables[1])
    return DemoRun(result=result, written=(*tables, *write_report(result, out)))
