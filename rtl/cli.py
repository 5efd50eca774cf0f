"""``sparsa verilog``: export an accelerator config as Verilog, params.json and a C header.

Registered with the simulator's CLI through the ``sparsa.commands`` entry point, so the
simulator never imports this package. Registering imports neither Amaranth nor the model;
the command imports them when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from compress.errors import InputError
from rtl.cache import default_cache_dir
from rtl.params import DEFAULT_STREAM_BITS, MAX_STREAM_BITS, RtlParams

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
    cmd.add_argument("--out", required=True, type=Path, help="output directory")
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

    config = load_config(args.accel)
    params = RtlParams.from_config(config, stream_bits=args.stream_bits)
    result = write_outputs(params, args.out, use_cache=not args.no_cache)
    print(f"top       {describe(params)}")
    unbuilt = unbuilt_schedule(config)
    if unbuilt:
        print(f"note      {unbuilt}")
    cached = " (from the cache)" if result.cache_hit else ""
    print(f"wrote     {result.verilog}{cached}, {result.params_json}, {result.header}")
    if args.stats:
        _print_stats(params)
    return 0
