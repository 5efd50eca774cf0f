"""sparsa against published chips: TPUv1, Eyeriss v1 and Gemmini.

Usage::

    .venv/bin/python benchmarks/validate_chips.py [--markdown]

Prints, for every figure, the model's value, the published one, their ratio, the
tolerance it must meet and the figure's source, then exits 1 when a tolerance misses
(0 otherwise). The model runs the shipped configs (``configs/tpuv1-256x256.yaml``,
``configs/eyeriss-12x14.yaml``, ``configs/gemmini-16x16.yaml``) as they are, so whatever
the model and those configs gain later (activations kept on chip, a technology node,
flip-flop prices) shows up here without changing this script; where a config field the
chip needs exists only in a later sparsa (``inter_layer_activations``), it is used when
present. The run is deterministic: the same commit prints the same table.

Tolerances are stated per kind of figure, as a factor the ratio must stay within:

- x1.01 for figures that follow from the configuration alone (peak, ridge point);
- x2 for throughput and traffic of whole networks, where the model's dataflow or the
  network's shapes only approximate the chip's (TPUv1's applications are known only by
  their layer count, weights and batch, Table 1; Eyeriss runs a row-stationary dataflow
  sparsa does not have).

Sources. Where the text of a figure was found (with the project's search tool) the
source says so; "not confirmed" marks a figure that could not be checked against the
paper's own text (it is then taken from the transcription named) and a figure with no
published value is printed without a ratio.

- Jouppi et al., "In-Datacenter Performance Analysis of a Tensor Processing Unit",
  ISCA 2017: 92 TOPS peak (abstract, confirmed). Table 1 (layers, weights, batch of the
  six applications), Table 2 (34 GB/s), Table 3 (measured TeraOps/s: MLP0 12.3, MLP1
  9.7, LSTM0 3.7, LSTM1 2.8, CNN0 86.0, CNN1 14.1) and the ridge point of 1350 MACs per
  weight byte (Fig. 5): not confirmed against the paper's text, from a third-party
  transcription of its tables.
- Chen, Krishna, Emer and Sze, "Eyeriss: An Energy-Efficient Reconfigurable Accelerator
  for Deep Convolutional Neural Networks", JSSC 2017: AlexNet's convolutional layers at
  35 frames/s and 0.0029 DRAM accesses per MAC, batch 4, 168 PEs (abstract, confirmed).
  The 12x14 array, 16-bit operands and 200 MHz clock are the configuration of issue 12
  (not confirmed here). Chen, Emer and Sze, ISCA 2016: normalized energy per 16-bit
  access DRAM 200, global buffer 6, array 2, RF 1, MAC 1 (as cited in
  ``simulator/data/energy_eyeriss.yaml``; not confirmed against the paper's text here).
  No published energy split of the chip on AlexNet was confirmed: the model's split is
  printed without a ratio.
- Genc et al., "Gemmini: Enabling Systematic Deep-Learning Architecture Evaluation via
  Full-Stack Integration", DAC 2021: no performance figure of the default 16x16 config
  was confirmed; the model's figures are printed without a ratio. The config follows
  ucb-bar/gemmini's ``GemminiConfigs.defaultConfig``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from simulator import load_config, simulate, zoo_workload
from simulator.config import FIELD_NAMES, AcceleratorConfig
from simulator.results.result import SimResult
from simulator.workloads.layer import Layer, Linear, OpKind, Workload

ROOT = Path(__file__).resolve().parent.parent
JOUPPI = "Jouppi et al., ISCA 2017"
CHEN_JSSC = "Chen et al., JSSC 2017"
CHEN_ISCA = "Chen et al., ISCA 2016"
GENC = "Genc et al., DAC 2021"
NOT_CONFIRMED = "not confirmed: third-party transcription"

# TPUv1's applications (Table 1: layers, weights, batch) and their measured TeraOps/s
# (Table 3). Their shapes are not published: the stand-ins are square fully-connected
# layers with the published layer count, weights and batch (an LSTM cell is a matmul of
# its weights by the batch, so it streams its weights the same way).
TPU_APPS = {
    "MLP0": (5, 20e6, 200, 12.3),
    "MLP1": (4, 5e6, 168, 9.7),
    "LSTM0": (58, 52e6, 64, 3.7),
    "LSTM1": (56, 34e6, 96, 2.8),
}
EYERISS_BATCH = 4
EYERISS_FPS = 35.0
EYERISS_DRAM_ACCESSES_PER_MAC = 0.0029
# Normalized energy per 16-bit access, by sparsa energy component.
EYERISS_COSTS = {"dram": 200.0, "input_sram": 6.0, "array": 2.0, "register": 1.0, "pe": 1.0}


@dataclass(frozen=True)
class Check:
    """One figure: the model's value against the published one.

    ``within``: the factor the ratio ``model / published`` must stay within (None: not
    gated); ``published`` None: nothing published or confirmed to compare with.
    """

    chip: str
    quantity: str
    unit: str
    model: float | None
    published: float | None
    source: str
    within: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.model is None or not self.published:
            return None
        return self.model / self.published

    @property
    def ok(self) -> bool | None:
        """True or False when gated, None when there is nothing to gate."""
        if self.ratio is None or self.within is None:
            return None
        return 1 / self.within <= self.ratio <= self.within


def _config(name: str, **preferred: object) -> AcceleratorConfig:
    """A shipped config, with fields a later sparsa adds set when this one knows them."""
    config = load_config(ROOT / "configs" / name)
    known = {key: value for key, value in preferred.items() if key in FIELD_NAMES}
    return config.replace(**known) if known else config


def _node(config: AcceleratorConfig) -> str:
    """The technology node when the config has one (a later sparsa), else the table's."""
    node = getattr(config, "technology_nm", None)
    return f"{node} nm" if node is not None else f"energy table {config.energy_table}"


def _fc_stack(name: str, layers: int, weights: float, batch: int) -> Workload:
    width = round((weights / layers) ** 0.5)
    return Workload(
        name, tuple(Layer(f"{name}.fc{i}", Linear(width, width), batch) for i in range(layers))
    )


def tpu_checks() -> list[Check]:
    config = _config("tpuv1-256x256.yaml")
    chip = f"TPUv1 ({config.name}, {_node(config)})"
    peak_tops = 2 * config.peak_macs_per_cycle * config.clock_hz / 1e12
    ridge = config.peak_macs_per_cycle / config.dram_bytes_per_cycle
    checks = [
        Check(chip, "peak", "TOPS", peak_tops, 92.0, f"{JOUPPI}, abstract", 1.01),
        Check(
            chip, "roofline ridge point", "MAC/weight byte", ridge, 1350.0,
            f"{JOUPPI}, Fig. 5 ({NOT_CONFIRMED})", 1.01,
        ),
    ]  # fmt: skip
    for app, (layers, weights, batch, measured) in TPU_APPS.items():
        result = simulate(_fc_stack(app, layers, weights, batch), config)
        checks.append(
            Check(
                chip,
                f"{app} stand-in: {layers} FC layers, {weights / 1e6:g}M weights, batch {batch}",
                "TOPS",
                2 * result.macs_per_s / 1e12,
                measured,
                f"{JOUPPI}, Tables 1 and 3 ({NOT_CONFIRMED})",
                2.0,
            )
        )
    resnet = simulate(zoo_workload("resnet50", 8), config)
    checks.append(
        Check(
            chip,
            "resnet50 batch 8: DRAM traffic over compulsory (weights, first input, last output)",
            "x",
            resnet.memory.dram_bytes / resnet.compulsory_dram_bytes,
            None,
            "model only: no published figure (the chip keeps activations in its unified buffer)",
        )
    )
    for app, measured in (("CNN0", 86.0), ("CNN1", 14.1)):
        checks.append(
            Check(
                chip,
                f"{app}: layer shapes not published, no comparable zoo network",
                "TOPS",
                None,
                measured,
                f"{JOUPPI}, Table 3 ({NOT_CONFIRMED})",
            )
        )
    return checks


def _alexnet_convs(batch: int) -> Workload:
    layers = tuple(layer for layer in zoo_workload("alexnet", batch) if layer.kind is OpKind.CONV)
    return Workload("alexnet-conv", layers, source="zoo")


def eyeriss_result() -> SimResult:
    config = _config("eyeriss-12x14.yaml", inter_layer_activations="on_chip")
    return simulate(_alexnet_convs(EYERISS_BATCH), config)


def eyeriss_checks(result: SimResult | None = None) -> list[Check]:
    result = result or eyeriss_result()
    config = result.config
    chip = f"Eyeriss v1 ({config.name}, {config.dataflow.value} for row-stationary)"
    source = f"{CHEN_JSSC}, abstract (AlexNet CONV layers, batch {EYERISS_BATCH})"
    word_bytes = config.activation_bits / 8
    checks = [
        Check(chip, "AlexNet conv layers", "frames/s", result.inferences_per_s, EYERISS_FPS,
              source, 2.0),
        Check(chip, "DRAM accesses per MAC (16-bit words)", "1/MAC",
              result.memory.dram_bytes / word_bytes / result.macs,
              EYERISS_DRAM_ACCESSES_PER_MAC, source, 2.0),
    ]  # fmt: skip
    prices = result.energy_table["prices"]
    per_access = {
        "dram": prices["dram.read"]["value"] * 16,
        "input_sram": prices["input_sram.read"]["value"] * 16,
        "array": prices["array.hop"]["value"] * 16,
        "register": prices["register.read"]["value"] * 16,
        "pe": prices["pe.mac"]["value"],
    }
    for component, cost in EYERISS_COSTS.items():
        checks.append(
            Check(chip, f"energy per 16-bit access: {component}", "MAC16", per_access[component],
                  cost, f"{CHEN_ISCA}, Table IV (not confirmed: as cited in energy_eyeriss.yaml)",
                  1.01)
        )  # fmt: skip
    energy = result.energy
    for component, value in sorted(energy.by_component.items(), key=lambda kv: -kv[1]):
        if value > 0:
            checks.append(
                Check(chip, f"energy share: {component}", "%", 100 * value / energy.total, None,
                      f"no published split confirmed ({CHEN_ISCA} / {CHEN_JSSC})")
            )  # fmt: skip
    return checks


def gemmini_checks() -> list[Check]:
    config = _config("gemmini-16x16.yaml", inter_layer_activations="on_chip")
    chip = f"Gemmini ({config.name}, {_node(config)}, {config.clock_mhz:g} MHz assumed)"
    source = f"{GENC}: no figure of this config confirmed"
    checks = [
        Check(chip, "peak", "GOPS", 2 * config.peak_macs_per_cycle * config.clock_hz / 1e9,
              None, source),
    ]  # fmt: skip
    for network in ("resnet50", "mobilenetv2"):
        result = simulate(zoo_workload(network), config)
        checks += [
            Check(chip, f"{network} batch 1", "frames/s", result.inferences_per_s, None, source),
            Check(chip, f"{network} batch 1 utilization", "%", 100 * result.utilization, None,
                  source),
        ]  # fmt: skip
    return checks


def validate() -> list[Check]:
    """Every check of every chip, in the order the table prints them."""
    return tpu_checks() + eyeriss_checks() + gemmini_checks()


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"


def render(checks: list[Check]) -> str:
    """The table as markdown (the README carries it)."""
    lines = [
        "| chip | figure | unit | model | published | ratio | tolerance | pass | source |",
        "|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    for c in checks:
        verdict = {True: "yes", False: "**no**", None: "-"}[c.ok]
        tolerance = f"x{c.within:g}" if c.within and c.published else "-"
        lines.append(
            f"| {c.chip} | {c.quantity} | {c.unit} | {_number(c.model)} | "
            f"{_number(c.published)} | {_number(c.ratio)} | {tolerance} | {verdict} | "
            f"{c.source} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    checks = validate()
    print(render(checks))
    missed = [c for c in checks if c.ok is False]
    gated = [c for c in checks if c.ok is not None]
    print(f"\n{len(gated) - len(missed)} of {len(gated)} gated figures within tolerance.")
    for c in missed:
        print(f"MISSED: {c.chip}: {c.quantity}: ratio {c.ratio:.3g} outside x{c.within:g}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
