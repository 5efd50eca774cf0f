"""cocotb benches for every exported TileEngine: bit for bit and cycle for cycle.

The harness is :mod:`tests.rtl.tb_harness`. These benches run on dense, N:M and codebook
engines alike (random operands: on N:M arrays every column keeps a random count per
group, so folds mix patterns and dense columns; on decoder engines the weights come
from a random codebook). ``listed_shapes`` runs the GEMMs listed in
``SPARSA_TB_SHAPES`` (JSON ``[[m, n, k], ...]``; benchmarks/bench_rtl.py) and is skipped
without it. N:M and codebook benches are in :mod:`tests.rtl.tb_sparse`.
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from tests.rtl.tb_harness import (
    A_MAX,
    A_MIN,
    PARAMS,
    SHAPES,
    W_MAX,
    W_MIN,
    check_gemm,
    gemm_shape,
    random_operands,
    reset,
)


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


@cocotb.test(skip=PARAMS.has_decoder)
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
