"""cocotb benches for the exported TileEngine: bit for bit and cycle for cycle.

Runs inside the simulator (Icarus or Verilator), started by ``tests/rtl/cocotb_run.py``
with the engine's parameters in ``SPARSA_TB_PARAMS`` (JSON). Every GEMM goes through
:class:`rtl.driver.GemmRun` (the tiling, as the timing model maps it) and is checked
against :func:`rtl.reference.reference_matmul` and the timing model:

- each fold: (cycle of its ``done``) - (cycle its ``start`` was accepted) equals the
  model's per-fold cycles;
- the GEMM: (cycle of the last ``done``) - (cycle of the first ``start``) equals the
  model's ``compute_cycles`` (sequential schedule); 0 cycles of difference.

Cycles are counted in rising edges of ``clk``; inputs are driven on the falling edge and
handshakes sampled at the rising edge (values from just before it). Measurements go to
the JSON-lines file ``SPARSA_TB_RECORDS`` when it is set. ``listed_shapes`` runs the
GEMMs listed in ``SPARSA_TB_SHAPES`` (JSON ``[[m, n, k], ...]``; benchmarks/bench_rtl.py)
and is skipped without it.
"""

from __future__ import annotations

import json
import os
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

from rtl.driver import GemmRun
from rtl.params import RtlParams
from rtl.reference import reference_matmul
from simulator.model.mapping import DATAFLOW_MAPS

PARAMS = RtlParams(**json.loads(os.environ["SPARSA_TB_PARAMS"]))
RECORDS = os.environ.get("SPARSA_TB_RECORDS")
SHAPES = json.loads(os.environ.get("SPARSA_TB_SHAPES") or "[]")
A_MIN, A_MAX = -(1 << (PARAMS.activation_bits - 1)), (1 << (PARAMS.activation_bits - 1)) - 1
W_MIN, W_MAX = -(1 << (PARAMS.weight_bits - 1)), (1 << (PARAMS.weight_bits - 1)) - 1


def gemm_shape(row_dim: int, col_dim: int, t: int) -> tuple[int, int, int]:
    """(m, n, k) with the given sizes on the array rows, columns and in time."""
    dims = [0, 0, 0]
    mapping = DATAFLOW_MAPS[PARAMS.dataflow]
    dims[mapping.row_dim], dims[mapping.col_dim], dims[mapping.stream_dim] = row_dim, col_dim, t
    return dims[0], dims[1], dims[2]


def random_operands(rng: np.random.Generator, m: int, n: int, k: int):
    a = rng.integers(A_MIN, A_MAX + 1, size=(m, k), dtype=np.int64)
    b = rng.integers(W_MIN, W_MAX + 1, size=(k, n), dtype=np.int64)
    return a, b


class _Source:
    """A valid/ready source that keeps ``valid`` up until its beat is taken (AXI rule)."""

    def __init__(self, dut, name, beat, count, rng, stall):
        self.valid, self.payload = dut[f"{name}__valid"], dut[f"{name}__payload"]
        self.ready = dut[f"{name}__ready"]
        self.beat, self.count, self.rng, self.stall = beat, count, rng, stall
        self.index, self.presenting = 0, False

    def drive(self) -> None:
        gap = self.stall and self.rng.random() < self.stall
        if not self.presenting and self.index < self.count and not gap:
            raw = self.beat(self.index)
            if raw is not None:
                self.payload.value = raw
                self.presenting = True
        self.valid.value = int(self.presenting)

    def fired(self) -> bool:
        if self.presenting and self.ready.value:
            self.index += 1
            self.presenting = False
            return True
        return False


async def reset(dut) -> None:
    """Start the clock and hold ``rst`` for two cycles with every stream idle."""
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    for name in ("start", "load", "feed"):
        if hasattr(dut, f"{name}__valid"):
            dut[f"{name}__valid"].value = 0
    dut.out__ready.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def run_gemm(dut, a, b, *, rng=None, stall=0.0, stream_tile_limit=None):
    """Stream one GEMM through the engine; returns the run and the measured cycles."""
    run = GemmRun(PARAMS, a, b, stream_tile_limit)
    rng = rng or np.random.default_rng(0)
    starts, loads = run.start_beats(), run.load_beats()
    sources = [_Source(dut, "start", starts.__getitem__, len(starts), rng, stall)]
    if run.ws:
        sources.append(_Source(dut, "load", loads.__getitem__, len(loads), rng, stall))
    sources.append(_Source(dut, "feed", run.feed_beat, run.feed_beats, rng, stall))
    start_src = sources[0]
    out_valid, out_payload, out_ready, done = (
        dut.out__valid,
        dut.out__payload,
        dut.out__ready,
        dut.done,
    )
    started, finished = [], []
    limit = 20 * run.tiling.model_cycles + 1000
    cycle = 0
    wall = time.perf_counter()
    while not run.complete:
        await FallingEdge(dut.clk)
        for source in sources:
            source.drive()
        ready = not (stall and rng.random() < stall)
        out_ready.value = int(ready)
        await RisingEdge(dut.clk)
        if start_src.fired():
            started.append(cycle)
        for source in sources[1:]:
            source.fired()
        if ready and out_valid.value:
            run.take_output(out_payload.value.to_unsigned())
        if done.value:
            finished.append(cycle)
        cycle += 1
        assert cycle < limit, f"no result after {cycle} cycles"
    wall = time.perf_counter() - wall
    await FallingEdge(dut.clk)
    for source in sources:
        source.valid.value = 0
    out_ready.value = 0
    return run, {"started": started, "finished": finished, "cycles": cycle, "wall_s": wall}


async def check_gemm(dut, test: str, a, b, *, rng=None, stall=0.0, stream_tile_limit=None) -> None:
    """Run one GEMM and assert bit-exact results and, without stalls, exact cycles."""
    run, measured = await run_gemm(
        dut, a, b, rng=rng, stall=stall, stream_tile_limit=stream_tile_limit
    )
    tiling = run.tiling
    shape = f"m={tiling.m} n={tiling.n} k={tiling.k}"
    expected = reference_matmul(a, b, PARAMS.accumulator_bits, PARAMS.overflow)
    bad = np.argwhere(run.result != expected)
    assert bad.size == 0, (
        f"{test} {shape}: {len(bad)} wrong outputs, first at {tuple(bad[0])}: "
        f"rtl {run.result[tuple(bad[0])]} != reference {expected[tuple(bad[0])]}"
    )
    started, finished = measured["started"], measured["finished"]
    folds = len(tiling.folds)
    assert len(started) == folds and len(finished) == folds, (started, finished)
    fold_cycles = [d - s for s, d in zip(started, finished, strict=True)]
    rtl_cycles = finished[-1] - started[0]
    if not stall:
        assert fold_cycles == list(tiling.model_fold_cycles), (
            f"{test} {shape}: fold cycles {fold_cycles}, model {tiling.model_fold_cycles}"
        )
        assert rtl_cycles == tiling.model_cycles, (
            f"{test} {shape}: rtl {rtl_cycles} cycles, model {tiling.model_cycles}"
        )
    else:
        assert rtl_cycles >= tiling.model_cycles, "stalls cannot make the RTL faster"
    dut._log.info(
        "%s %s: %d folds, rtl %d cycles, model %d, %.0f cycles/s",
        test,
        shape,
        folds,
        rtl_cycles,
        tiling.model_cycles,
        measured["cycles"] / max(measured["wall_s"], 1e-9),
    )
    if RECORDS:
        record = {
            "test": test,
            **PARAMS.to_dict(),
            "m": tiling.m,
            "n": tiling.n,
            "k": tiling.k,
            "folds": folds,
            "stall": stall,
            "stream_tile": tiling.stream_tile,
            "model_fold_cycles": list(tiling.model_fold_cycles),
            "rtl_fold_cycles": fold_cycles,
            "model_cycles": tiling.model_cycles,
            "rtl_cycles": rtl_cycles,
            "sim_cycles": measured["cycles"],
            "wall_s": measured["wall_s"],
        }
        with open(RECORDS, "a") as handle:
            handle.write(json.dumps(record) + "\n")


@cocotb.test()
async def single_folds(dut):
    """One fold each, T = 1, 2, R + C and 13: per-fold cycles are the model's."""
    await reset(dut)
    rng = np.random.default_rng(1)
    for t in (1, 2, PARAMS.rows + PARAMS.cols, 13):
        m, n, k = gemm_shape(PARAMS.rows, PARAMS.cols, t)
        await check_gemm(dut, "single_fold", *random_operands(rng, m, n, k))


@cocotb.test()
async def multi_fold_gemm(dut):
    """GEMMs of several folds, partial in both folded dimensions, back to back."""
    await reset(dut)
    rng = np.random.default_rng(2)
    rows, cols = PARAMS.rows, PARAMS.cols
    shapes = [
        gemm_shape(2 * rows + 1, cols + max(1, cols // 2), 2 * rows + 3),
        gemm_shape(rows + 1, 2 * cols, 5),
        tuple(int(x) for x in rng.integers(1, 3 * max(rows, cols) + 2, size=3)),
    ]
    for m, n, k in shapes:
        await check_gemm(dut, "multi_fold", *random_operands(rng, m, n, k))


@cocotb.test()
async def unit_dimensions(dut):
    """m, n or k of 1, and all three; the controller idles between GEMMs."""
    await reset(dut)
    rng = np.random.default_rng(3)
    big = 2 * max(PARAMS.rows, PARAMS.cols) + 1
    for m, n, k in ((1, 1, 1), (1, big, big), (big, 1, big), (big, big, 1)):
        await check_gemm(dut, "unit_dims", *random_operands(rng, m, n, k))
        for _ in range(3):
            await RisingEdge(dut.clk)


@cocotb.test()
async def extreme_values(dut):
    """Most negative x most negative accumulated over k, and max x min, over several folds."""
    await reset(dut)
    m, n, k = 3, PARAMS.cols + 1, 2 * PARAMS.rows + 1
    ones = np.ones((m, k), dtype=np.int64), np.ones((k, n), dtype=np.int64)
    await check_gemm(dut, "extreme_min_min", ones[0] * A_MIN, ones[1] * W_MIN)
    await check_gemm(dut, "extreme_max_min", ones[0] * A_MAX, ones[1] * W_MIN)
    rng = np.random.default_rng(4)
    a = rng.choice([A_MIN, A_MAX], size=(m, k))
    b = rng.choice([W_MIN, W_MAX], size=(k, n))
    await check_gemm(dut, "extreme_mixed", a, b)


@cocotb.test()
async def stream_tiles(dut):
    """Stream tiling (``stream_tiling: fit``): in ws the streamed m is cut into tiles of 3
    (3, 3, 2) under each column block, k folded twice; os never tiles. Per-fold and
    total cycles are the tiled model's."""
    await reset(dut)
    rng = np.random.default_rng(7)
    m, n, k = gemm_shape(2 * PARAMS.rows, PARAMS.cols + 1, 8)
    await check_gemm(dut, "stream_tiles", *random_operands(rng, m, n, k), stream_tile_limit=3)


@cocotb.test()
async def backpressure(dut):
    """Random gaps on every input and on the output: results stay exact."""
    await reset(dut)
    rng = np.random.default_rng(5)
    m, n, k = gemm_shape(PARAMS.rows + 1, PARAMS.cols + 1, PARAMS.rows + 2)
    await check_gemm(dut, "backpressure", *random_operands(rng, m, n, k), rng=rng, stall=0.3)


@cocotb.test(skip=not SHAPES)
async def listed_shapes(dut):
    """The GEMMs of ``SPARSA_TB_SHAPES``, random operands, checked like the others."""
    await reset(dut)
    rng = np.random.default_rng(6)
    for m, n, k in SHAPES:
        await check_gemm(dut, "listed", *random_operands(rng, m, n, k))
