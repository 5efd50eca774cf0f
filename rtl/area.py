"""The simulator's area entries for sparse PEs and decoders, against Yosys cell counts.

The area model (:mod:`simulator.model.area`) prices a dense PE as a multiplier and an
adder (Horowitz's 45 nm figures) plus its registers (NanGate DFF_X1 per bit), and adds,
for ``pe_kind: nm``, ``pe_select`` (an M:1 multiplexer of ``activation_bits`` as
``(M - 1)`` MUX2 cells per bit, a ``ceil(log2 M)``-bit position register and
``(M / n_min - 1) * activation_bits`` extra lane flip-flops per PE) and, per column,
``weight_decoder`` (``entries x v x entry_bits`` table flip-flops and an ``entries:1``
read multiplexer of ``(entries - 1) x v x entry_bits`` MUX2 cells).

Yosys's generic cells (:mod:`rtl.synth`) do not weigh a flip-flop more than a NAND, so
one area-per-cell ratio cannot compare a flip-flop-heavy decoder with an
arithmetic-heavy PE. The dense PE gives two ratios instead, at each width: um^2 per
flip-flop (its register area over its flip-flops; the model counts exactly them, so this
is DFF_X1's 4.522) and um^2 per logic cell (its multiplier and adder over its other
cells). A component's *Yosys area* is its flip-flops and logic cells at those ratios,
and :attr:`AreaCheck.ratio` is the model's entry over it: 1 means the entry prices the
synthesized structure as the dense PE's entries price the dense PE.

Structural counts, for reading the table (``a`` activation bits, ``b`` entry bits, ``v``
vector length): the RTL's N:M PE registers ``M`` activation lanes (``M * a``), its
weight, its position and its sum; the decoder registers its table (``entries * v * b``),
its read port (one entry, ``v * b``: the table is a synchronous-read memory) and its
control (busy, ``v`` mask bits, ``ceil(log2(rows + 1))`` pad-count bits, and the offset
bits when ``v mod M != 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rtl.model import model_config
from rtl.params import RtlParams
from rtl.synth import COMPONENT_BITS, at_width, component_stats
from simulator.config import PEKind
from simulator.model.area import area_breakdown
from simulator.model.columns import ConfigColumns

__all__ = ["TOLERANCE", "AreaCheck", "area_checks", "rtl_flip_flops"]

TOLERANCE = 0.15
"""How far an entry may be from the Yosys area: within 15 %."""
_UM2_PER_MM2 = 1e6
_ARITHMETIC = ("pe_multipliers", "pe_adders")


@dataclass(frozen=True)
class AreaCheck:
    """One component at one width: Yosys's counts, the model's entry and their ratio."""

    component: str
    bits: int
    flip_flops: int
    logic: int
    model_flip_flops: int
    """Flip-flops the area model counts for the component."""
    model_um2: float
    yosys_um2: float
    """The flip-flops and logic cells at the dense PE's ratios (module docstring)."""
    single_ratio: float
    """Model um^2 per Yosys cell over the dense PE's (the one-ratio comparison)."""

    @property
    def ratio(self) -> float:
        return self.model_um2 / self.yosys_um2

    @property
    def within(self) -> bool:
        return abs(self.ratio - 1) <= TOLERANCE


@dataclass(frozen=True)
class _Calibration:
    """The dense PE's ratios at one width: um^2 per flip-flop, per logic cell, per cell."""

    bits: int
    per_flip_flop: float
    per_logic: float
    per_cell: float

    def row(self, name: str, flops: int, logic: int, model_ff: int, model_um2: float):
        yosys = flops * self.per_flip_flop + logic * self.per_logic
        single = model_um2 / max(flops + logic, 1) / self.per_cell
        return AreaCheck(name, self.bits, flops, logic, model_ff, model_um2, yosys, single)


def rtl_flip_flops(params: RtlParams, component: str) -> int:
    """The flip-flops the RTL's structure has (module docstring): ``"dense PE"``,
    ``"N:M PE"`` or ``"decoder"``."""
    p = params
    if component == "dense PE":
        return p.activation_bits + p.weight_bits + p.accumulator_bits
    if component == "N:M PE":
        lanes = p.nm_group * p.activation_bits
        return lanes + p.weight_bits + p.position_bits + p.accumulator_bits
    entry = p.decoder_vector_length * p.decoder_entry_bits
    control = 1 + p.decoder_vector_length + p.pad_bits + p.offset_bits
    return p.decoder_entries * entry + entry + control


def _model(params: RtlParams) -> dict[str, float]:
    """Per PE and per column, the model's area entries in um^2, and its flip-flops."""
    p = params
    area = area_breakdown(ConfigColumns.of([model_config(p)]))
    per_pe = {name: float(area[name][0, 0]) * _UM2_PER_MM2 / (p.rows * p.cols) for name in area}
    n_min = p.nm_slots[0] if p.nm_slots else 1
    select_ff = p.position_bits + round((p.nm_group / n_min - 1) * p.activation_bits)
    return {
        "arithmetic": sum(per_pe[name] for name in _ARITHMETIC),
        "registers": per_pe["pe_registers"],
        "select": per_pe["pe_select"],
        "decoder": float(area["weight_decoder"][0, 0]) * _UM2_PER_MM2 / p.cols,
        "select_ff": select_ff,
        "decoder_ff": p.decoder_entries * p.decoder_vector_length * p.decoder_entry_bits,
    }


def area_checks(params: RtlParams, bits: tuple[int, ...] = COMPONENT_BITS) -> list[AreaCheck]:
    """:class:`AreaCheck` rows of the N:M PE, its ``pe_select`` share (the N:M PE minus
    the dense PE) and the decoder, for ``params`` at each width in ``bits`` (operands and
    codebook entries; :func:`rtl.synth.component_stats`), the dense PE first as the
    calibration (its ratio is 1 by construction)."""
    stats = {(name.split(" (")[0], b): s for name, b, s in component_stats(params, bits)}
    rows = []
    for b in bits:
        p = at_width(params, b)
        model = _model(p)
        dense = stats[("dense PE", b)]
        calibration = _Calibration(
            b,
            model["registers"] / dense.flip_flops,
            model["arithmetic"] / dense.logic,
            (model["registers"] + model["arithmetic"]) / dense.cells,
        )
        row = calibration.row
        dense_ff = rtl_flip_flops(p, "dense PE")
        dense_um2 = model["registers"] + model["arithmetic"]
        rows.append(row("dense PE", dense.flip_flops, dense.logic, dense_ff, dense_um2))
        if p.pe_kind is PEKind.NM:
            nm = stats[("N:M PE", b)]
            total = dense_um2 + model["select"]
            rows.append(
                row("N:M PE", nm.flip_flops, nm.logic, dense_ff + model["select_ff"], total)
            )
            extra_ff, extra_logic = nm.flip_flops - dense.flip_flops, nm.logic - dense.logic
            rows.append(
                row("pe_select", extra_ff, extra_logic, model["select_ff"], model["select"])
            )
        if p.has_decoder:
            decoder = stats[("decoder", b)]
            rows.append(
                row(
                    "decoder",
                    decoder.flip_flops,
                    decoder.logic,
                    model["decoder_ff"],
                    model["decoder"],
                )
            )
    return rows
