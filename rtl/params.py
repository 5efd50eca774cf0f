"""The parameters the RTL is built from, taken from an :class:`AcceleratorConfig`.

:class:`RtlParams` keeps the fields of a config that shape the hardware and refuses
the values the RTL does not implement, with the same one-line
:class:`~simulator.config.ConfigError` the config itself raises (field, value, what is
allowed). Everything the RTL generates (the Amaranth design, the Verilog, the
``params.json`` and the C header) comes from one ``RtlParams``.

What the RTL implements:

========================= ==========================================================
field                     allowed
========================= ==========================================================
``dataflow``              ``ws`` and ``os`` (``is`` has no processing element yet)
``fold_schedule``         ``sequential``: one fold at a time, exactly SCALE-Sim's count
``pe_kind``               ``dense``
``rows``, ``cols``        1 to 64 (a 64x64 array takes about a minute to convert)
``activation_bits``,      2 to 16, signed two's complement (the int64 reference stays
``weight_bits``           exact: products below 2**30, sums of up to 2**32 of them)
``accumulator_bits``      ``activation_bits + weight_bits`` (one product always fits)
                          to 64
``accumulator_overflow``  ``wrap`` or ``saturate``
========================= ==========================================================
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from simulator.config import (
    AcceleratorConfig,
    ConfigError,
    Dataflow,
    FoldSchedule,
    Overflow,
    PEKind,
)
from simulator.model.mapping import config_stream_tile_limit

__all__ = ["MAX_ARRAY_SIDE", "MAX_OPERAND_BITS", "SUPPORTED_DATAFLOWS", "RtlParams", "verilog_name"]

SUPPORTED_DATAFLOWS: tuple[Dataflow, ...] = (Dataflow.WS, Dataflow.OS)
MAX_ARRAY_SIDE = 64
MAX_OPERAND_BITS = 16
MIN_OPERAND_BITS = 2
MAX_ACCUMULATOR_BITS = 64
MAX_STREAM_BITS = 32
DEFAULT_STREAM_BITS = 16

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def verilog_name(name: str) -> str:
    """A Verilog identifier for a config name: other characters become ``_``.

    ``"edge-32x32"`` -> ``"edge_32x32"``; a name that starts with a digit gets the
    prefix ``sparsa_``.
    """
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ident if _IDENTIFIER.fullmatch(ident) else f"sparsa_{ident}"


def _int_range(field: str, value: Any, low: int, high: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(field, value, f"the RTL supports integers from {low} to {high}{why}")


@dataclass(frozen=True)
class RtlParams:
    """Hardware parameters of one generated accelerator, validated on construction.

    Parameters
    ----------
    name : str
        Verilog top-module name (a Verilog identifier).
    rows, cols : int
        PE array size.
    dataflow : Dataflow
        ``ws`` or ``os``.
    activation_bits, weight_bits, accumulator_bits : int
        Signed operand and accumulator widths in bits.
    overflow : Overflow
        What the accumulator does past its width: ``wrap`` or ``saturate``.
    stream_bits : int
        Width of the fold-start payload, which holds ``T - 1`` (``T`` streamed vectors
        per fold, like AXI's ``AxLEN``): a fold streams up to ``2**stream_bits`` vectors.
    stream_tile_limit : int
        The stream tile the timing model uses for the config (``stream_tiling: fit``,
        :func:`simulator.model.mapping.config_stream_tile_limit`); 0 when it does not tile. Not
        hardware (the engine streams whatever a fold is given): the GEMM driver and
        firmware use it to cut the streamed dimension as the model does, so it is in
        ``params.json`` and ``params.h`` but not in the Verilog cache key.
    """

    name: str
    rows: int
    cols: int
    dataflow: Dataflow
    activation_bits: int = 8
    weight_bits: int = 8
    accumulator_bits: int = 32
    overflow: Overflow = Overflow.WRAP
    stream_bits: int = DEFAULT_STREAM_BITS
    stream_tile_limit: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _IDENTIFIER.fullmatch(self.name):
            raise ConfigError("name", self.name, "the top-module name must be a Verilog identifier")
        _int_range("rows", self.rows, 1, MAX_ARRAY_SIDE, " (larger arrays convert for minutes)")
        _int_range("cols", self.cols, 1, MAX_ARRAY_SIDE, " (larger arrays convert for minutes)")
        if self.dataflow not in {d.value for d in SUPPORTED_DATAFLOWS}:
            allowed = ", ".join(d.value for d in SUPPORTED_DATAFLOWS)
            raise ConfigError(
                "dataflow",
                getattr(self.dataflow, "value", self.dataflow),
                f"the RTL implements {allowed} (is has no PE yet)",
            )
        object.__setattr__(self, "dataflow", Dataflow(self.dataflow))
        for field in ("activation_bits", "weight_bits"):
            _int_range(field, getattr(self, field), MIN_OPERAND_BITS, MAX_OPERAND_BITS)
        product_bits = self.activation_bits + self.weight_bits
        _int_range(
            "accumulator_bits",
            self.accumulator_bits,
            product_bits,
            MAX_ACCUMULATOR_BITS,
            " (at least activation_bits + weight_bits, so one product fits)",
        )
        if self.overflow not in {o.value for o in Overflow}:
            raise ConfigError(
                "accumulator_overflow",
                getattr(self.overflow, "value", self.overflow),
                "must be one of wrap, saturate",
            )
        object.__setattr__(self, "overflow", Overflow(self.overflow))
        _int_range("stream_bits", self.stream_bits, 1, MAX_STREAM_BITS)
        _int_range("stream_tile_limit", self.stream_tile_limit, 0, 1 << 62)

    @classmethod
    def from_config(
        cls, config: AcceleratorConfig, stream_bits: int = DEFAULT_STREAM_BITS
    ) -> RtlParams:
        """The RTL parameters of ``config``; raises :class:`ConfigError` on what the RTL lacks."""
        if config.fold_schedule is not FoldSchedule.SEQUENTIAL:
            raise ConfigError(
                "fold_schedule",
                config.fold_schedule.value,
                "the RTL implements sequential (its PEs hold one set of weights)",
            )
        if config.pe_kind is not PEKind.DENSE:
            raise ConfigError("pe_kind", config.pe_kind.value, "the RTL implements dense")
        return cls(
            name=verilog_name(config.name),
            rows=config.rows,
            cols=config.cols,
            dataflow=config.dataflow,
            activation_bits=config.activation_bits,
            weight_bits=config.weight_bits,
            accumulator_bits=config.accumulator_bits,
            overflow=config.accumulator_overflow,
            stream_bits=stream_bits,
            stream_tile_limit=config_stream_tile_limit(config),
        )

    @property
    def max_stream(self) -> int:
        """The most vectors one fold can stream (``T`` up to this)."""
        return 1 << self.stream_bits

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (enums as strings)."""
        out = asdict(self)
        out["dataflow"] = self.dataflow.value
        out["overflow"] = self.overflow.value
        return out
