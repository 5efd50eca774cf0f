"""Accelerator configuration: one frozen object that builds the timing model and the RTL.

Units are in the field names: ``_bits``, ``_bytes``, ``_bytes_per_cycle``, ``_mhz``.
SRAM sizes in YAML may be integers (bytes) or strings with a binary unit such as
``"64 KiB"`` or ``"2MiB"``. Every field is validated when the object is built, and a
bad value raises :class:`ConfigError` naming the field, the value and what is allowed;
unknown YAML keys are errors. See ``configs/*.yaml`` for examples and the README for
the full table of fields.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from compress.errors import InputError, load_yaml
from compress.nm import NMPattern

__all__ = [
    "CLOCK_MHZ_RANGE",
    "DRAM_BYTES_PER_CYCLE_RANGE",
    "HUFFMAN_SYMBOLS_PER_CYCLE_RANGE",
    "MAX_SRAM_BYTES",
    "TECHNOLOGY_NM_RANGE",
    "AcceleratorConfig",
    "ConfigError",
    "Dataflow",
    "FoldSchedule",
    "InterLayerActivations",
    "Overflow",
    "PEKind",
    "ScaleSimSparsity",
    "StreamTiling",
    "WeightDecoder",
    "builtin_energy_tables",
    "load_config_yaml",
    "min_buffer_bytes",
    "name_from_path",
    "parse_bytes",
    "parse_number",
]

KIB = 1024
_MAX_ARRAY_SIDE = 1 << 16
TECHNOLOGY_NM_RANGE = (7, 180)
"""The nodes Stillmaker and Baas (Integration 2017) give scaling factors for."""
CLOCK_MHZ_RANGE = (1e-3, 1e5)
"""The clocks a config may have: 1 kHz to 100 GHz."""
DRAM_BYTES_PER_CYCLE_RANGE = (0.01, 1e15)
"""DRAM bandwidths a config may have, in bytes per array cycle: one byte per 100 cycles up
to 10^15 (the stall-free stand-in for SCALE-Sim's CALC mode)."""
HUFFMAN_SYMBOLS_PER_CYCLE_RANGE = (0.01, 1024.0)
"""Huffman decoder throughputs a config may have (0, no decoder, is allowed too)."""
MAX_SRAM_BYTES = 1 << 40
"""The largest buffer (1 TiB)."""


class ConfigError(InputError):
    """An accelerator configuration field holds a value outside what is allowed."""

    def __init__(self, field_name: str, value: Any, allowed: str, source: str = "") -> None:
        self.field = field_name
        self.value = value
        self.allowed = allowed
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}accelerator field '{field_name}' = {value!r}: {allowed}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.field, self.value, self.allowed, self.source))


class Dataflow(StrEnum):
    """Which operand stays in the PEs: outputs (os), weights (ws) or inputs (is)."""

    OS = "os"
    WS = "ws"
    IS = "is"


class PEKind(StrEnum):
    """What a processing element does with compressed weights.

    ``dense``: one MAC per cycle on every weight, zeros included (``zero_gating`` can
    gate the multiplier on a zero operand: energy, not time).
    ``nm``: N:M sparse PEs (``nm_patterns``): a PE holds a kept weight and its position
    in its group of M, and selects its activation from M lanes with an M:1 multiplexer
    (NVIDIA's sparse tensor cores, the AWS patent US11803736, MVQ's sparse array).
    ``skip``: zero weights are skipped in time where the dataflow allows it (os with
    per-column compressed weight streams); elsewhere they can only be gated.
    """

    DENSE = "dense"
    NM = "nm"
    SKIP = "skip"


class WeightDecoder(StrEnum):
    """What sits at each column's weight-load port.

    ``none``: weights arrive as values. ``codebook``: a lookup table of
    ``decoder_entries`` entries of ``decoder_vector_length`` weights at
    ``decoder_entry_bits`` turns indices (k-means, weight pools, MVQ) into weights.
    """

    NONE = "none"
    CODEBOOK = "codebook"


class FoldSchedule(StrEnum):
    """How consecutive folds of a layer share the array.

    ``sequential``: each fold runs alone, with its preload, fill and drain (SCALE-Sim).
    ``overlapped``: the next fold's stationary operand is preloaded into shadow PE
    registers while the current fold streams (double-buffered PE registers), so only
    the first preload of a layer is exposed.
    """

    SEQUENTIAL = "sequential"
    OVERLAPPED = "overlapped"


class StreamTiling(StrEnum):
    """Whether ws and is split the streamed dimension into tiles whose partial sums fit.

    ``none``: every fold streams all of ``T`` (SCALE-Sim); an output block's partial
    sums (``T x cols`` at ``accumulator_bits``) spill to DRAM when they do not fit.
    ``fit``: in ws and is the streamed dimension is cut into tiles of ``Ts`` vectors, the
    most whose partial sums fit the usable output buffer (at least 1), and every tile pays
    its own preload and fill (TPUv1 and Gemmini tile this way); in os ``k`` is cut, per
    layer, into tiles whose slab of inputs fits the input buffer, where that saves more
    input refetches than it adds partial-sum spills. See
    :func:`simulator.model.mapping.stream_tile_limit` and
    :func:`simulator.model.mapping.os_stream_tile`.
    """

    NONE = "none"
    FIT = "fit"


class InterLayerActivations(StrEnum):
    """Where a layer's output waits for the layers that read it.

    ``dram``: every layer reads its input from DRAM and writes its output back (each
    layer alone, as SCALE-Sim runs them). ``on_chip``: an output stays in the input
    (activation) buffer when it fits beside the other activations still needed by later
    layers (residual inputs included), and goes to DRAM only when it does not (see
    :mod:`simulator.model.residency`).
    """

    DRAM = "dram"
    ON_CHIP = "on_chip"


class ScaleSimSparsity(StrEnum):
    """How ``scalesim_total`` treats a layer's declared N:M pattern.

    ``none``: SCALE-Sim without ``SparsitySupport`` (the pattern is ignored).
    ``layerwise``: SCALE-Sim 3's layer-wise mode (``SparsitySupport: true``,
    ``OptimizedMapping: false``): the same N of every M rows along ``k`` are kept for
    every filter, so ``k`` shrinks to ``K' = floor(k/M) N + min(k mod M, N)``. This
    deletes input positions, which a real N:M mask does not allow; it changes only the
    SCALE-Sim-comparable figure, never the physical model.
    """

    NONE = "none"
    LAYERWISE = "layerwise"


class Overflow(StrEnum):
    """What the accumulator does past its width: two's-complement wrap or saturate."""

    WRAP = "wrap"
    SATURATE = "saturate"


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kib": KIB,
    "kb": KIB,
    "mib": KIB**2,
    "mb": KIB**2,
    "gib": KIB**3,
    "gb": KIB**3,
}


def parse_bytes(value: Any) -> Any:
    """``"64 KiB"`` -> 65536; ints pass through; anything else is returned unchanged.

    ``kB``/``MB`` are read as binary (1024-based) like SCALE-Sim's ``SzkB`` fields.
    """
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if match:
            number = float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]
            if number.is_integer():
                return int(number)
    return value


# A float in YAML 1.2 that YAML 1.1 (PyYAML) leaves a string: an exponent without a dot
# or without a sign ("1e3", "1.5e3"); YAML 1.1 reads only forms like "1.5e+3".
_EXPONENT_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)[eE][-+]?[0-9]+")


def parse_number(value: Any) -> Any:
    """``"1.5e3"`` -> 1500.0: a number in exponent form, which YAML 1.2 reads as a float but
    YAML 1.1 (PyYAML) as a string; anything else is returned unchanged."""
    if isinstance(value, str) and _EXPONENT_FLOAT_RE.fullmatch(value.strip()):
        return float(value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int_in(low: int, high: int, note: str = "") -> Callable[[Any], str | None]:
    allowed = f"an integer from {low} to {high:,}{f' ({note})' if note else ''}"

    def check(value: Any) -> str | None:
        number = parse_number(value)
        if isinstance(number, float) and number.is_integer() and abs(number) < 2**63:
            return f"must be {allowed}, written without an exponent ({int(number)})"
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be {allowed}, not {_kind(value)}"
        if not low <= value <= high:
            return f"must be {allowed}"
        return None

    return check


def _kind(value: Any) -> str:
    """What a YAML value is, in words, for messages."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float):
        return "a decimal number" if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return "nothing" if value is None else type(value).__name__


def _name(value: Any) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", value):
        return "must be a non-empty name of letters, digits, '_', '-' or '.'"
    return None


def _number_in(
    low: float, high: float, note: str = "", zero: str = ""
) -> Callable[[Any], str | None]:
    """A check for a number from ``low`` to ``high`` (``note`` says what the bounds mean);
    with ``zero``, 0 is allowed too and means ``zero``."""
    allowed = f"a number from {low:g} to {high:g}{f' ({note})' if note else ''}"
    if zero:
        allowed = f"0 ({zero}) or {allowed}"

    def check(value: Any) -> str | None:
        if not _is_number(value):
            return f"must be {allowed}, not {_kind(value)}"
        if zero and value == 0:
            return None
        if not low <= value <= high:  # also refuses NaN and infinities
            return f"must be {allowed}"
        return None

    return check


def _bool(value: Any) -> str | None:
    if not isinstance(value, bool):
        return "must be true or false"
    return None


def _builtin_energy_table(value: Any) -> str | None:
    names = builtin_energy_tables()
    if not isinstance(value, str) or value not in names:
        return f"must be a built-in energy table: one of {', '.join(names)}"
    return None


def _yaml_path_or_empty(value: Any) -> str | None:
    if not isinstance(value, str) or (value and not value.endswith((".yaml", ".yml"))):
        return "must be empty or the path of a .yaml/.yml file of energy-table overrides"
    return None


@functools.cache
def builtin_energy_tables() -> tuple[str, ...]:
    """Names of the energy tables shipped in ``simulator/data/energy_<name>.yaml``."""
    files = resources.files("simulator").joinpath("data").iterdir()
    return tuple(
        sorted(
            f.name.removeprefix("energy_").removesuffix(".yaml")
            for f in files
            if f.name.startswith("energy_") and f.name.endswith(".yaml")
        )
    )


def parse_nm_patterns(value: Any) -> tuple[NMPattern, ...]:
    """``["2:4", "1:4"]`` or ``"2:4, 1:4"`` -> ``(NMPattern(2, 4), NMPattern(1, 4))``.

    Raises ``ValueError`` on a malformed pattern; the order is kept, duplicates dropped.
    """
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        raise ValueError("must be a list of 'N:M' patterns such as ['2:4', '1:4']")
    return tuple(dict.fromkeys(NMPattern.parse(item) for item in value))


def _nm_patterns(value: Any) -> str | None:
    try:
        patterns = parse_nm_patterns(value)
    except ValueError as exc:
        return str(exc)
    if len({p.m for p in patterns}) > 1:
        return "must share one M (the array's group size), e.g. ['2:4', '1:4']"
    dense = [str(p) for p in patterns if p.is_dense]
    if dense:
        return f"holds {dense[0]}, which is dense: list sparse patterns with N < M"
    return None


def _enum(cls: type[StrEnum]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or value not in {member.value for member in cls}:
            return f"must be one of {', '.join(member.value for member in cls)}"
        return None

    return check


def _spec(
    check: Callable[[Any], str | None], doc: str, parse: Callable[[Any], Any] | None = None
) -> dict[str, Any]:
    """A field's metadata: its ``check`` (the problem with a value, or None), its ``doc``,
    and ``parse``, which turns the textual forms YAML leaves as strings into values
    (``"64 KiB"``, ``"1.5e3"``) before the check."""
    return {"check": check, "doc": doc, "parse": parse}


def _sram(doc: str) -> dict[str, Any]:
    return _spec(_int_in(1, MAX_SRAM_BYTES, "bytes; or a size such as '64 KiB'"), doc, parse_bytes)


@dataclass(frozen=True)
class AcceleratorConfig:
    """A systolic-array accelerator: the array, its precision, buffers, DRAM and clock.

    Build it in code, with :meth:`from_dict`, :func:`load_config` (YAML or SCALE-Sim
    ``.cfg``), or derive variants with :meth:`replace`. Construction validates every
    field and raises :class:`ConfigError` on the first bad one.
    """

    rows: int = dataclasses.field(metadata=_spec(_int_in(1, _MAX_ARRAY_SIDE), "PE rows"))
    cols: int = dataclasses.field(metadata=_spec(_int_in(1, _MAX_ARRAY_SIDE), "PE columns"))
    dataflow: Dataflow = dataclasses.field(
        default=Dataflow.WS, metadata=_spec(_enum(Dataflow), "os, ws or is")
    )
    name: str = dataclasses.field(default="accelerator", metadata=_spec(_name, "config name"))
    pe_kind: PEKind = dataclasses.field(
        default=PEKind.DENSE, metadata=_spec(_enum(PEKind), "processing-element kind")
    )
    activation_bits: int = dataclasses.field(
        default=8, metadata=_spec(_int_in(1, 32), "input activation width")
    )
    weight_bits: int = dataclasses.field(default=8, metadata=_spec(_int_in(1, 32), "weight width"))
    accumulator_bits: int = dataclasses.field(
        default=32, metadata=_spec(_int_in(2, 64), "accumulator / partial-sum width")
    )
    accumulator_overflow: Overflow = dataclasses.field(
        default=Overflow.WRAP, metadata=_spec(_enum(Overflow), "wrap or saturate")
    )
    ifmap_sram_bytes: int = dataclasses.field(
        default=64 * KIB, metadata=_sram("input-activation buffer")
    )
    filter_sram_bytes: int = dataclasses.field(default=64 * KIB, metadata=_sram("weight buffer"))
    ofmap_sram_bytes: int = dataclasses.field(
        default=64 * KIB, metadata=_sram("output / partial-sum buffer")
    )
    dram_bytes_per_cycle: float = dataclasses.field(
        default=16.0,
        metadata=_spec(
            _number_in(*DRAM_BYTES_PER_CYCLE_RANGE, "bytes per array cycle"),
            "DRAM bandwidth at the array clock",
            parse_number,
        ),
    )
    clock_mhz: float = dataclasses.field(
        default=1000.0,
        metadata=_spec(
            _number_in(*CLOCK_MHZ_RANGE, "MHz: 1 kHz to 100 GHz"), "array clock", parse_number
        ),
    )
    fold_schedule: FoldSchedule = dataclasses.field(
        default=FoldSchedule.SEQUENTIAL, metadata=_spec(_enum(FoldSchedule), "fold schedule")
    )
    stream_tiling: StreamTiling = dataclasses.field(
        default=StreamTiling.NONE,
        metadata=_spec(_enum(StreamTiling), "tiling of the streamed dimension (ws, is)"),
    )
    energy_table: str = dataclasses.field(
        default="horowitz45", metadata=_spec(_builtin_energy_table, "energy table name")
    )
    energy_overrides: str = dataclasses.field(
        default="", metadata=_spec(_yaml_path_or_empty, "YAML file overriding table entries")
    )
    sram_double_buffered: bool = dataclasses.field(
        default=True, metadata=_spec(_bool, "SRAMs prefetch the next tile into a second half")
    )
    zero_gating: bool = dataclasses.field(
        default=False, metadata=_spec(_bool, "gate the multiplier on a zero operand")
    )
    nm_patterns: tuple[NMPattern, ...] = dataclasses.field(
        default=(), metadata=_spec(_nm_patterns, "N:M patterns the nm PEs support")
    )
    weight_decoder: WeightDecoder = dataclasses.field(
        default=WeightDecoder.NONE,
        metadata=_spec(_enum(WeightDecoder), "decoder at each column's weight-load port"),
    )
    decoder_entries: int = dataclasses.field(
        default=256, metadata=_spec(_int_in(2, 1 << 16), "codebook entries")
    )
    decoder_vector_length: int = dataclasses.field(
        default=1, metadata=_spec(_int_in(1, 64), "weights per codebook entry")
    )
    decoder_entry_bits: int = dataclasses.field(
        default=8, metadata=_spec(_int_in(1, 32), "bits of one weight in a codebook entry")
    )
    scalesim_sparsity: ScaleSimSparsity = dataclasses.field(
        default=ScaleSimSparsity.NONE,
        metadata=_spec(_enum(ScaleSimSparsity), "SCALE-Sim's N:M semantics for scalesim_total"),
    )
    huffman_symbols_per_cycle: float = dataclasses.field(
        default=0.0,
        metadata=_spec(
            _number_in(*HUFFMAN_SYMBOLS_PER_CYCLE_RANGE, "symbols per cycle", zero="no decoder"),
            "Huffman decoder throughput (0: no decoder)",
            parse_number,
        ),
    )
    inter_layer_activations: InterLayerActivations = dataclasses.field(
        default=InterLayerActivations.DRAM,
        metadata=_spec(_enum(InterLayerActivations), "where outputs wait for the next layers"),
    )
    technology_nm: float = dataclasses.field(
        default=45,
        metadata=_spec(
            _number_in(*TECHNOLOGY_NM_RANGE, "nm"),
            "CMOS node energies and areas are scaled to (nm)",
            parse_number,
        ),
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            parse = f.metadata["parse"]
            if parse is not None and parse(value) is not value:
                value = parse(value)
                object.__setattr__(self, f.name, value)
            problem = f.metadata["check"](value)
            if problem:
                raise ConfigError(f.name, value, problem)
        for f in fields(self):
            enum_type = _ENUM_FIELDS.get(f.name)
            if enum_type is not None:
                object.__setattr__(self, f.name, enum_type(getattr(self, f.name)))
        object.__setattr__(self, "nm_patterns", parse_nm_patterns(self.nm_patterns))
        self._check_combinations()

    def _check_combinations(self) -> None:
        """Fields that only make sense together; the error names both."""
        self._check_buffers()
        if self.pe_kind is PEKind.NM and not self.nm_patterns:
            raise ConfigError(
                "nm_patterns", [], "pe_kind: nm needs the patterns it supports, e.g. ['2:4']"
            )
        if self.pe_kind is not PEKind.NM and self.nm_patterns:
            raise ConfigError(
                "nm_patterns",
                [str(p) for p in self.nm_patterns],
                f"needs pe_kind: nm (pe_kind is {self.pe_kind.value})",
            )
        if self.pe_kind is PEKind.NM and self.dataflow is not Dataflow.OS:
            most = max(self.nm_slots)
            if self.rows < most:
                raise ConfigError(
                    "rows",
                    self.rows,
                    f"an nm array in {self.dataflow.value} holds a row group of up to "
                    f"{most} rows (nm_patterns {', '.join(map(str, self.nm_patterns))}): "
                    f"rows must be at least {most}",
                )
        if self.weight_decoder is WeightDecoder.NONE:
            for name in ("decoder_entries", "decoder_vector_length", "decoder_entry_bits"):
                default = _FIELD_DEFAULTS[name]
                if getattr(self, name) != default:
                    raise ConfigError(
                        name,
                        getattr(self, name),
                        f"needs weight_decoder: codebook (weight_decoder is none; "
                        f"leave it at {default})",
                    )

    def _check_buffers(self) -> None:
        """Every buffer holds at least one word per PE (:func:`min_buffer_bytes`)."""
        least = min_buffer_bytes(self.rows, self.cols, self.activation_bits, self.weight_bits)
        for name, need in least.items():
            if getattr(self, name) < need:
                bits = self.weight_bits if name == "filter_sram_bytes" else self.activation_bits
                raise ConfigError(
                    name,
                    getattr(self, name),
                    f"must hold at least one {bits}-bit word per PE: rows x cols = "
                    f"{self.rows} x {self.cols} = {self.rows * self.cols:,} PEs need at least "
                    f"{need:,} bytes",
                )

    def dense_baseline(self) -> AcceleratorConfig:
        """The same array with dense PEs: no N:M, no zero gating, no decoders."""
        sparse = (
            "pe_kind", "zero_gating", "nm_patterns", "weight_decoder", "decoder_entries",
            "decoder_vector_length", "decoder_entry_bits", "huffman_symbols_per_cycle",
        )  # fmt: skip
        return self.replace(**{name: _FIELD_DEFAULTS[name] for name in sparse})

    @property
    def nm_group(self) -> int:
        """The M of the supported N:M patterns (1 when the PEs are not ``nm``)."""
        return self.nm_patterns[0].m if self.nm_patterns else 1

    @property
    def nm_slots(self) -> tuple[int, ...]:
        """The supported N values, ascending (empty when the PEs are not ``nm``)."""
        return tuple(sorted(p.n for p in self.nm_patterns))

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.rows * self.cols

    @property
    def clock_hz(self) -> float:
        return self.clock_mhz * 1e6

    def replace(self, **changes: Any) -> AcceleratorConfig:
        """A copy with some fields changed, validated like a new config."""
        unknown = set(changes) - set(FIELD_NAMES)
        if unknown:
            key = min(unknown, key=str)
            raise ConfigError(key, changes[key], _unknown_hint(unknown))
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON-ready values (enums as strings)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.value if isinstance(value, StrEnum) else value
        # One string, so that sweep tables and CSV columns hold it in one cell.
        out["nm_patterns"] = ",".join(str(p) for p in self.nm_patterns)
        return out

    def to_yaml(self, path: str | Path | None = None) -> str:
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "") -> AcceleratorConfig:
        """Build from a mapping such as a parsed YAML file; unknown keys are errors."""
        if not isinstance(data, Mapping):
            raise ConfigError("<top level>", data, "must be a mapping of field: value", source)
        unknown = set(data) - set(FIELD_NAMES)
        if unknown:
            key = min(unknown, key=str)
            raise ConfigError(key, data[key], _unknown_hint(unknown), source)
        missing = [name for name in ("rows", "cols") if name not in data]
        if missing:
            raise ConfigError(missing[0], None, "is required", source)
        try:
            return cls(**data)
        except ConfigError as exc:
            raise ConfigError(exc.field, exc.value, exc.allowed, source) from None


def min_buffer_bytes(
    rows: int, cols: int, activation_bits: int = 8, weight_bits: int = 8
) -> dict[str, int]:
    """The smallest buffers a config allows, in bytes: one word per PE, a word being
    ``activation_bits`` in the input and output buffers (outputs leave at the activation
    width) and ``weight_bits`` in the weight buffer. A smaller buffer cannot even hold
    what the array itself holds."""
    pes = rows * cols
    return {
        "ifmap_sram_bytes": -(-pes * activation_bits // 8),
        "filter_sram_bytes": -(-pes * weight_bits // 8),
        "ofmap_sram_bytes": -(-pes * activation_bits // 8),
    }


_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "dataflow": Dataflow,
    "pe_kind": PEKind,
    "accumulator_overflow": Overflow,
    "fold_schedule": FoldSchedule,
    "stream_tiling": StreamTiling,
    "weight_decoder": WeightDecoder,
    "scalesim_sparsity": ScaleSimSparsity,
    "inter_layer_activations": InterLayerActivations,
}
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(AcceleratorConfig))
_FIELD_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(AcceleratorConfig)}
_FIELD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    f.name: f.metadata["check"] for f in fields(AcceleratorConfig)
}
_FIELD_PARSERS: dict[str, Callable[[Any], Any] | None] = {
    f.name: f.metadata["parse"] for f in fields(AcceleratorConfig)
}
COMBINATION_FIELDS: tuple[str, ...] = (
    "rows", "cols", "dataflow", "pe_kind", "nm_patterns", "weight_decoder", "decoder_entries",
    "decoder_vector_length", "decoder_entry_bits", "activation_bits", "weight_bits",
    "ifmap_sram_bytes", "filter_sram_bytes", "ofmap_sram_bytes",
)  # fmt: skip
"""The fields :meth:`AcceleratorConfig._check_combinations` reads (a test keeps it
complete): configs that agree on these agree on the combination checks."""


def field_problem(name: str, value: Any) -> str | None:
    """What construction says is wrong with ``value`` for field ``name`` (the field's own
    check, the ``allowed`` text of its :class:`ConfigError`), or None when it is allowed."""
    return _FIELD_CHECKS[name](_parsed(name, value))


def _parsed(name: str, value: Any) -> Any:
    """``value`` through the field's parse step, as construction applies it first."""
    parse = _FIELD_PARSERS[name]
    return value if parse is None else parse(value)


def normalized_field(name: str, value: Any) -> Any:
    """``value`` (allowed by :func:`field_problem`) as a built config holds it: parsed
    (``"64 KiB"``, ``"1.5e3"``), enum members for enum fields, parsed patterns for
    ``nm_patterns``."""
    value = _parsed(name, value)
    if name == "nm_patterns":
        return parse_nm_patterns(value)
    enum_type = _ENUM_FIELDS.get(name)
    return value if enum_type is None else enum_type(value)


def checked_variant(base: AcceleratorConfig, changes: Mapping[str, Any]) -> AcceleratorConfig:
    """``base`` with ``changes`` whose values already passed :func:`field_problem` and are
    :func:`normalized_field`: only the combination checks run (sweeps check each distinct
    field value once, and each distinct combination once, instead of every field of every
    point). Raises :class:`ConfigError` as construction would."""
    config = copy.copy(base)
    for name, value in changes.items():
        object.__setattr__(config, name, value)
    config._check_combinations()
    return config


def _unknown_hint(unknown: set[Any]) -> str:
    key = str(min(unknown, key=str))
    close = difflib.get_close_matches(key, FIELD_NAMES, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"is not a config field{hint}; allowed fields are {', '.join(FIELD_NAMES)}"


def load_config_yaml(path: str | Path) -> AcceleratorConfig:
    """Load an accelerator config from sparsa's YAML format.

    :func:`simulator.workloads.sources.load_config` also imports SCALE-Sim ``.cfg``
    files (exported as ``simulator.load_config``). The file must be UTF-8 text holding a
    mapping (:func:`compress.errors.load_yaml`); without a ``name`` the config is named
    after the file (its characters a name cannot hold become ``_``).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"accelerator config {path} does not exist")
    data = dict(load_yaml(path, "accelerator config"))
    data.setdefault("name", name_from_path(path))
    overrides = data.get("energy_overrides")
    if isinstance(overrides, str) and overrides:
        # A relative override path is relative to the config file, not the working directory.
        resolved = (path.parent / overrides).resolve()
        if not resolved.exists():  # a directory is named as such where the table is read
            where = f" ({resolved})" if str(resolved) != overrides else ""
            raise ConfigError(
                "energy_overrides",
                overrides,
                f"names no file{where}; a relative path is relative to the config file",
                str(path),
            )
        data["energy_overrides"] = str(resolved)
    return AcceleratorConfig.from_dict(data, source=str(path))


def name_from_path(path: str | Path, default: str = "accelerator") -> str:
    """A config name made of ``path``'s stem: characters a name cannot hold become ``_``."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", Path(path).stem).strip("_.-")
    return name or default
