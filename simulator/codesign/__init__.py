"""The co-design loop: a model and a recipe to an accuracy + speed + energy + area verdict
on one or more accelerators (``sparsa run``). Above the reports, below the sweeps (whose
recipe axis resolves and compresses models through :mod:`simulator.codesign.inputs`)."""

from simulator.codesign.inputs import ModelInput, bind_model, compress_model, load_model_input
from simulator.codesign.loop import (
    RUN_FILE,
    AcceleratorVerdict,
    CodesignRun,
    run_codesign,
)
from simulator.codesign.report import render_run_markdown, verdict_lines

__all__ = [
    "RUN_FILE",
    "AcceleratorVerdict",
    "CodesignRun",
    "ModelInput",
    "bind_model",
    "compress_model",
    "load_model_input",
    "render_run_markdown",
    "run_codesign",
    "verdict_lines",
]
