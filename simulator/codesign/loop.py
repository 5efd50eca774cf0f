"""The co-design loop: a model and a recipe in, an accuracy + speed + energy + area verdict
on one or more accelerators out. The library call behind ``sparsa run``.

:func:`run_codesign` compresses the model (fine-tuning where it has data), binds the
compressed tensors to the model's workload by layer name, simulates it on every
accelerator, and writes into ``out``::

    compressed.npz, summary.json    what `sparsa compress` writes
    <accelerator>/                  what `sparsa simulate` writes, one folder each:
        result.json, layers.csv, report.md, roofline.png, energy.png, cycles.png, ...
    run.json                        the verdict per accelerator (see CodesignRun.to_dict)
    report.md, comparison.png       the accelerators side by side

Every figure of ``run.json`` is read from the compressed model and the simulation
results (``speedup`` and ``energy_ratio`` are :class:`~simulator.results.SimResult`'s:
the compressed layers against dense weights at the array's width on the same array with
dense PEs), so it equals what ``sparsa compress`` and ``sparsa simulate --compressed``
report when run separately.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from compress import CompressedModel, Recipe, integer_network, load_recipe, save_compressed
from compress.errors import InputError
from compress.pipeline import FINETUNE_LR
from simulator.codesign.inputs import ModelInput, bind_model, compress_model, load_model_input
from simulator.codesign.report import write_run_report
from simulator.config import AcceleratorConfig, WeightDecoder
from simulator.reports.markdown import write_report
from simulator.results.batch import evaluate_configs
from simulator.results.result import SimResult
from simulator.results.simulate import simulate
from simulator.workloads.binding import COMPRESSED_FILE
from simulator.workloads.layer import Workload
from simulator.workloads.sources import load_config_with_notes

__all__ = [
    "RUN_FILE",
    "RUN_FORMAT_VERSION",
    "SUMMARY_FILE",
    "AcceleratorVerdict",
    "CodesignRun",
    "run_codesign",
]

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
RUN_FORMAT_VERSION = 1
_INTEGER_MAX_ACCUMULATOR_BITS = 32  # compress.integer_network's widest accumulator


@dataclass(frozen=True, eq=False)
class AcceleratorVerdict:
    """The compressed model on one accelerator, against dense weights on the same array.

    ``baseline_area_mm2`` is the array with dense PEs and no decoders
    (:meth:`~simulator.config.AcceleratorConfig.dense_baseline`); ``accuracy_integer``
    the digits test accuracy of :func:`compress.integer_network` at this accelerator's
    accumulator width, overflow and codebook entry width (None when the model cannot run
    on it: ``integer_note`` says why).
    """

    name: str
    folder: str
    """Where its simulation's files are, relative to the run's folder."""
    config_source: str
    result: SimResult
    baseline_area_mm2: float
    accuracy_integer: float | None = None
    integer_note: str = ""

    @property
    def speedup(self) -> float:
        return self.result.speedup

    @property
    def energy_ratio(self) -> float:
        return self.result.energy_ratio

    @property
    def area_mm2(self) -> float:
        return self.result.area_total_mm2

    @property
    def area_ratio(self) -> float:
        """Area / the dense array's area."""
        return self.area_mm2 / self.baseline_area_mm2

    def to_dict(self, model: CompressedModel) -> dict[str, Any]:
        result, base = self.result, self.result.baseline
        config = result.config
        return {
            "name": self.name,
            "config": self.config_source,
            "result": f"{self.folder}/result.json",
            "report": f"{self.folder}/report.md",
            "accuracy_before": model.accuracy_before,
            "accuracy_after": model.accuracy_after,
            "accuracy_integer": self.accuracy_integer,
            "integer_note": self.integer_note,
            "storage_ratio_fp32": model.ratio_fp32,
            "speedup": self.speedup,
            "energy_ratio": self.energy_ratio,
            "area_mm2": self.area_mm2,
            "baseline_area_mm2": self.baseline_area_mm2,
            "area_ratio": self.area_ratio,
            "cycles": result.cycles.total,
            "baseline_cycles": base.cycles,
            "latency_s": result.latency_s,
            "baseline_latency_s": base.cycles / config.clock_hz,
            "energy_pj": result.energy.total,
            "baseline_energy_pj": base.energy_pj,
            "energy_unit": result.energy_unit,
            "dram_bytes": result.memory.dram_bytes,
            "baseline_dram_bytes": base.dram_bytes,
            "weight_dram_bits": sum(layer.weights.dram_bits for layer in result.layers),
            "utilization": result.utilization,
            "savings": {saving.source: saving.total for saving in result.savings},
            "layers": {
                layer.name: {
                    "format": layer.weights.format,
                    "runs_as": layer.weights.mode,
                    "density": layer.weights.density,
                    "speedup": layer.speedup,
                    "energy_ratio": layer.energy_ratio,
                    "limiter": layer.limiter,
                }
                for layer in result.layers
            },
            "notes": [
                *result.notes,
                *(f"{layer.name}: {n}" for layer in result.layers for n in layer.weights.notes),
            ],
        }


@dataclass(frozen=True, eq=False)
class CodesignRun:
    """What :func:`run_codesign` made: the compressed model and its verdicts."""

    out: Path
    source: ModelInput
    model: CompressedModel
    accelerators: tuple[AcceleratorVerdict, ...]
    workload: Workload
    """The workload with the compressed weights bound."""
    written: tuple[Path, ...] = ()

    def best(self) -> dict[str, str]:
        """The accelerator that wins each objective (first on ties)."""
        accels = self.accelerators
        return {
            "fastest": min(accels, key=lambda a: a.result.latency_s).name,
            "least_energy": min(accels, key=lambda a: a.result.energy.total).name,
            "smallest": min(accels, key=lambda a: a.area_mm2).name,
        }

    def to_dict(self) -> dict[str, Any]:
        """``run.json``: the run's inputs, the compression and one entry per accelerator
        (the fixed keys ``accuracy_before``, ``accuracy_after``, ``storage_ratio_fp32``,
        ``speedup``, ``energy_ratio``, ``area_mm2``, and the figures they come from)."""
        model = self.model
        summary = model.summary()["total"]
        return {
            "format_version": RUN_FORMAT_VERSION,
            "model": self.source.origin,
            "recipe": model.recipe,
            "finetune_epochs": model.finetune_epochs,
            "seed": model.seed,
            "activations": _activation_text(model),
            "workload": {
                "name": self.workload.name,
                "source": self.workload.source,
                "batch": self.workload.batch,
                "layers": len(self.workload.layers),
                "weights_from": self.workload.weights_from,
            },
            "compression": {
                "compressed": COMPRESSED_FILE,
                "summary": SUMMARY_FILE,
                "accuracy_before": model.accuracy_before,
                "accuracy_after": model.accuracy_after,
                "storage_ratio_fp32": model.ratio_fp32,
                "storage_ratio_int8": model.ratio_int8,
                "total_bits": model.total_bits,
                "fp32_bits": model.fp32_bits,
                "density": summary["density"],
            },
            "accelerators": [accel.to_dict(model) for accel in self.accelerators],
            "best": self.best(),
        }


def _activation_text(model: CompressedModel) -> str | None:
    if not model.activations:
        return None
    bits = sorted({quant.spec.bits for quant in model.activations.values()})
    return ", ".join(f"int{b}" for b in bits)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "accelerator"


def _folders(configs: Sequence[AcceleratorConfig]) -> list[str]:
    """One folder per accelerator, named after it (``-2``, ``-3`` for repeated names)."""
    taken: dict[str, int] = {}
    folders = []
    for config in configs:
        base = _slug(config.name)
        taken[base] = taken.get(base, 0) + 1
        folders.append(base if taken[base] == 1 else f"{base}-{taken[base]}")
    return folders


def _load_accelerator(
    accel: str | Path | AcceleratorConfig,
) -> tuple[AcceleratorConfig, tuple[str, ...], str]:
    if isinstance(accel, AcceleratorConfig):
        return accel, (), accel.name
    config, notes = load_config_with_notes(accel)
    return config, notes, str(accel)


def _integer_accuracy(
    source: ModelInput, model: CompressedModel, config: AcceleratorConfig
) -> tuple[float | None, str]:
    """Test accuracy of the integer model at ``config``'s widths, or None and why."""
    if not source.has_data:
        return None, "no data to score the integer model on"
    if not model.activations:
        return None, "activations are not quantized (give activations='int8' to run it)"
    bits = {quant.spec.bits for quant in model.activations.values()}
    if max(bits) > config.activation_bits:
        return None, (
            f"the model's activations are int{max(bits)}, the array's {config.activation_bits}-bit"
        )
    decoder = config.weight_decoder is WeightDecoder.CODEBOOK
    entry_bits = config.decoder_entry_bits if decoder else config.weight_bits
    accumulator = min(config.accumulator_bits, _INTEGER_MAX_ACCUMULATOR_BITS)
    try:
        network = integer_network(
            model,
            net=source.net,
            entry_bits=entry_bits,
            accumulator_bits=accumulator,
            overflow=config.accumulator_overflow.value,
        )
    except ValueError as exc:
        return None, str(exc)
    predictions = network.run(source.data.x_test).predictions
    note = f"{accumulator}-bit {config.accumulator_overflow.value} accumulators"
    if any(tensor.stats.codebook is not None for tensor in model.tensors.values()):
        note += f", codebook entries at {entry_bits} bits"
    if accumulator < config.accumulator_bits:
        note += f" (the array's {config.accumulator_bits}-bit accumulators run as 32-bit)"
    return float(np.mean(predictions == source.data.y_test)), note


def _verdict(
    source: ModelInput,
    model: CompressedModel,
    workload: Workload,
    accel: tuple[AcceleratorConfig, tuple[str, ...], str],
    folder: str,
    out: Path,
) -> tuple[AcceleratorVerdict, list[Path]]:
    """Simulate ``workload`` on the loaded accelerator ``accel`` (config, its import
    notes, where it came from) and write its files to ``out / folder``."""
    config, notes, where = accel
    result = replace(simulate(workload, config), input_notes=notes)
    target = out / folder
    target.mkdir(parents=True, exist_ok=True)
    result.write_json(target / "result.json")
    result.write_csv(target / "layers.csv")
    written = [target / "result.json", target / "layers.csv", *write_report(result, target)]
    baseline_area = float(evaluate_configs(workload, [config.dense_baseline()]).area_mm2[0])
    accuracy, note = _integer_accuracy(source, model, config)
    verdict = AcceleratorVerdict(config.name, folder, where, result, baseline_area, accuracy, note)
    return verdict, written


def run_codesign(
    model: str | Path | ModelInput,
    recipe: str | Recipe,
    accelerators: Sequence[str | Path | AcceleratorConfig],
    out: str | Path,
    finetune_epochs: int = 0,
    seed: int = 0,
    lr: float = FINETUNE_LR,
    activations: str | None = None,
    workload: str | None = None,
    batch: int | None = None,
) -> CodesignRun:
    """Compress ``model`` with ``recipe``, simulate it on every accelerator, write ``out``.

    Parameters
    ----------
    model : str, Path or ModelInput
        ``digits-mlp``, ``digits-cnn``, a ``.npz`` / ``.pt`` / ``.onnx`` file
        (:func:`~simulator.codesign.inputs.load_model_input`), or one already resolved.
    recipe : str or Recipe
        A recipe string or ``.yaml`` file (:func:`compress.load_recipe`).
    accelerators : sequence
        Config files (YAML or SCALE-Sim ``.cfg``) or configs; at least one.
    finetune_epochs, seed, lr, activations
        As :func:`compress.compress_network` takes them (``seed`` also trains the
        built-in models).
    workload, batch
        The workload a weights file binds to, and its batch
        (:func:`~simulator.codesign.inputs.load_model_input`).

    Returns
    -------
    CodesignRun
        The compressed model, one :class:`AcceleratorVerdict` per accelerator, and the
        files written.
    """
    if not accelerators:
        raise InputError("give at least one accelerator config")
    loaded = [_load_accelerator(accel) for accel in accelerators]
    if not isinstance(recipe, Recipe):  # a bad recipe fails before a model is trained
        recipe = load_recipe(recipe)
    source = (
        model
        if isinstance(model, ModelInput)
        else load_model_input(model, workload, seed=seed, batch=batch)
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    compressed = compress_model(source, recipe, finetune_epochs, seed, lr, activations)
    npz = save_compressed(compressed, out / COMPRESSED_FILE)
    summary = out / SUMMARY_FILE
    summary.write_text(json.dumps(compressed.summary(), indent=2) + "\n")
    bound = bind_model(source, compressed).workload
    written = [npz, summary]
    verdicts = []
    for accel, folder in zip(loaded, _folders([a[0] for a in loaded]), strict=True):
        verdict, files = _verdict(source, compressed, bound, accel, folder, out)
        verdicts.append(verdict)
        written.extend(files)
    run = CodesignRun(out, source, compressed, tuple(verdicts), bound)
    run_json = out / RUN_FILE
    run_json.write_text(json.dumps(run.to_dict(), indent=2) + "\n")
    written.extend([run_json, *write_run_report(run, out)])
    return replace(run, written=tuple(written))
