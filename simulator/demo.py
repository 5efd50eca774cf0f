"""The built-in end-to-end demo behind ``sparsa demo`` and ``make run``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from compress import compress_network, load_model, save_compressed
from compress.errors import InputError
from simulator.config import KIB, AcceleratorConfig, Dataflow, StreamTiling
from simulator.reports.markdown import write_report
from simulator.reports.text import summary_lines
from simulator.results.result import SimResult
from simulator.results.simulate import simulate
from simulator.workloads.binding import bind_compressed, bind_recipe, load_compressed_model
from simulator.workloads.sources import load_workload

__all__ = [
    "DEFAULT_ACCELERATOR",
    "DEFAULT_WORKLOAD",
    "DEMO_STEP_GROUP",
    "DemoRun",
    "DemoStep",
    "check_output_dir",
    "run_demo",
]

DEFAULT_WORKLOAD = "resnet18"
DEMO_MODEL = "digits-mlp"
DEMO_RECIPE = "prune 2:4 -> int8 per-channel"
DEMO_FINETUNE_EPOCHS = 3
DEMO_STEP_GROUP = "sparsa.demo"
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
class DemoStep:
    """One part of the demo: a title, the lines to print and the files written."""

    title: str
    lines: tuple[str, ...]
    written: tuple[Path, ...]


@dataclass(frozen=True)
class DemoRun:
    """What the demo produced: the simulation result and every step's outputs."""

    result: SimResult
    steps: tuple[DemoStep, ...]

    @property
    def written(self) -> tuple[Path, ...]:
        return tuple(path for step in self.steps for path in step.written)


def simulate_step(out: Path, config: AcceleratorConfig) -> tuple[SimResult, DemoStep]:
    """ResNet-18 on ``config``: result.json, layers.csv, report.md and the three plots."""
    result = simulate(load_workload(DEFAULT_WORKLOAD), config)
    tables = (out / "result.json", out / "layers.csv")
    result.write_json(tables[0])
    result.write_csv(tables[1])
    step = DemoStep(
        title=f"simulate: {DEFAULT_WORKLOAD} on {config.name}",
        lines=tuple(summary_lines(result)),
        written=(*tables, *write_report(result, out)),
    )
    return result, step


def compress_step(out: Path) -> DemoStep:
    """The digits MLP (64-300-100-10, trained in numpy) pruned 2:4 and quantized to int8
    per channel, with a short fine-tuning: storage and accuracy."""
    loaded = load_model(DEMO_MODEL, seed=0)
    model = compress_network(
        loaded.net,
        loaded.params,
        DEMO_RECIPE,
        data=loaded.data,
        finetune_epochs=DEMO_FINETUNE_EPOCHS,
        model=loaded.name,
    )
    out.mkdir(parents=True, exist_ok=True)
    npz = save_compressed(model, out / "compressed.npz")
    summary = out / "summary.json"
    summary.write_text(json.dumps(model.summary(), indent=2) + "\n")
    lines = (
        f"recipe    {DEMO_RECIPE} ({DEMO_FINETUNE_EPOCHS} fine-tuning epochs per stage)",
        f"storage   {model.total_bits:,} bits: {model.ratio_fp32:.1f}x smaller than fp32, "
        f"{model.ratio_int8:.2f}x smaller than int8",
        f"accuracy  {model.accuracy_before:.2%} dense -> {model.accuracy_after:.2%} compressed "
        "(digits test set, 360 images)",
    )
    return DemoStep(title=f"compress: {DEMO_MODEL}", lines=lines, written=(npz, summary))


NM_PATTERNS = ("2:4", "1:4")


def sparse_variant(config: AcceleratorConfig) -> AcceleratorConfig:
    """The demo accelerator with N:M PEs (2:4 and 1:4) and zero gating."""
    return config.replace(
        name=f"{config.name}-nm", pe_kind="nm", nm_patterns=list(NM_PATTERNS), zero_gating=True
    )


def compressed_step(out: Path, config: AcceleratorConfig, title: str, workload) -> DemoStep:
    """``workload`` (with compressed weights bound) on ``config``, against its dense
    baseline: result.json, report.md and the plots (compression.png among them)."""
    result = simulate(workload, config)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "result.json"
    result.write_json(table)
    return DemoStep(
        title=title, lines=tuple(summary_lines(result)), written=(table, *write_report(result, out))
    )


def check_output_dir(out_dir: str | Path) -> Path:
    """``out_dir`` as a directory to write into (created if missing), or an
    :class:`InputError` naming it: an empty path, an existing file, or a file where a
    parent directory would go."""
    text = str(out_dir)
    allowed = "give a directory to write the demo into (created if missing)"
    if not text.strip():
        raise InputError(f"demo output directory (--out) {text!r}: an empty path; {allowed}")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise InputError(f"demo output directory (--out) {text}: is a file; {allowed}")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise InputError(
                f"demo output directory (--out) {text}: {parent} is a file, so no directory "
                f"can be made there; {allowed}"
            )
    return path


def run_demo(out_dir: str | Path, config: AcceleratorConfig | None = None) -> DemoRun:
    """The whole demo into ``out_dir``: the simulation and its report, the compression,
    the compressed digits model and ResNet-18 with the same recipe on synthetic weights,
    both on the N:M variant of the accelerator against their dense baselines, then every
    step another package registers in the ``sparsa.demo`` entry-point group
    (``rtl`` adds the Verilog of the demo accelerator). A step is a callable
    ``(out_dir: Path, config: AcceleratorConfig) -> DemoStep``. ``config`` replaces the
    default accelerator (edge-32x32)."""
    config = config or DEFAULT_ACCELERATOR
    out = check_output_dir(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result, simulated = simulate_step(out, config)
    plugins = sorted(entry_points(group=DEMO_STEP_GROUP), key=lambda e: e.name)
    steps = [simulated, compress_step(out / "compress")]
    sparse = sparse_variant(config)
    model = load_compressed_model(out / "compress")
    digits = bind_compressed(load_workload(DEMO_MODEL), model, "the compress step").workload
    steps.append(
        compressed_step(
            out / "compressed-digits", sparse,
            f"simulate: compressed {DEMO_MODEL} on {sparse.name}", digits,
        )
    )  # fmt: skip
    recipe = bind_recipe(load_workload(DEFAULT_WORKLOAD), DEMO_RECIPE).workload
    steps.append(
        compressed_step(
            out / "recipe-resnet18", sparse,
            f"simulate: {DEFAULT_WORKLOAD} with '{DEMO_RECIPE}' (synthetic weights) on "
            f"{sparse.name}", recipe,
        )
    )  # fmt: skip
    steps.extend(entry.load()(out, config) for entry in plugins)
    return DemoRun(result=result, steps=tuple(steps))
