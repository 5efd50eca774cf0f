"""A functional model of the engine's array and decoders, for testing without a simulator.

:func:`fold_outputs` computes what the array gives for one fold's packed beats (lane
router, position multiplexers, the overflow rule at every PE), :func:`decode_lookups`
what a column's decoder emits for its lookups, and :func:`run_functional` runs a whole
:class:`~rtl.driver.GemmRun` through them. They read the beats exactly as the RTL does,
so they test the driver's tiling and packing; they are no substitute for the benches.
"""

from __future__ import annotations

import numpy as np

from compress.fixedpoint import accumulate_step
from rtl.decoder import codebook_layout, lookup_layout
from rtl.driver import GemmRun
from rtl.engine import feed_layout, load_layout, out_layout, start_layout
from rtl.params import RtlParams
from rtl.payload import VectorPacker
from simulator.config import Dataflow

__all__ = ["decode_lookups", "fold_outputs", "run_functional"]


def _routed_lanes(params: RtlParams, lanes: np.ndarray, mode: int) -> np.ndarray:
    """``[rows, M]``: the lanes the router gives each PE row in ``mode``."""
    n, group = params.row_group_sizes[mode], params.nm_group
    out = np.zeros((params.rows, group), dtype=np.int64)
    if n == group:  # dense: lane r on every lane of row r
        out[:] = np.asarray(lanes[: params.rows])[:, None]
        return out
    for r in range((params.rows // n) * n):
        q = r // n
        out[r] = lanes[q * group : (q + 1) * group]
    return out


def fold_outputs(params: RtlParams, load: list[int], feed: list[int], mode: int = 0) -> list[int]:
    """What the array computes for one fold, without timing: packed outputs.

    ``load`` holds the fold's packed weight rows (ws, bottom row first), ``feed`` its
    packed feed beats, ``mode`` its row-group size index. Each step applies the overflow
    rule, as the PEs do.
    """
    rows, cols = params.rows, params.cols
    feed_packer = VectorPacker.from_layout(feed_layout(params))
    out_packer = VectorPacker.from_layout(out_layout(params))
    beats = [feed_packer.unpack(raw) for raw in feed]
    rule, bits = params.overflow, params.accumulator_bits
    if params.dataflow is Dataflow.OS:
        acc = np.zeros((rows, cols), dtype=np.int64)
        for beat in beats:
            acc = accumulate_step(acc, np.outer(beat["a"], beat["b"]), bits, rule)
        return [out_packer.pack(acc[r]) for r in range(rows)]
    load_packer = VectorPacker.from_layout(load_layout(params))
    unpacked = [load_packer.unpack(raw) for raw in reversed(load)]
    if params.nm_group == 1:
        weights = np.array(unpacked)
        positions = np.zeros(weights.shape, dtype=np.int64)
    else:
        weights = np.array([row["w"] for row in unpacked])
        positions = np.array([row["pos"] for row in unpacked])
    outputs = []
    for beat in beats:
        lanes = _routed_lanes(params, beat["a"], mode)
        operands = np.take_along_axis(lanes, positions, axis=1)  # [rows, cols]
        acc = beat["psum"]
        for r in range(rows):
            acc = accumulate_step(acc, operands[r] * weights[r], bits, rule)
        outputs.append(out_packer.pack(acc))
    return outputs


def decode_lookups(params: RtlParams, codebook: list[int], lookups: list[int]) -> list[tuple]:
    """What one column's decoder emits: ``(weight, position)`` per weight, in order."""
    table = np.zeros((params.decoder_entries, params.decoder_vector_length), dtype=np.int64)
    for raw in codebook:
        beat = VectorPacker.from_layout(codebook_layout(params)).unpack(raw)
        table[beat["index"]] = beat["entry"]
    packer = VectorPacker.from_layout(lookup_layout(params))
    out = []
    for raw in lookups:
        lookup = packer.unpack(raw)
        out.extend([(0, 0)] * lookup["pads"])
        for e in reversed(range(params.decoder_vector_length)):
            if lookup["mask"] >> e & 1:
                position = (lookup.get("offset", 0) + e) % params.nm_group
                out.append((int(table[lookup["index"], e]), position))
    return out


def _decoded_load_beats(params: RtlParams, run: GemmRun, codebook: list[int]) -> list[int]:
    """The load beats the decoders make of ``run``'s lookups (``codebook``: the table)."""
    columns = [decode_lookups(params, codebook, beats) for beats in run.lookup_beats()]
    packer = VectorPacker.from_layout(load_layout(params))
    beats = []
    for step in range(len(columns[0])):
        weights = [column[step][0] for column in columns]
        positions = [column[step][1] for column in columns]
        nm = params.nm_group > 1
        beats.append(packer.pack({"w": weights, "pos": positions} if nm else weights))
    return beats


def run_functional(
    params: RtlParams,
    a: np.ndarray,
    b,
    stream_tile_limit: int | None = None,
    codebook: list[int] | None = None,
) -> GemmRun:
    """Run a GEMM through :class:`GemmRun` with :func:`fold_outputs` standing in for the
    RTL (and :func:`decode_lookups` for the decoders: ``codebook`` is the table loaded
    before, by default this run's own)."""
    run = GemmRun(params, a, b, stream_tile_limit, load_codebook=codebook is None)
    if params.has_decoder:
        loads = _decoded_load_beats(params, run, run.codebook_beats() or codebook)
    else:
        loads = run.load_beats()
    start_packer = VectorPacker.from_layout(start_layout(params))
    feed_at = 0
    for fold, start in zip(run.tiling.folds, run.start_beats(), strict=True):
        beat = start_packer.unpack(start)
        mode = beat["mode"] if isinstance(beat, dict) else 0
        load = loads[fold.index * params.rows : (fold.index + 1) * params.rows] if run.ws else []
        feed = [run.feed_beat(feed_at + j) for j in range(fold.t)]
        feed_at += fold.t
        if any(beat is None for beat in feed):
            raise RuntimeError(f"fold {fold.index} has feed beats before its inputs are back")
        for raw in fold_outputs(params, load, feed, mode):
            run.take_output(raw)
    return run
