"""The parameters the RTL is built from, taken from an :class:`AcceleratorConfig`.

:class:`RtlParams` keeps the fields of a config that shape the hardware and refuses
the values the RTL does not implement, with the same one-line
:class:`~simulator.config.ConfigError` the config itself raises (field, value, what is
allowed). Everything the RTL generates (the Amaranth design, the Verilog, the
``params.json`` and the C header) comes from one ``RtlParams``.

What the RTL implements:

=========================== ==========================================================
field                       allowed
=========================== ==========================================================
``dataflow``                ``ws`` and ``os`` (``is`` has no processing element yet)
``fold_schedule``           ``sequential``: one fold at a time, exactly SCALE-Sim's count
``pe_kind``                 ``dense`` (ws, os) and ``nm`` (ws); ``skip`` has no RTL
``nm_patterns``             (``nm``) one M of 2, 4, 8 or 16; any N < M; ``rows >= M``
``zero_gating``             ws only: operand isolation of the multiplier (below)
``weight_decoder``          ``none``, or ``codebook`` on ws (at the weight-load port)
``decoder_entries``         2 to 65536 (codebook)
``decoder_vector_length``   1 to 64 (codebook)
``decoder_entry_bits``      1 to ``weight_bits`` (sign-extended into the PEs)
``huffman_symbols_per_cycle`` 0 (the RTL has no Huffman decoder)
``rows``, ``cols``          1 to 64 (a 64x64 array takes about a minute to convert)
``activation_bits``,        2 to 16, signed two's complement (the int64 reference stays
``weight_bits``             exact: products below 2**30, sums of up to 2**32 of them)
``accumulator_bits``        ``activation_bits + weight_bits`` (one product always fits)
                            to 64
``accumulator_overflow``    ``wrap`` or ``saturate``
``stream_bits``             1 to 32, and ``2**stream_bits`` at least the config's stream
                            tile (``stream_tiling: fit``), so every tile fits one fold
=========================== ==========================================================

N:M arrays (``pe_kind: nm``) run every pattern of ``nm_patterns`` and dense columns on
the same PEs: a fold runs its PE rows in *row groups* of ``n`` rows, ``n`` one of
:attr:`RtlParams.row_group_sizes` (the supported N values and M itself, for columns that
need all M); see :mod:`rtl.array`. ``zero_gating`` forces the multiplier's activation
input to 0 while a PE's stationary weight is 0 (pruned or padding weights then do not
toggle the multiplier; results and cycles are unchanged).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from compress.nm import NMPattern
from simulator.config import (
    AcceleratorConfig,
    ConfigError,
    Dataflow,
    FoldSchedule,
    Overflow,
    PEKind,
    WeightDecoder,
    parse_nm_patterns,
)

__all__ = [
    "MAX_ARRAY_SIDE",
    "MAX_OPERAND_BITS",
    "NM_GROUPS",
    "SUPPORTED_DATAFLOWS",
    "RtlParams",
    "verilog_name",
]

SUPPORTED_DATAFLOWS: tuple[Dataflow, ...] = (Dataflow.WS, Dataflow.OS)
SUPPORTED_PE_KINDS: tuple[PEKind, ...] = (PEKind.DENSE, PEKind.NM)
NM_GROUPS: tuple[int, ...] = (2, 4, 8, 16)
MAX_ARRAY_SIDE = 64
MAX_OPERAND_BITS = 16
MIN_OPERAND_BITS = 2
MAX_ACCUMULATOR_BITS = 64
MAX_STREAM_BITS = 32
DEFAULT_STREAM_BITS = 16
MAX_DECODER_ENTRIES = 1 << 16
MAX_DECODER_VECTOR = 64

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENUMS = {
    "dataflow": Dataflow,
    "overflow": Overflow,
    "pe_kind": PEKind,
    "weight_decoder": WeightDecoder,
}


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


def _bits_for(count: int) -> int:
    """Bits of an unsigned index into ``count`` things (0 for one thing)."""
    return (count - 1).bit_length()


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
    pe_kind : PEKind
        ``dense`` or ``nm`` (ws only).
    nm_patterns : tuple of NMPattern
        The N:M patterns an ``nm`` array supports (one M); empty for ``dense``.
    zero_gating : bool
        ws only: operand isolation of each PE's multiplier while its weight is 0.
    weight_decoder : WeightDecoder
        ``codebook`` puts a :class:`~rtl.decoder.CodebookDecoder` at every column's
        weight-load port (ws only).
    decoder_entries, decoder_vector_length, decoder_entry_bits : int
        The codebook: entries, weights per entry, signed bits per weight.
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
    pe_kind: PEKind = PEKind.DENSE
    nm_patterns: tuple[NMPattern, ...] = ()
    zero_gating: bool = False
    weight_decoder: WeightDecoder = WeightDecoder.NONE
    decoder_entries: int = 256
    decoder_vector_length: int = 1
    decoder_entry_bits: int = 8

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _IDENTIFIER.fullmatch(self.name):
            raise ConfigError("name", self.name, "the top-module name must be a Verilog identifier")
        _int_range("rows", self.rows, 1, MAX_ARRAY_SIDE, " (larger arrays convert for minutes)")
        _int_range("cols", self.cols, 1, MAX_ARRAY_SIDE, " (larger arrays convert for minutes)")
        self._enum("dataflow", SUPPORTED_DATAFLOWS, "the RTL implements {} (is has no PE yet)")
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
        self._enum("overflow", tuple(Overflow), "must be one of {}", field="accumulator_overflow")
        _int_range("stream_bits", self.stream_bits, 1, MAX_STREAM_BITS)
        _int_range("stream_tile_limit", self.stream_tile_limit, 0, 1 << 62)
        self._check_stream_tile()
        self._enum("pe_kind", SUPPORTED_PE_KINDS, "the RTL implements {} (skip has no RTL)")
        self._check_nm()
        if not isinstance(self.zero_gating, bool):
            raise ConfigError("zero_gating", self.zero_gating, "must be true or false")
        if self.zero_gating and self.dataflow is not Dataflow.WS:
            raise ConfigError(
                "zero_gating",
                True,
                f"the RTL gates ws PEs, whose weight is stationary (dataflow is "
                f"{self.dataflow.value}): set false",
            )
        self._check_decoder()

    def _enum(self, name: str, allowed: tuple, message: str, field: str = "") -> None:
        value = getattr(self, name)
        if value not in {a.value for a in allowed}:
            raise ConfigError(
                field or name,
                getattr(value, "value", value),
                message.format(", ".join(a.value for a in allowed)),
            )
        object.__setattr__(self, name, _ENUMS[name](value))

    def _check_stream_tile(self) -> None:
        """The model's stream tiles must fit one fold: ``stream_tile_limit <= 2**stream_bits``
        (otherwise the driver would cut folds the engine cannot start)."""
        limit = self.stream_tile_limit
        if limit <= self.max_stream:
            return
        needed = (limit - 1).bit_length()
        fix = (
            f"at least {needed}"
            if needed <= MAX_STREAM_BITS
            else f"more than {MAX_STREAM_BITS} bits would be needed: give the config a "
            "smaller ofmap_sram_bytes, or stream_tiling: none"
        )
        raise ConfigError(
            "stream_bits",
            self.stream_bits,
            f"a fold streams up to 2**{self.stream_bits} = {self.max_stream} vectors, but the "
            f"config's stream tiling (stream_tiling: fit) cuts folds at {limit}: {fix}",
        )

    def _check_nm(self) -> None:
        try:
            patterns = parse_nm_patterns(self.nm_patterns)
        except ValueError as exc:
            raise ConfigError("nm_patterns", self.nm_patterns, str(exc)) from None
        object.__setattr__(self, "nm_patterns", patterns)
        listed = [str(p) for p in patterns]
        if self.pe_kind is not PEKind.NM:
            if patterns:
                raise ConfigError("nm_patterns", listed, "needs pe_kind: nm")
            return
        if self.dataflow is not Dataflow.WS:
            raise ConfigError(
                "pe_kind", "nm", f"the RTL builds N:M PEs for ws only (dataflow is {self.dataflow})"
            )
        if not patterns or len({p.m for p in patterns}) > 1 or any(p.is_dense for p in patterns):
            raise ConfigError("nm_patterns", listed, "must list N:M patterns with N < M, one M")
        if patterns[0].m not in NM_GROUPS:
            raise ConfigError(
                "nm_patterns",
                listed,
                f"the RTL builds M = {', '.join(map(str, NM_GROUPS))} "
                "(positions of log2 M bits, M:1 multiplexers)",
            )
        if self.rows < self.nm_group:
            raise ConfigError(
                "rows",
                self.rows,
                f"an N:M array needs at least M = {self.nm_group} rows "
                "(a column that keeps all M runs one row per position)",
            )

    def _check_decoder(self) -> None:
        self._enum("weight_decoder", tuple(WeightDecoder), "must be one of {}")
        if not self.has_decoder:
            return
        _int_range("decoder_entries", self.decoder_entries, 2, MAX_DECODER_ENTRIES)
        _int_range("decoder_vector_length", self.decoder_vector_length, 1, MAX_DECODER_VECTOR)
        _int_range(
            "decoder_entry_bits",
            self.decoder_entry_bits,
            1,
            self.weight_bits,
            " (at most weight_bits: entries are sign-extended into the weight registers)",
        )
        if self.dataflow is not Dataflow.WS:
            raise ConfigError(
                "weight_decoder",
                "codebook",
                f"the RTL builds the decoder at the ws weight-load port "
                f"(dataflow is {self.dataflow.value}: its weights stream with the activations)",
            )

    @classmethod
    def from_config(
        cls, config: AcceleratorConfig, stream_bits: int = DEFAULT_STREAM_BITS
    ) -> RtlParams:
        """The RTL parameters of ``config``; raises :class:`ConfigError` on what the RTL lacks."""
        # Imported here: ``sparsa --help`` reads this module's limits without the model.
        from simulator.model.mapping import config_stream_tile_limit

        if config.fold_schedule is not FoldSchedule.SEQUENTIAL:
            raise ConfigError(
                "fold_schedule",
                config.fold_schedule.value,
                "the RTL implements sequential (its PEs hold one set of weights)",
            )
        if config.huffman_symbols_per_cycle:
            raise ConfigError(
                "huffman_symbols_per_cycle",
                config.huffman_symbols_per_cycle,
                "the RTL has no Huffman decoder: 0",
            )
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
            pe_kind=config.pe_kind,
            nm_patterns=config.nm_patterns,
            zero_gating=config.zero_gating,
            weight_decoder=config.weight_decoder,
            decoder_entries=config.decoder_entries,
            decoder_vector_length=config.decoder_vector_length,
            decoder_entry_bits=config.decoder_entry_bits,
        )

    @property
    def max_stream(self) -> int:
        """The most vectors one fold can stream (``T`` up to this)."""
        return 1 << self.stream_bits

    @property
    def nm_group(self) -> int:
        """M: the k positions a row group covers (1 for dense PEs, one row per k)."""
        return self.nm_patterns[0].m if self.nm_patterns else 1

    @property
    def nm_slots(self) -> tuple[int, ...]:
        """The supported N values, ascending (empty for dense PEs)."""
        return tuple(sorted(p.n for p in self.nm_patterns))

    @property
    def row_group_sizes(self) -> tuple[int, ...]:
        """The PE rows per row group a fold can run with, ascending: the supported N
        values and M (columns that keep more than the largest N run dense). ``(1,)``
        for dense PEs. A fold's ``mode`` (start payload) is an index into this."""
        return tuple(sorted({*self.nm_slots, self.nm_group}))

    @property
    def mode_bits(self) -> int:
        """Bits of the fold's mode in the start payload (0: one mode, no field)."""
        return _bits_for(len(self.row_group_sizes))

    @property
    def position_bits(self) -> int:
        """Bits of a kept weight's position in its group of M: ``ceil(log2 M)``."""
        return _bits_for(self.nm_group)

    @property
    def feed_groups(self) -> int:
        """Row groups the feed carries lanes for: ``rows // smallest row group``."""
        return self.rows // self.row_group_sizes[0]

    @property
    def feed_lanes(self) -> int:
        """Activation lanes of one feed beat (ws: ``feed_groups * M``; os: ``rows``)."""
        return self.feed_groups * self.nm_group

    @property
    def has_decoder(self) -> bool:
        return self.weight_decoder is WeightDecoder.CODEBOOK

    @property
    def index_bits(self) -> int:
        """Bits of a codebook index (decoder)."""
        return _bits_for(self.decoder_entries)

    @property
    def pad_bits(self) -> int:
        """Bits of a lookup's zero-padding count, 0 to ``rows`` (decoder)."""
        return self.rows.bit_length()

    @property
    def offset_bits(self) -> int:
        """Bits of a lookup's position offset: N:M decoders whose vectors do not hold
        whole groups (``decoder_vector_length % M != 0``) need it; otherwise 0."""
        if self.pe_kind is PEKind.NM and self.decoder_vector_length % self.nm_group:
            return self.position_bits
        return 0

    def hardware_dict(self) -> dict[str, Any]:
        """What the Verilog depends on: :meth:`to_dict` without ``stream_tile_limit``,
        and without the decoder's fields when there is no decoder."""
        out = {k: v for k, v in self.to_dict().items() if k != "stream_tile_limit"}
        if not self.has_decoder:
            for key in ("decoder_entries", "decoder_vector_length", "decoder_entry_bits"):
                out.pop(key)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (enums as strings, N:M patterns as ``"N:M"``)."""
        out = asdict(self)
        for key in _ENUMS:
            out[key] = getattr(self, key).value
        out["nm_patterns"] = [str(p) for p in self.nm_patterns]
        return out
