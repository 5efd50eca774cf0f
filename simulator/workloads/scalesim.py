"""Import SCALE-Sim's input files: topology CSVs (conv and GEMM forms) and ``.cfg`` configs.

Configs: every key of SCALE-Sim v1 (ARM-software/SCALE-Sim), v2 and v3
(scalesim-project) is accepted; what sparsa models becomes an
:class:`~simulator.config.AcceleratorConfig` field, the rest is reported (see
:func:`read_scalesim_cfg` for the table and the ``Bandwidth`` semantics).

Topology conventions followed exactly (SCALE-Sim 2.x/3.x ``topology_utils``):

- the first line is a header; every row ends with a trailing comma, and SCALE-Sim drops
  the last field of each row (a row without the trailing comma is read in full here);
- conv rows: ``name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters,
  stride[, stride_w][, N:M]``. There is no padding column: the ifmap sizes are taken as
  already padded, and ``out = ceil((ifmap - filter + stride) / stride)`` counts a last
  partial window (``Conv2d(ceil_mode=True)``);
- a conv whose name contains ``DP`` is depthwise: SCALE-Sim runs it as ``channels``
  separate single-channel convs with ``num_filters`` filters each, which is a grouped
  conv with ``groups = channels`` here;
- GEMM rows (header ``..., M, N, K``): ``name, M, N, K[, N:M]``;
- the optional sparsity column holds ``N:M`` (``1:1`` is dense).
"""

from __future__ import annotations

import configparser
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from simulator.config import KIB, AcceleratorConfig, ConfigError, ScaleSimSparsity
from simulator.workloads.layer import Conv2d, Gemm, Layer, Workload, WorkloadError, parse_nm

__all__ = [
    "CFG_DEFAULT_CLOCK_MHZ",
    "STALL_FREE_DRAM_BYTES_PER_CYCLE",
    "BandwidthMode",
    "ScaleSimConfig",
    "SparsitySection",
    "load_scalesim_cfg",
    "load_scalesim_topology",
    "read_scalesim_cfg",
]

log = logging.getLogger(__name__)


def _split_row(line: str) -> list[str]:
    fields = [f.strip() for f in line.split(",")]
    if fields and fields[-1] == "":
        fields = fields[:-1]
    return fields


def _int(where: str, name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise WorkloadError(f"{where}: {name} must be an integer, not {text!r}") from None


def load_scalesim_topology(path: str | Path, form: str = "auto", batch: int = 1) -> Workload:
    """Read a SCALE-Sim topology CSV into a :class:`Workload`.

    Parameters
    ----------
    path : path
        The CSV file.
    form : {"auto", "conv", "gemm"}
        ``auto`` picks ``gemm`` when the header's columns 2-4 are ``M, N, K``.
    batch : int
        Samples per inference (SCALE-Sim itself has no batch).
    """
    path = Path(path)
    if form not in ("auto", "conv", "gemm"):
        raise WorkloadError(f"topology form must be auto, conv or gemm, not {form!r}")
    lines = [line.strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2:
        raise WorkloadError(f"topology {path}: needs a header line and at least one layer row")
    header = [h.lower() for h in _split_row(lines[0])]
    if form == "auto":
        form = "gemm" if header[1:4] == ["m", "n", "k"] else "conv"
    layers = []
    for lineno, line in enumerate(lines[1:], start=2):
        fields = _split_row(line)
        where = f"topology {path.name} line {lineno}"
        nm = None
        if fields and ":" in fields[-1]:
            nm = parse_nm(fields[-1], where)
            fields = fields[:-1]
        name = fields[0]
        if form == "gemm":
            if len(fields) != 4:
                raise WorkloadError(
                    f"{where}: a GEMM row needs name, M, N, K, got {len(fields)} fields"
                )
            m, n, k = (_int(where, col, v) for col, v in zip("MNK", fields[1:], strict=True))
            op = Gemm(m=m, n=n, k=k)
        else:
            op = _conv_row(where, fields)
        layers.append(Layer(name=name, op=op, batch=batch, nm=nm))
    return Workload(name=path.stem, layers=tuple(layers), source=str(path))


def _conv_row(where: str, fields: list[str]) -> Conv2d:
    if len(fields) not in (8, 9):
        raise WorkloadError(
            f"{where}: a conv row needs name, ifmap_h, ifmap_w, filter_h, filter_w, channels, "
            f"num_filters, stride[, stride_w], got {len(fields)} fields"
        )
    names = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride_h")
    h, w, r, s, c, k, stride_h = (
        _int(where, n, v) for n, v in zip(names, fields[1:8], strict=True)
    )
    stride_w = _int(where, "stride_w", fields[8]) if len(fields) == 9 else stride_h
    try:
        groups = c if "DP" in fields[0] else 1
        filters = c * k if groups > 1 else k
        return Conv2d(
            h=h,
            w=w,
            c=c,
            k=filters,
            r=r,
            s=s,
            stride=(stride_h, stride_w),
            groups=groups,
            ceil_mode=True,
        )
    except WorkloadError as exc:
        raise WorkloadError(f"{where}: {exc}") from None


# --------------------------------------------------------------------------- configs

CFG_DEFAULT_CLOCK_MHZ = 1000.0
"""The clock of an imported cfg (SCALE-Sim counts cycles and has no clock): sparsa's default."""

STALL_FREE_DRAM_BYTES_PER_CYCLE = 1e15
"""The DRAM bandwidth that stands for SCALE-Sim's CALC mode, which is stall-free by
construction: at 10^15 bytes per cycle no layer whose tiles are under 500 MB stalls a
single cycle in :func:`simulator.model.memory.stall_cycles`."""


class BandwidthMode(StrEnum):
    """SCALE-Sim's ``[run_presets] InterfaceBandwidth``.

    ``CALC``: SCALE-Sim ignores ``Bandwidth`` and computes the DRAM bandwidth each
    buffer needs to never stall (``read_buffer_estimate_bw.py``: "In estimate mode,
    operation is stall free"). ``USER``: each buffer's DRAM interface moves the first
    ``Bandwidth`` value in words per cycle.
    """

    CALC = "CALC"
    USER = "USER"


@dataclass(frozen=True)
class SparsitySection:
    """SCALE-Sim's ``[sparsity]`` section as written, kept for the sparse timing model.

    ``support`` (``SparsitySupport``), ``representation`` (``SparseRep``, e.g.
    ``ellpack_block``), ``optimized_mapping`` (``OptimizedMapping``), ``block_size``
    (``BlockSize``, the M of its layer-wise N:M) and ``seed``
    (``RandomNumberGeneratorSeed``); None where the file leaves a key out. With
    ``support`` (layer-wise, ``optimized_mapping`` false) the imported config gets
    ``scalesim_sparsity: layerwise``: the layers' ``N:M`` column then follows SCALE-Sim's
    layer-wise semantics in ``scalesim_total``, and the PEs stay as the config says.
    """

    support: bool = False
    representation: str = ""
    optimized_mapping: bool = False
    block_size: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class ScaleSimConfig:
    """An imported SCALE-Sim cfg: the accelerator and what the file said beyond it.

    ``config``: the :class:`AcceleratorConfig` sparsa runs. ``bandwidth_mode`` and
    ``bandwidth_words_per_cycle`` (every value of ``Bandwidth``, empty when absent) as
    written; ``sparsity`` the ``[sparsity]`` section; ``not_modelled``: every key sparsa
    accepts but does not model, as ``"[section] Key = value"``; ``notes``: one sentence
    each on what the import assumed or left out (the clock, the bandwidth, those keys), for
    the report.
    """

    config: AcceleratorConfig
    bandwidth_mode: BandwidthMode
    bandwidth_words_per_cycle: tuple[int, ...]
    sparsity: SparsitySection
    not_modelled: tuple[str, ...]
    notes: tuple[str, ...]


# What sparsa models: (section, lower-case key) -> the field or setting it feeds. SCALE-Sim
# v1 spells the buffer sizes ``IfmapSramSz`` (also kB: its run_nets.py multiplies by 1024).
_MODELLED = {
    ("architecture_presets", "arrayheight"): "rows",
    ("architecture_presets", "arraywidth"): "cols",
    ("architecture_presets", "ifmapsramszkb"): "ifmap_sram_bytes",
    ("architecture_presets", "filtersramszkb"): "filter_sram_bytes",
    ("architecture_presets", "ofmapsramszkb"): "ofmap_sram_bytes",
    ("architecture_presets", "ifmapsramsz"): "ifmap_sram_bytes",
    ("architecture_presets", "filtersramsz"): "filter_sram_bytes",
    ("architecture_presets", "ofmapsramsz"): "ofmap_sram_bytes",
    ("architecture_presets", "bandwidth"): "bandwidth",
    ("architecture_presets", "dataflow"): "dataflow",
    ("general", "run_name"): "name",
    ("run_presets", "interfacebandwidth"): "bandwidth_mode",
}
# Modelled keys a file may leave out (SCALE-Sim v1's root scale.cfg has no Dataflow).
_DEFAULTED = {
    "Dataflow": "dataflow",
    "IfmapSramSzkB": "ifmap_sram_bytes",
    "FilterSramSzkB": "filter_sram_bytes",
    "OfmapSramSzkB": "ofmap_sram_bytes",
}
# SCALE-Sim v3's SRAM layout and bank model, whose keys v2-era files also put under
# [architecture_presets].
_LAYOUT_KEYS = frozenset(
    f"{operand}{key}"
    for operand in ("ifmap", "filter")
    for key in ("customlayout", "srambankbandwidth", "srambanknum", "srambankport")
)
# Accepted and reported as not modelled, with the reason the report gives.
_NOT_MODELLED = {
    "architecture_presets": {
        **dict.fromkeys(("ifmapoffset", "filteroffset", "ofmapoffset"), "DRAM trace addresses"),
        "memorybanks": "DRAM banks",
        "onchipmemorybanks": "SRAM bank conflicts",
        "onchipmemorybankports": "SRAM bank conflicts",
        **dict.fromkeys(("readrequestbuffer", "writerequestbuffer"), "Ramulator request queues"),
        **dict.fromkeys(_LAYOUT_KEYS, "SRAM layouts and bank conflicts"),
    },
    "layout": dict.fromkeys(_LAYOUT_KEYS, "SRAM layouts and bank conflicts"),
    "sparsity": dict.fromkeys(
        (
            "sparsitysupport",
            "sparserep",
            "optimizedmapping",
            "blocksize",
            "nonzeroelems",
            "randomnumbergeneratorseed",
        ),
        "SCALE-Sim's sparse timing",
    ),
    "run_presets": {
        **dict.fromkeys(("useramulatortrace", "usetramulatortrace"), "Ramulator DRAM traces"),
        **dict.fromkeys(
            ("sram_row_size", "sram_bank_size", "dram_row_size", "dram_bank_size"),
            "SRAM and DRAM row and bank geometry",
        ),
    },
    "network_presets": {"topologycsvloc": "the topology path (the workload is --workload)"},
    "general": {},
}
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def read_scalesim_cfg(path: str | Path) -> ScaleSimConfig:
    """Import a SCALE-Sim v1, v2 or v3 ``.cfg`` file (every config SCALE-Sim ships imports).

    Modelled: ``ArrayHeight``/``ArrayWidth`` (rows, cols; a v1 ``min,max`` sweep range
    takes its first value, as v1's ``run_once``), ``IfmapSramSzkB`` etc. (v1:
    ``IfmapSramSz``; kB = 1024 one-byte words), ``Dataflow``, ``run_name`` and the DRAM
    bandwidth, which follows SCALE-Sim's ``InterfaceBandwidth`` (``scale_config.py``,
    ``single_layer_sim.py`` of scalesim-project/scale-sim-v3):

    - ``CALC`` (and files without the key, such as v1's, which compute the bandwidth they
      need): ``Bandwidth`` is not read and the run is stall-free, so the DRAM is
      :data:`STALL_FREE_DRAM_BYTES_PER_CYCLE` wide;
    - ``USER``: ``dram_bytes_per_cycle`` is the first ``Bandwidth`` value (SCALE-Sim uses
      ``bws[0]``; a word is one byte). SCALE-Sim gives each of its three buffers (ifmap,
      filter, ofmap) its own interface of that width; sparsa's one DRAM port of that width
      is shared by the three operands, so it stalls as much as SCALE-Sim when one
      operand's traffic dominates and up to three times as long when all three stream
      at once.

    Accepted and reported, not modelled: offsets, DRAM and SRAM banks and ports, layouts,
    request buffers, Ramulator traces, bank and row sizes, the topology path and the
    ``[sparsity]`` section (kept in :attr:`ScaleSimConfig.sparsity`). A cfg has no clock:
    :data:`CFG_DEFAULT_CLOCK_MHZ`. Keys SCALE-Sim does not know, duplicate keys (which
    SCALE-Sim's ``ConfigParser`` refuses too) and bad values raise :class:`ConfigError`.
    """
    path = Path(path)
    values, skipped, sparse = _entries(path)
    mode = _bandwidth_mode(values.pop("bandwidth_mode", ""), path)
    bandwidths = _bandwidths(values.pop("bandwidth", ""), path)
    data: dict[str, object] = {"name": _run_name(values.pop("name", ""), path)}
    notes = [
        f"A SCALE-Sim cfg has no clock: {CFG_DEFAULT_CLOCK_MHZ:g} MHz, sparsa's default "
        "(`sparsa simulate --clock-mhz` sets it)."
    ]
    for name, text in values.items():
        data[name], note = _cfg_value(name, text, path)
        notes += [note] if note else []
    missing = {key: name for key, name in _DEFAULTED.items() if name not in values}
    data["dram_bytes_per_cycle"], more = _dram_bandwidth(mode, bandwidths, path)
    config = AcceleratorConfig.from_dict(data, source=str(path))
    if missing:
        given = ", ".join(f"{key} {_plain(getattr(config, name))}" for key, name in missing.items())
        notes.append(f"Not in the file, so sparsa's defaults: {given}.")
    sparsity = _sparsity(sparse, path)
    if sparsity.support:
        if sparsity.optimized_mapping:
            raise ConfigError(
                "OptimizedMapping",
                "true",
                "SCALE-Sim's row-wise sparsity is not supported (its timing ignores the "
                "per-row patterns); use OptimizedMapping: false (layer-wise)",
                str(path),
            )
        config = config.replace(scalesim_sparsity=ScaleSimSparsity.LAYERWISE)
        more.append(
            "SparsitySupport is true (layer-wise): scalesim_total follows SCALE-Sim's N:M "
            "semantics, which keep the same N of every M positions of k for every filter; "
            "the physical model runs the layers on the configured PEs (dense here)."
        )
    by_reason: dict[str, list[str]] = {}
    for key, reason in skipped.values():
        by_reason.setdefault(reason, []).append(key)
    if by_reason:
        listed = "; ".join(f"{why} ({', '.join(keys)})" for why, keys in by_reason.items())
        more.append(f"Accepted, not modelled: {listed}.")
    return ScaleSimConfig(config, mode, bandwidths, sparsity, tuple(skipped), (*notes, *more))


def load_scalesim_cfg(path: str | Path) -> AcceleratorConfig:
    """The :class:`AcceleratorConfig` of a SCALE-Sim cfg (:func:`read_scalesim_cfg`), with
    what the import assumed or left out logged (warnings when it changes results)."""
    imported = read_scalesim_cfg(path)
    for note in imported.notes:
        changes_results = note.startswith(("SparsitySupport", "USER"))
        log.log(logging.WARNING if changes_results else logging.INFO, "%s: %s", path, note)
    return imported.config


_Skipped = dict[str, tuple[str, str]]


def _entries(path: Path) -> tuple[dict[str, str], _Skipped, dict[str, str]]:
    """Every key of the file, sorted: modelled values by target, the not-modelled ones
    (``"[section] Key = value"`` -> ``(Key, reason)``) and the ``[sparsity]`` section."""
    parser = configparser.ConfigParser()
    parser.optionxform = str  # keep SCALE-Sim's spelling for the report; match lower-cased
    try:
        parser.read_string(path.read_text())
    except configparser.Error as exc:
        raise ConfigError("<file>", str(path), f"is not a SCALE-Sim cfg file ({exc})") from None
    values: dict[str, str] = {}
    skipped: _Skipped = {}
    sparse: dict[str, str] = {}
    for section in parser.sections():
        where = section.lower()
        for key, raw in parser.items(section):
            text, lower = raw.strip().strip('"').strip(), key.lower()
            target = _MODELLED.get((where, lower))
            reason = _NOT_MODELLED.get(where, {}).get(lower)
            if target is not None:
                values[target] = text
            elif reason is not None:
                skipped[f"[{section}] {key} = {text}"] = (key, reason)
            else:
                raise ConfigError(
                    f"[{section}] {key}", raw, "is not a SCALE-Sim configuration key", str(path)
                )
            if where == "sparsity":
                sparse[lower] = text
    return values, skipped, sparse


def _plain(value: object) -> str:
    return str(getattr(value, "value", value))


def _bandwidth_mode(text: str, path: Path) -> BandwidthMode:
    if not text:
        return BandwidthMode.CALC
    try:
        return BandwidthMode(text.upper())
    except ValueError:
        raise ConfigError(
            "[run_presets] InterfaceBandwidth", text, "must be CALC or USER", str(path)
        ) from None


def _bandwidths(text: str, path: Path) -> tuple[int, ...]:
    """``Bandwidth``: one or more comma-separated positive integers (words per cycle)."""
    if not text:
        return ()
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise ConfigError(
            "[architecture_presets] Bandwidth",
            text,
            "must be positive integers (words per cycle), comma-separated",
            str(path),
        )
    return values


def _dram_bandwidth(
    mode: BandwidthMode, bandwidths: tuple[int, ...], path: Path
) -> tuple[float, list[str]]:
    """``dram_bytes_per_cycle`` for SCALE-Sim's bandwidth mode, and what the report says."""
    if mode is BandwidthMode.CALC:
        ignored = (
            f" (Bandwidth = {','.join(map(str, bandwidths))} is not read)" if bandwidths else ""
        )
        return STALL_FREE_DRAM_BYTES_PER_CYCLE, [
            f"CALC bandwidth mode: SCALE-Sim computes the DRAM bandwidth that never stalls"
            f"{ignored}, so DRAM is {STALL_FREE_DRAM_BYTES_PER_CYCLE:.0e} B/cycle here and no "
            "layer stalls; DRAM traffic and energy are still counted. Use InterfaceBandwidth: "
            "USER for a bandwidth limit."
        ]
    if not bandwidths:
        raise ConfigError(
            "[architecture_presets] Bandwidth",
            None,
            "is required with InterfaceBandwidth: USER",
            str(path),
        )
    notes = [
        f"USER bandwidth mode: SCALE-Sim gives each of its ifmap, filter and ofmap buffers "
        f"its own {bandwidths[0]}-word/cycle DRAM interface; sparsa's one DRAM port of "
        f"{bandwidths[0]} B/cycle is shared by the three operands (per-buffer interfaces are "
        "not modelled), so layers where more than one operand streams can stall up to 3x "
        "longer than in SCALE-Sim."
    ]
    if len(bandwidths) > 1:
        notes.append(
            f"Bandwidth lists {len(bandwidths)} values; SCALE-Sim uses the first "
            f"({bandwidths[0]}), and so does sparsa."
        )
    return float(bandwidths[0]), notes


def _run_name(text: str, path: Path) -> str:
    """``run_name`` as a config name: characters a name cannot hold become ``_``."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", text).strip("_.-")
    return name or path.stem


def _sparsity(section: dict[str, str], path: Path) -> SparsitySection:
    """The ``[sparsity]`` section's values (lower-case keys), checked, as written."""

    def flag(key: str) -> bool:
        text = section.get(key, "false").lower()
        if text not in _TRUE + _FALSE:
            raise ConfigError(f"[sparsity] {key}", text, "must be true or false", str(path))
        return text in _TRUE

    def integer(key: str) -> int | None:
        text = section.get(key, "")
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"[sparsity] {key}", text, "must be an integer", str(path)) from None

    return SparsitySection(
        support=flag("sparsitysupport"),
        representation=section.get("sparserep", ""),
        optimized_mapping=flag("optimizedmapping"),
        block_size=integer("blocksize"),
        seed=integer("randomnumbergeneratorseed"),
    )


def _cfg_value(name: str, text: str, path: Path) -> tuple[object, str]:
    """A modelled key's value, and a note when the import changed what was written."""
    if name == "dataflow":
        return text.lower(), ""
    first, *rest = (part.strip() for part in text.split(","))
    note = (
        f"{name} gives a sweep range ({text}); SCALE-Sim runs its first value, {first}."
        if rest
        else ""
    )
    try:
        number = float(first)
    except ValueError:
        raise ConfigError(name, text, "must be a number in a SCALE-Sim cfg", str(path)) from None
    if name.endswith("_sram_bytes"):
        number *= KIB
    return (int(number) if number.is_integer() else number), note
