"""Import SCALE-Sim's input files: topology CSVs (conv and GEMM forms) and ``.cfg`` configs.

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
from pathlib import Path

from simulator.config import KIB, AcceleratorConfig, ConfigError
from simulator.workloads.layer import Conv2d, Gemm, Layer, Workload, WorkloadError, parse_nm

__all__ = ["load_scalesim_cfg", "load_scalesim_topology"]

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


# SCALE-Sim 2.x/3.x keys: those we model map to a field; the rest are accepted and logged.
_MODELLED = {
    ("architecture_presets", "arrayheight"): "rows",
    ("architecture_presets", "arraywidth"): "cols",
    ("architecture_presets", "ifmapsramszkb"): "ifmap_sram_bytes",
    ("architecture_presets", "filtersramszkb"): "filter_sram_bytes",
    ("architecture_presets", "ofmapsramszkb"): "ofmap_sram_bytes",
    ("architecture_presets", "bandwidth"): "dram_bytes_per_cycle",
    ("architecture_presets", "dataflow"): "dataflow",
    ("general", "run_name"): "name",
}
_NOT_MODELLED = {
    "architecture_presets": {
        "ifmapoffset",
        "filteroffset",
        "ofmapoffset",
        "memorybanks",
        "readrequestbuffer",
        "writerequestbuffer",
    },
    "layout": {
        "ifmapcustomlayout",
        "ifmapsrambankbandwidth",
        "ifmapsrambanknum",
        "ifmapsrambankport",
        "filtercustomlayout",
        "filtersrambankbandwidth",
        "filtersrambanknum",
        "filtersrambankport",
    },
    "sparsity": {
        "sparsitysupport",
        "sparserep",
        "optimizedmapping",
        "blocksize",
        "randomnumbergeneratorseed",
    },
    "run_presets": {"interfacebandwidth", "usetramulatortrace", "useramulatortrace"},
    "general": set(),
}


def load_scalesim_cfg(path: str | Path) -> AcceleratorConfig:
    """Import a SCALE-Sim ``.cfg`` file as an :class:`AcceleratorConfig`.

    ``ArrayHeight/ArrayWidth`` become rows/cols, ``*SramSzkB`` (kB = 1024 bytes, one-byte
    words) the buffer sizes, ``Bandwidth`` (words per cycle) the DRAM bandwidth, and
    ``Dataflow`` the dataflow; SCALE-Sim's widths are 8-bit operands. Keys SCALE-Sim knows
    but sparsa does not model (offsets, banks, layout) are logged and ignored; keys it
    does not know are errors. ``SparsitySupport: true`` with ``OptimizedMapping: false``
    sets ``scalesim_sparsity: layerwise`` (a topology's N:M column then follows
    SCALE-Sim's layer-wise semantics in ``scalesim_total``; the PEs stay dense, as the
    cfg says nothing about them); row-wise mode (``OptimizedMapping: true``) is refused.
    """
    path = Path(path)
    parser = configparser.ConfigParser()
    try:
        parser.read_string(path.read_text())
    except configparser.Error as exc:
        raise ConfigError("<file>", str(path), f"is not a SCALE-Sim cfg file ({exc})") from None
    values: dict[str, object] = {}
    ignored = []
    for section in parser.sections():
        for key, raw in parser.items(section):
            target = _MODELLED.get((section.lower(), key))
            if target is not None:
                values[target] = raw.strip()
            elif key in _NOT_MODELLED.get(section.lower(), ()):
                ignored.append(f"{section}.{key}")
            else:
                raise ConfigError(
                    f"[{section}] {key}", raw, "is not a SCALE-Sim configuration key", str(path)
                )
    if ignored:
        log.info("%s: SCALE-Sim keys not modelled by sparsa: %s", path, ", ".join(ignored))
    data: dict[str, object] = {"name": values.pop("name", path.stem)}
    data.update(_sparsity(parser, path))
    for name, text in values.items():
        data[name] = _cfg_value(name, str(text), path)
    return AcceleratorConfig.from_dict(data, source=str(path))


def _sparsity(parser: configparser.ConfigParser, path: Path) -> dict[str, object]:
    """``scalesim_sparsity`` from the ``[sparsity]`` section (see :func:`load_scalesim_cfg`)."""
    if not parser.has_section("sparsity"):
        return {}
    section = parser["sparsity"]
    support = section.get("sparsitysupport", "false").strip().lower()
    if support not in ("true", "false"):
        raise ConfigError("SparsitySupport", support, "must be true or false", str(path))
    if support == "false":
        return {}
    optimized = section.get("optimizedmapping", "false").strip().lower()
    if optimized == "true":
        raise ConfigError(
            "OptimizedMapping",
            "true",
            "SCALE-Sim's row-wise sparsity is not supported (its timing ignores the "
            "per-row patterns); use OptimizedMapping: false (layer-wise)",
            str(path),
        )
    return {"scalesim_sparsity": "layerwise"}


def _cfg_value(name: str, text: str, path: Path) -> object:
    if name == "dataflow":
        return text.lower()
    try:
        number = float(text)
    except ValueError:
        raise ConfigError(name, text, "must be a number in a SCALE-Sim cfg", str(path)) from None
    if name.endswith("_sram_bytes"):
        return int(number * KIB) if (number * KIB).is_integer() else number * KIB
    if name in ("rows", "cols"):
        return int(number) if number.is_integer() else number
    return number
