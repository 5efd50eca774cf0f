"""The records a result is made of: cycles and where they go, memory traffic, energy,
roofline point, weights, the dense baseline, activations kept on chip.

Energies are in the result's ``energy_unit`` (the energy table's: pJ, or MAC16 for the
normalized ``eyeriss`` table); their fields are named by quantity (``energy``), never
``_pj``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from simulator.model.evaluate import LIMITERS
from simulator.model.roofline import BOUND_NAMES

__all__ = [
    "LIMITERS",
    "OPERANDS",
    "Baseline",
    "CycleSplit",
    "Cycles",
    "EnergySaving",
    "LayerActivations",
    "LayerEnergy",
    "LayerMemory",
    "LayerWeights",
    "OperandBytes",
    "OperandMemory",
    "RooflinePoint",
    "Roofs",
    "TilingAlternative",
    "compression_limiter",
    "point_at",
]

OPERANDS = ("input", "weight", "output")


@dataclass(frozen=True)
class Cycles:
    """Where a layer's time goes.

    ``compute``: cycles the array is busy (folds, preload, fill and drain);
    ``stall``: cycles waiting on DRAM; ``total = compute + stall``;
    ``scalesim_total``: SCALE-Sim's "Total Cycles" for the same layer and array
    (its sequential compute count minus one per GEMM), for side-by-side comparison.
    """

    compute: int
    stall: int
    total: int
    scalesim_total: int

    def __add__(self, other: Cycles) -> Cycles:
        return Cycles(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def astuple(cycles: Cycles) -> tuple[int, int, int, int]:
    return (cycles.compute, cycles.stall, cycles.total, cycles.scalesim_total)


@dataclass(frozen=True)
class OperandMemory:
    """One operand's traffic (see :mod:`simulator.model.memory`).

    ``sram_reads``/``sram_writes`` are element accesses by the array (SCALE-Sim's
    counts); the ``_bytes`` figures are everything the buffer and DRAM move, including
    DRAM fills and write-backs through the buffer.
    """

    sram_reads: int
    sram_writes: int
    sram_read_bytes: float
    sram_write_bytes: float
    dram_read_bytes: float
    dram_write_bytes: float

    def __add__(self, other: OperandMemory) -> OperandMemory:
        return OperandMemory(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )

    @property
    def dram_bytes(self) -> float:
        return self.dram_read_bytes + self.dram_write_bytes

    @property
    def sram_bytes(self) -> float:
        return self.sram_read_bytes + self.sram_write_bytes


@dataclass(frozen=True)
class LayerMemory:
    """Traffic of the three operands: input activations, weights, outputs/partial sums."""

    input: OperandMemory
    weight: OperandMemory
    output: OperandMemory

    def __add__(self, other: LayerMemory) -> LayerMemory:
        return LayerMemory(*(getattr(self, o) + getattr(other, o) for o in OPERANDS))

    @property
    def dram_bytes(self) -> float:
        return sum(getattr(self, o).dram_bytes for o in OPERANDS)

    @property
    def sram_bytes(self) -> float:
        return sum(getattr(self, o).sram_bytes for o in OPERANDS)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerMemory:
        return cls(*(OperandMemory(**data[o]) for o in OPERANDS))


@dataclass(frozen=True)
class LayerEnergy:
    """Energy by action (``"pe.mac"``, ``"dram.read"``, ...) and by component."""

    by_action: Mapping[str, float]
    by_component: Mapping[str, float]

    @property
    def total(self) -> float:
        return sum(self.by_component.values())

    def __add__(self, other: LayerEnergy) -> LayerEnergy:
        return LayerEnergy(
            {k: v + other.by_action[k] for k, v in self.by_action.items()},
            {k: v + other.by_component[k] for k, v in self.by_component.items()},
        )

    def to_dict(self, unit: str | None = None) -> dict[str, Any]:
        """``total``, ``by_component``, ``by_action`` (and ``unit`` when given)."""
        out = {
            "total": self.total,
            "by_component": dict(self.by_component),
            "by_action": dict(self.by_action),
        }
        return out | ({"unit": unit} if unit is not None else {})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerEnergy:
        return cls(dict(data["by_action"]), dict(data["by_component"]))


@dataclass(frozen=True)
class RooflinePoint:
    """Where a layer sits on the roofline (see :mod:`simulator.model.roofline`)."""

    intensity: float
    """MACs per DRAM byte."""
    sram_intensity: float
    """MACs per byte the array moves to and from the SRAMs."""
    attained: float
    """MAC/s achieved."""
    peak: float
    dram_roof: float
    """MAC/s the DRAM bandwidth allows at this intensity."""
    sram_roof: float
    bound: str
    """``compute``, ``dram`` or ``sram``: the lowest roof."""
    roof_fraction: float
    """``attained`` / the lowest roof."""

    @property
    def roof(self) -> float:
        return {"compute": self.peak, "dram": self.dram_roof, "sram": self.sram_roof}[self.bound]


@dataclass(frozen=True)
class Roofs:
    """A config's roofs: peak MAC/s and the DRAM and SRAM bandwidths in bytes/s."""

    peak_macs_per_s: float
    dram_bytes_per_s: float
    sram_bytes_per_s: float


@dataclass(frozen=True)
class TilingAlternative:
    """What a ws or is layer would take with the other ``stream_tiling`` choice.

    ``stream_tile``: streamed vectors per tile (0 when that choice does not tile);
    ``stream_tiles``: tiles per fold position; ``compute_cycles``: the layer's compute
    cycles then (everything else unchanged).
    """

    stream_tiling: str
    stream_tile: int
    stream_tiles: int
    compute_cycles: int


@dataclass(frozen=True)
class LayerWeights:
    """What a layer's weights are and how the hardware holds them.

    ``source``: ``compressed``, ``recipe`` (synthetic weights), ``declared`` or
    ``dense``; ``format``: e.g. ``"2:4 int8-sym-channel"``; ``density``: kept share of
    the weights; ``value_bits``: bits of one weight (or codebook index) on chip;
    ``mode``: how the PEs run it (``dense``, ``nm``, ``skip``); ``stored_bits``: the
    compressed tensor's exact storage (None without one); ``dram_bits``: the bits one
    copy of the weights occupies in DRAM as the hardware reads it (the stored bits when
    it runs the stored format; a codebook at the decoder's entry width);
    ``notes``: what the hardware does differently from what the compression asked;
    ``activation_density``: the nonzero share of the layer's inputs.
    """

    source: str
    format: str
    density: float
    value_bits: float
    mode: str
    stored_bits: int | None
    dram_bits: float
    notes: tuple[str, ...] = ()
    activation_density: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "notes", tuple(self.notes))


@dataclass(frozen=True)
class Baseline:
    """The same layer with dense weights at the config's ``weight_bits`` on a dense array
    of the same size (no zero gating, no decoder): what compression is measured against.
    """

    cycles: int
    compute_cycles: int
    stall_cycles: int
    fold_positions: int
    streamed: int
    energy: float
    """In the result's ``energy_unit``."""
    dram_bytes: float

    def __add__(self, other: Baseline) -> Baseline:
        return Baseline(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def energy_pj(self) -> float:
        """Deprecated alias of :attr:`energy` (in the result's ``energy_unit``)."""
        return self.energy


@dataclass(frozen=True)
class EnergySaving:
    """Energy one step from the dense baseline to the compressed layers saves, by where
    it is spent (in the result's energy unit; negative when the step costs energy).

    Steps, in order: ``sparsity`` (the keep-masks on this accelerator, values at the
    array's width), ``values`` (the value format: precision, weight sharing, entropy
    coding), ``zero activations`` (zero gating of zero inputs).
    """

    source: str
    dram: float
    sram: float
    compute: float
    """PEs, registers, hops, selects, decoders and leakage."""

    @property
    def total(self) -> float:
        return self.dram + self.sram + self.compute


def compression_limiter(
    weights: LayerWeights, cycles: Cycles, streamed: int, base: Baseline, stream_is_k: bool
) -> str:
    """What keeps a compressed layer from a speed-up of 1 / density.

    Against the ideal (the baseline's compute cycles times the density) the lost cycles
    split into DRAM stalls (``memory bound``), fill, drain and preload beyond the ideal
    share (``fill and drain``), and streamed vectors beyond the ideal share: the
    longest column of each fold when the stream is ``k`` (os: ``imbalance``), whole row
    folds otherwise (ws, is: ``fold quantisation``). The largest names the limiter;
    ``runs dense`` when the PEs do not exploit a sparse format, ``dense`` for dense
    weights, ``none`` within 5 % of the ideal.
    """
    if weights.mode == "dense":
        return "runs dense" if weights.density < 1 else "dense"
    ideal = base.compute_cycles * weights.density
    if cycles.total - ideal <= 0.05 * cycles.total:
        return "none"
    losses = {
        "memory bound": cycles.stall,
        "fill and drain": (cycles.compute - streamed)
        - (base.compute_cycles - base.streamed) * weights.density,
        "imbalance" if stream_is_k else "fold quantisation": streamed
        - base.streamed * weights.density,
    }
    return max(losses, key=losses.get)


@dataclass(frozen=True)
class CycleSplit:
    """Where a layer's cycles go; the four add up to its total cycles.

    ``useful``: the useful MACs on every PE (``macs_useful / (rows cols)``);
    ``mapping_loss``: streaming cycles in which PEs idle (the layer does not fill the
    array); ``fill_drain``: compute cycles that stream nothing (skew fill, drain,
    preloads); ``dram_stall``: cycles waiting on DRAM
    (:class:`simulator.model.evaluate.CycleSplitArrays`).
    """

    useful: float
    mapping_loss: float
    fill_drain: float
    dram_stall: float

    def __add__(self, other: CycleSplit) -> CycleSplit:
        return CycleSplit(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def total(self) -> float:
        return self.useful + self.mapping_loss + self.fill_drain + self.dram_stall

    @property
    def limiter(self) -> str:
        """The largest share: ``compute`` (useful MACs dominate), ``mapping loss``,
        ``fill/drain`` or ``DRAM stall`` (:data:`LIMITERS`)."""
        values = (self.useful, self.mapping_loss, self.fill_drain, self.dram_stall)
        return LIMITERS[max(range(4), key=lambda i: (values[i], -i))]

    def share(self, name: str) -> float:
        """The share of the total of ``useful``, ``mapping_loss``, ... (0 when empty)."""
        return getattr(self, name) / self.total if self.total else 0.0


@dataclass(frozen=True)
class OperandBytes:
    """One copy of each operand as DRAM holds it (the distinct inputs of a convolution,
    the weights at their stored width, the final outputs at ``activation_bits``)."""

    input: float
    weight: float
    output: float


@dataclass(frozen=True)
class LayerActivations:
    """Where a layer's input came from and its output went
    (``inter_layer_activations``, :mod:`simulator.model.residency`).

    ``input_from`` and ``output_to`` are ``dram`` or ``on_chip``; ``reason`` says why the
    output is where it is (:data:`simulator.model.residency.SPILL_REASONS`);
    ``output_bytes`` is the tensor the next layers need, ``others_bytes`` the most the
    other kept tensors held during its life when it was placed, ``capacity_bytes`` the
    input buffer; ``residual_dram_bytes`` the residual and gate reads fetched from DRAM.
    """

    input_from: str
    output_to: str
    reason: str
    output_bytes: float
    others_bytes: float
    capacity_bytes: float
    residual_dram_bytes: float = 0.0


def point_at(roof: Any, index: Any) -> RooflinePoint:
    """The :class:`RooflinePoint` at ``index`` of a :class:`simulator.model.roofline.Roofline`."""
    return RooflinePoint(
        intensity=float(roof.intensity[index]),
        sram_intensity=float(roof.sram_intensity[index]),
        attained=float(roof.attained_macs_per_s[index]),
        peak=float(roof.peak_macs_per_s[index]),
        dram_roof=float(roof.dram_roof_macs_per_s[index]),
        sram_roof=float(roof.sram_roof_macs_per_s[index]),
        bound=BOUND_NAMES[int(roof.bound[index])],
        roof_fraction=float(roof.roof_fraction[index]),
    )
