"""The cocotb side of the benches: drive GEMMs through the exported TileEngine and check
them bit for bit and cycle for cycle.

Runs inside the simulator (Icarus or Verilator), started by ``tests/rtl/cocotb_run.py``
with the engine's parameters in ``SPARSA_TB_PARAMS`` (JSON). Every GEMM goes through
:class:`rtl.driver.GemmRun` (the tiling, as the timing model maps it) and is checked
against :func:`rtl.reference.reference_layer` and the timing model:

- each fold: (cycle of its ``done``) - (cycle its ``start`` was accepted) equals the
  model's per-fold cycles;
- the GEMM: (cycle of the last ``done``) - (cycle of the first ``start``) equals the
  model's ``compute_cycles`` (sequential schedule); 0 cycles of difference.

The model is the simulator's (:mod:`rtl.model`: the functions ``simulate`` runs, on a
one-layer workload ``Gemm(m, n, k)`` with the weights' :class:`compress.WeightStats`),
dense or compressed alike; the driver's fold list must agree with it too (as many
folds, streaming the model's tile lengths). The reference is compress's integer model
(:func:`rtl.reference.reference_layer`).

Cycles are counted in rising edges of ``clk``; inputs are driven on the falling edge and
handshakes sampled at the rising edge (values from just before it). A codebook engine
gets its table first (``codebook`` stream, unless the layer shares the one loaded), then
its lookups; the cycles before the first ``start`` is accepted (table and first lookups)
are not a fold's. Measurements go to the JSON-lines file ``SPARSA_TB_RECORDS`` when set.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

from rtl.driver import GemmRun
from rtl.operands import WeightOperand
from rtl.params import RtlParams
from rtl.reference import reference_layer
from simulator.config import PEKind
from simulator.model.mapping import DATAFLOW_MAPS
from tests.rtl.sparse_cases import random_codebook, random_nm_keep, random_weights

PARAMS = RtlParams(**json.loads(os.environ["SPARSA_TB_PARAMS"]))
RECORDS = os.environ.get("SPARSA_TB_RECORDS")
SHAPES = json.loads(os.environ.get("SPARSA_TB_SHAPES") or "[]")
A_MIN, A_MAX = -(1 << (PARAMS.activation_bits - 1)), (1 << (PARAMS.activation_bits - 1)) - 1
W_MIN, W_MAX = -(1 << (PARAMS.weight_bits - 1)), (1 << (PARAMS.weight_bits - 1)) - 1
NM = PARAMS.pe_kind is PEKind.NM


def gemm_shape(row_dim: int, col_dim: int, t: int) -> tuple[int, int, int]:
    """(m, n, k) with the given sizes on the array rows, columns and in time (dense)."""
    dims = [0, 0, 0]
    mapping = DATAFLOW_MAPS[PARAMS.dataflow]
    dims[mapping.row_dim], dims[mapping.col_dim], dims[mapping.stream_dim] = row_dim, col_dim, t
    return dims[0], dims[1], dims[2]


def random_weight_operand(rng: np.random.Generator, keep: np.ndarray):
    """Weights with keep-mask ``keep``: values, or a random codebook on decoder engines."""
    if PARAMS.has_decoder:
        return random_codebook(rng, PARAMS, keep)
    return WeightOperand(random_weights(rng, keep, PARAMS.weight_bits), keep)


def random_operands(rng: np.random.Generator, m: int, n: int, k: int):
    """Random activations and weights; on N:M arrays every column gets a random count of
    kept weights per group (0 to M: all patterns, and dense columns), so folds mix them."""
    a = rng.integers(A_MIN, A_MAX + 1, size=(m, k), dtype=np.int64)
    if NM:
        keep = random_nm_keep(rng, k, rng.integers(0, PARAMS.nm_group + 1, size=n), PARAMS.nm_group)
    elif PARAMS.has_decoder:
        keep = rng.random((k, n)) < 0.8
    else:
        return a, rng.integers(W_MIN, W_MAX + 1, size=(k, n), dtype=np.int64)
    return a, random_weight_operand(rng, keep)


class _Source:
    """A valid/ready source that keeps ``valid`` up until its beat is taken (AXI rule)."""

    def __init__(self, dut, name, beat, count, rng, stall, after=None):
        self.valid, self.payload = dut[f"{name}__valid"], dut[f"{name}__payload"]
        self.ready = dut[f"{name}__ready"]
        self.beat, self.count, self.rng, self.stall = beat, count, rng, stall
        self.after = after  # a source that must have sent everything first
        self.index, self.presenting = 0, False

    @property
    def finished(self) -> bool:
        return self.index == self.count

    def drive(self) -> None:
        gap = self.stall and self.rng.random() < self.stall
        waiting = self.after is not None and not self.after.finished
        if not self.presenting and self.index < self.count and not gap and not waiting:
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
    names = ["start", "load", "feed", "codebook"] + [f"lookup__{c}" for c in range(PARAMS.cols)]
    for name in names:
        if hasattr(dut, f"{name}__valid"):
            dut[f"{name}__valid"].value = 0
    dut.out__ready.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


def _sources(dut, run: GemmRun, rng, stall) -> list[_Source]:
    starts = run.start_beats()
    sources = [_Source(dut, "start", starts.__getitem__, len(starts), rng, stall)]
    if PARAMS.has_decoder:
        table = run.codebook_beats()
        codebook = _Source(dut, "codebook", table.__getitem__, len(table), rng, stall)
        sources.append(codebook)
        for c, beats in enumerate(run.lookup_beats()):
            sources.append(
                _Source(dut, f"lookup__{c}", beats.__getitem__, len(beats), rng, stall, codebook)
            )
    elif run.ws:
        loads = run.load_beats()
        sources.append(_Source(dut, "load", loads.__getitem__, len(loads), rng, stall))
    sources.append(_Source(dut, "feed", run.feed_beat, run.feed_beats, rng, stall))
    return sources


async def run_gemm(dut, a, b, *, rng=None, stall=0.0, stream_tile_limit=None, load_codebook=True):
    """Stream one GEMM through the engine; returns the run and the measured cycles."""
    run = GemmRun(PARAMS, a, b, stream_tile_limit, load_codebook=load_codebook)
    rng = rng or np.random.default_rng(0)
    sources = _sources(dut, run, rng, stall)
    start_src = sources[0]
    out_valid, out_payload, out_ready, done = (
        dut.out__valid,
        dut.out__payload,
        dut.out__ready,
        dut.done,
    )
    started, finished = [], []
    limit = 20 * run.model.compute_cycles + 1000 + PARAMS.decoder_entries
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
    assert all(source.finished for source in sources), "beats left over after the GEMM"
    return run, {"started": started, "finished": finished, "cycles": cycle, "wall_s": wall}


def expected_cycles(run: GemmRun) -> tuple[list[int], int]:
    """The model's per-fold and total cycles for ``run``'s GEMM (module docstring)."""
    run.check_against_model()
    model = run.model
    return [model.fold_cycles(fold.t) for fold in run.tiling.folds], model.compute_cycles


def _column_patterns(tiling) -> dict[str, int]:
    """How many columns run at each pattern (``"2:4"``, ``"dense"``)."""
    group, out = PARAMS.nm_group, {}
    for n in sorted(tiling.column_n, reverse=True):
        name = f"{n}:{group}" if n < group else "dense"
        out[name] = out.get(name, 0) + 1
    return out


async def check_gemm(dut, test: str, a, b, *, rng=None, stall=0.0, **options) -> dict:
    """Run one GEMM and assert bit-exact results and, without stalls, exact cycles."""
    run, measured = await run_gemm(dut, a, b, rng=rng, stall=stall, **options)
    tiling = run.tiling
    shape = f"m={tiling.m} n={tiling.n} k={tiling.k}"
    expected = reference_layer(a, b, PARAMS.accumulator_bits, PARAMS.overflow)
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
    model_folds, model_cycles = expected_cycles(run)
    if not stall:
        assert fold_cycles == model_folds, (
            f"{test} {shape}: fold cycles {fold_cycles}, model {model_folds}"
        )
        assert rtl_cycles == model_cycles, (
            f"{test} {shape}: rtl {rtl_cycles} cycles, model {model_cycles}"
        )
    else:
        assert rtl_cycles >= model_cycles, "stalls cannot make the RTL faster"
    dut._log.info(
        "%s %s: %d folds, rtl %d cycles, model %d, %.0f cycles/s",
        test,
        shape,
        folds,
        rtl_cycles,
        model_cycles,
        measured["cycles"] / max(measured["wall_s"], 1e-9),
    )
    record = {
        "test": test,
        **PARAMS.to_dict(),
        "m": tiling.m,
        "n": tiling.n,
        "k": tiling.k,
        "folds": folds,
        "n_c": sorted({f.group_rows for f in tiling.folds}, reverse=True),
        "column_patterns": _column_patterns(tiling),
        "stall": stall,
        "stream_tile": tiling.stream_tile,
        "model_fold_cycles": model_folds,
        "rtl_fold_cycles": fold_cycles,
        "model_cycles": model_cycles,
        "scalesim_cycles": run.model.scalesim_cycles,
        "rtl_cycles": rtl_cycles,
        "codebook_beats": len(run.codebook_beats()),
        "sim_cycles": measured["cycles"],
        "wall_s": measured["wall_s"],
    }
    if RECORDS:
        with open(RECORDS, "a") as handle:
            handle.write(json.dumps(record) + "\n")
    return record
