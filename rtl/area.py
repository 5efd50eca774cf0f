"""The simulator's area entries for sparse PEs and decoders, against Yosys cell counts.

The area model (:mod:`simulator.model.area`) prices a dense PE as a multiplier and an
adder (Horowitz's 45 nm figures) plus its registers (NanGate DFF_X1 per bit), and adds,
for ``pe_kind: nm``, ``pe_select`` (an M:1 multiplexer of ``activation_bits`` as
``(M - 1)`` MUX2 cells per bit, a ``ceil(log2 M)``-bit position register and
``(M / n_min - 1) * activation_bits`` extra lane flip-flops per PE) and, per column,
``weight_decoder`` (``entries x v x entry_bits`` table flip-flops, an ``entries:1``
read multiplexer of ``(entries - 1) x v x entry_bits`` MUX2 cells, the read-port
register and the control flip-flops).

Yosys's generic cells (:mod:`rtl.synth`) count a flip-flop, a 2:1 multiplexer and a
NAND as one cell each, so one area-per-cell ratio cannot compare a flip-flop- and
multiplexer-heavy decoder with an arithmetic-heavy PE (the table's rows show it:
``single_ratio``). The generic library's ``$_DFF*`` and ``$_MUX_`` cells are the
model's own DFF_X1 and MUX2_X1, priced as the model prices them; the dense PE gives the
ratio for the rest, at each width: its multiplier and adder area (less its few
multiplexers) over its other logic cells. A component's *Yosys area* is its cells at
those prices, and :attr:`AreaCheck.ratio` is the model's entry over it: 1 means the
entry prices the synthesized structure as the dense PE's entries price the dense PE.

Structural counts, for reading the table (``a`` activation bits, ``b`` entry bits, ``v``
vector length): the RTL's N:M PE registers ``M`` activation lanes (``M * a``), its
weight, its position and its sum, and selects the lane with ``(M - 1) * a`` 2:1
multiplexers; the decoder registers its table (``entries * v * b``), its read port
(one entry, ``v * b``: the table is a synchronous-read memory) and its control (busy,
``v`` mask bits, ``ceil(log2(rows + 1))`` pad-count bits, and the offset bits when
``v mod M != 0``), and reads it with ``(entries - 1) * v * b`` 2:1 multiplexers.
"""

from __future__ import annotations

from dataclasses import dataclass

from rtl.model import model_config
from rtl.params import RtlParams
from rtl.synth import COMPONENT_BITS, SynthStats, at_width, component_stats
from simulator.config import PEKind
from simulator.model.area import area_breakdown, load_area_table
from simulator.model.columns import ConfigColumns

__all__ = ["TOLERANCE", "AreaCheck", "area_checks", "multiplexers", "rtl_flip_flops"]

TOLERANCE = 0.15
"""How far an entry may be from the Yosys area: within 15 %."""
_UM2_PER_MM2 = 1e6
_ARITHMETIC = ("pe_multipliers", "pe_adders")


def multiplexers(stats: SynthStats) -> int:
    """Yosys's 2:1 multiplexer cells (``$_MUX_``, ``$_NMUX_``)."""
    return sum(n for cell, n in stats.by_type.items() if cell in ("$_MUX_", "$_NMUX_"))


@dataclass(frozen=True)
class AreaCheck:
    """One component at one width: Yosys's counts, the model's entry and their ratio."""

    component: str
    bits: int
    flip_flops: int
    muxes: int
    logic: int
    """Logic cells other than the multiplexers."""
    model_flip_flops: int
    """Flip-flops the area model counts for the component."""
    model_um2: float
    yosys_um2: float
    """The cells at the model's prices and the dense PE's logic ratio (module docstring)."""
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
    """um^2 per flip-flop and per multiplexer (the model's), per other logic cell (the
    dense PE's) and per cell of any kind (the dense PE's), at one width."""

    bits: int
    per_flip_flop: float
    per_mux: float
    per_logic: float
    per_cell: float

    def row(self, name, flops: int, muxes: int, logic: int, model_ff: int, model_um2: float):
        yosys = flops * self.per_flip_flop + muxes * self.per_mux + logic * self.per_logic
        single = model_um2 / max(flops + muxes + logic, 1) / self.per_cell
        return AreaCheck(name, self.bits, flops, muxes, logic, model_ff, model_um2, yosys, single)


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
    decoder_entry = p.decoder_vector_length * p.decoder_entry_bits
    decoder_control = 1 + p.decoder_vector_length + p.pad_bits + p.offset_bits
    return {
        "arithmetic": sum(per_pe[name] for name in _ARITHMETIC),
        "registers": per_pe["pe_registers"],
        "select": per_pe["pe_select"],
        "decoder": float(area["weight_decoder"][0, 0]) * _UM2_PER_MM2 / p.cols,
        "select_ff": select_ff,
        "decoder_ff": (p.decoder_entries + 1) * decoder_entry + decoder_control,
    }


def _counts(stats: SynthStats) -> tuple[int, int, int]:
    muxes = multiplexers(stats)
    return stats.flip_flops, muxes, stats.logic - muxes


def area_checks(params: RtlParams, bits: tuple[int, ...] = COMPONENT_BITS) -> list[AreaCheck]:
    """:class:`AreaCheck` rows of the N:M PE, its ``pe_select`` share (the N:M PE minus
    the dense PE) and the decoder, for ``params`` at each width in ``bits`` (operands and
    codebook entries; :func:`rtl.synth.component_stats`), the dense PE first as the
    calibration (its ratio is 1 by construction)."""
    stats = {(name.split(" (")[0], b): s for name, b, s in component_stats(params, bits)}
    table = load_area_table()
    flop, mux2 = table[("register", "bit")].at(), table[("mux", "mux2")].at()
    rows = []
    for b in bits:
        p = at_width(params, b)
        model = _model(p)
        dense = stats[("dense PE", b)]
        d_ff, d_mux, d_logic = _counts(dense)
        dense_um2 = model["registers"] + model["arithmetic"]
        calibration = _Calibration(
            b, flop, mux2, (model["arithmetic"] - d_mux * mux2) / d_logic, dense_um2 / dense.cells
        )
        row = calibration.row
        dense_ff = rtl_flip_flops(p, "dense PE")
        rows.append(row("dense PE", d_ff, d_mux, d_logic, dense_ff, dense_um2))
        if p.pe_kind is PEKind.NM:
            nm_ff, nm_mux, nm_logic = _counts(stats[("N:M PE", b)])
            total = dense_um2 + model["select"]
            rows.append(
                row("N:M PE", nm_ff, nm_mux, nm_logic, dense_ff + model["select_ff"], total)
            )
            extra = (nm_ff - d_ff, nm_mux - d_mux, nm_logic - d_logic)
            rows.append(row("pe_select", *extra, model["select_ff"], model["select"]))
        if p.has_decoder:
            counts = _counts(stats[("decoder", b)])
            rows.append(row("decoder", *counts, model["decoder_ff"], model["decoder"]))
    return rows
