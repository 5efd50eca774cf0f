"""Import SCALE-Sim's input files: ``.cfg`` configs, and topology CSVs
(:mod:`simulator.workloads.scalesim_topology`, re-exported here).

Configs: every key of SCALE-Sim v1 (ARM-software/SCALE-Sim), v2 and v3
(scalesim-project) is accepted; what sparsa models becomes an
:class:`~simulator.config.AcceleratorConfig` field, the rest is reported (see
:func:`read_scalesim_cfg` for the table and the ``Bandwidth`` semantics). The file is
read as SCALE-Sim's ``configparser.ConfigParser`` reads it (``key = value`` or
``key: value``, keys in any case, whole-line ``#`` and ``;`` comments, a ``[DEFAULT]``
section whose keys every section inherits), except that ``%`` is an ordinary character
(no interpolation) and section names may be in any case.
"""

from __future__ import annotations

import configparser
import logging
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from compress.errors import InputError, read_text
from simulator.config import KIB, AcceleratorConfig, ConfigError, ScaleSimSparsity
from simulator.workloads.scalesim_topology import load_scalesim_topology

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
        # SCALE-Sim 2 and 3 read TopologyCsvLoc from [architecture_presets] when the file
        # has a [network_presets] section (scale_config.py), so valid files hold it here.
        "topologycsvloc": "the topology path (the workload is --workload)",
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
    values, origin, skipped, sparse = _entries(path)
    mode = _bandwidth_mode(values.pop("bandwidth_mode", ""), path)
    bandwidths = _bandwidths(values.pop("bandwidth", ""), path)
    config, notes, more = _accelerator(values, origin, mode, bandwidths, path)
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


def _accelerator(
    values: dict[str, str],
    origin: dict[str, str],
    mode: BandwidthMode,
    bandwidths: tuple[int, ...],
    path: Path,
) -> tuple[AcceleratorConfig, list[str], list[str]]:
    """The config of the modelled values, the notes on what the import assumed and the
    bandwidth notes; a bad value raises :class:`ConfigError` naming its section and key."""
    for name, key in (("rows", "ArrayHeight"), ("cols", "ArrayWidth")):
        if name not in values:
            raise ConfigError(f"[architecture_presets] {key}", None, "is required", str(path))
    data: dict[str, object] = {"name": _run_name(values.pop("name", ""), path)}
    notes = [
        f"A SCALE-Sim cfg has no clock: {CFG_DEFAULT_CLOCK_MHZ:g} MHz, sparsa's default "
        "(`sparsa simulate --clock-mhz` sets it)."
    ]
    for name, text in values.items():
        data[name], note = _cfg_value(name, text, origin[name], path)
        notes += [note] if note else []
    missing = {key: name for key, name in _DEFAULTED.items() if name not in values}
    data["dram_bytes_per_cycle"], more = _dram_bandwidth(mode, bandwidths, path)
    default = "(not in the file: sparsa's default)"
    origin |= {name: f"[architecture_presets] {key} {default}" for key, name in missing.items()}
    if mode is BandwidthMode.USER:
        origin["dram_bytes_per_cycle"] = origin["bandwidth"]
    try:
        config = AcceleratorConfig.from_dict(data, source=str(path))
    except ConfigError as exc:
        raise _from_file(exc, origin, values, path) from None
    if missing:
        given = ", ".join(f"{key} {_plain(getattr(config, name))}" for key, name in missing.items())
        notes.append(f"Not in the file, so sparsa's defaults: {given}.")
    return config, notes, more


def _from_file(exc: ConfigError, origin: dict[str, str], values: dict[str, str], path: Path):
    """``exc`` (about a config field) restated for the cfg key that set the field."""
    key = origin.get(exc.field)
    if key is None:
        return exc
    written = values.get(exc.field, exc.value)
    gives = f"gives {exc.field} = {exc.value!r}, which " if str(written) != str(exc.value) else ""
    return ConfigError(f"{key} ({exc.field})", written, gives + exc.allowed, str(path))


def load_scalesim_cfg(path: str | Path) -> AcceleratorConfig:
    """The :class:`AcceleratorConfig` of a SCALE-Sim cfg (:func:`read_scalesim_cfg`), with
    what the import assumed or left out logged (warnings when it changes results)."""
    imported = read_scalesim_cfg(path)
    for note in imported.notes:
        changes_results = note.startswith(("SparsitySupport", "USER"))
        log.log(logging.WARNING if changes_results else logging.INFO, "%s: %s", path, note)
    return imported.config


_Skipped = dict[str, tuple[str, str]]


def _entries(path: Path) -> tuple[dict[str, str], dict[str, str], _Skipped, dict[str, str]]:
    """Every key of the file, sorted: modelled values by target and the key that set each
    (``"[section] Key"``), the not-modelled ones (``"[section] Key = value"`` -> ``(Key,
    reason)``) and the ``[sparsity]`` section (lower-case keys)."""
    values: dict[str, str] = {}
    origin: dict[str, str] = {}
    skipped: _Skipped = {}
    sparse: dict[str, str] = {}
    for section, entries in _sections(path).items():
        where = section.lower()
        for key, raw in entries.items():
            text, lower = raw.strip().strip('"').strip(), key.lower()
            target = _MODELLED.get((where, lower))
            reason = _NOT_MODELLED.get(where, {}).get(lower)
            if target is not None:
                values[target], origin[target] = text, f"[{section}] {key}"
            elif reason is not None:
                skipped[f"[{section}] {key} = {text}"] = (key, reason)
            else:
                raise ConfigError(
                    f"[{section}] {key}", raw, "is not a SCALE-Sim configuration key", str(path)
                )
            if where == "sparsity":
                sparse[lower] = text
    return values, origin, skipped, sparse


# configparser's own DEFAULT section would copy its keys into every section before we see
# them; with this name (which no file uses) [DEFAULT] is read as written and merged here.
_NO_DEFAULT_SECTION = "\0sparsa: no default section"


def _known(section: str, key: str) -> bool:
    return (section, key) in _MODELLED or key in _NOT_MODELLED.get(section, {})


def _sections(path: Path) -> dict[str, dict[str, str]]:
    """The file's sections and their ``key: value`` entries as SCALE-Sim's ConfigParser
    reads them, without ``%`` interpolation; a ``[DEFAULT]`` key goes to every section of
    the file that knows it (and does not set it). A key given twice in one section, in any
    case, is an error, as in SCALE-Sim."""
    parser = configparser.ConfigParser(interpolation=None, default_section=_NO_DEFAULT_SECTION)
    parser.optionxform = str  # keep SCALE-Sim's spelling for the report; match lower-cased
    try:
        parser.read_string(read_text(path, "SCALE-Sim config"), source=str(path))
    except configparser.Error as exc:
        problem = " ".join(str(exc).split())
        raise InputError(f"SCALE-Sim config {path} is not a cfg file: {problem}") from None
    sections: dict[str, dict[str, str]] = {}
    for name in parser.sections():
        entries = sections.setdefault(name, {})
        for key, raw in parser.items(name):
            twice = [k for k in entries if k.lower() == key.lower()]
            if twice:
                raise ConfigError(
                    f"[{name}] {key}", raw, f"is given twice (also as {twice[0]})", str(path)
                )
            entries[key] = raw
    defaults = sections.pop("DEFAULT", {})
    for key, raw in defaults.items():
        targets = [name for name in sections if _known(name.lower(), key.lower())]
        if not targets:
            raise ConfigError(
                f"[DEFAULT] {key}", raw, "is not a SCALE-Sim configuration key", str(path)
            )
        for name in targets:
            if all(k.lower() != key.lower() for k in sections[name]):
                sections[name][key] = raw
    return sections


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


def _cfg_value(name: str, text: str, key: str, path: Path) -> tuple[object, str]:
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
        hint = " (comments must be on lines of their own)" if "#" in text or ";" in text else ""
        raise ConfigError(f"{key} ({name})", text, f"must be a number{hint}", str(path)) from None
    if name.endswith("_sram_bytes"):
        number *= KIB
    if not math.isfinite(number):
        raise ConfigError(f"{key} ({name})", text, "must be a finite number", str(path))
    return (int(number) if number.is_integer() else number), note
