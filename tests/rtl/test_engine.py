"""The TileEngine, bit-exact and cycle-exact against the reference and the timing model.

Amaranth's simulator runs whole GEMMs on tiny and degenerate arrays (1x1, 1xN, Nx1),
dense, N:M and with decoders. cocotb runs the benches of ``tb_engine.py`` and
``tb_sparse.py`` on the exported Verilog: in the default suite on Icarus, both
dataflows, 2x2, 4x4, 8x8 and non-square arrays, with wrapping and saturating
accumulators (narrow ones, so the extreme-value bench overflows), N:M arrays (M = 2, 4
and 8, several patterns each, rows not a multiple of M, zero gating) and codebook
decoders (dense and N:M, vectors shorter than, equal to and longer than M); in the slow
suite on Verilator, 16x16 of each kind.
"""

from __future__ import annotations

import numpy as np
import pytest

from rtl.driver import GemmRun
from rtl.engine import TileEngine
from rtl.params import RtlParams
from rtl.reference import reference_layer
from tests.rtl.amaranth_sim import run_testbench
from tests.rtl.cocotb_run import run_bench


def _raw(payload):
    return payload.as_value() if hasattr(payload, "as_value") else payload


def amaranth_gemm(params, a, b, test_name, stream_tile_limit=None):
    """Run a GEMM through the engine in Amaranth's simulator, every stream always ready
    (a decoder engine gets its codebook first, then its lookups).

    Returns the run and the cycles in which start was accepted and done was high.
    """
    dut = TileEngine(params)
    run = GemmRun(params, a, b, stream_tile_limit)
    sources = [(dut.start, run.start_beats())]
    if params.has_decoder:
        sources.append((dut.codebook, run.codebook_beats()))
        sources += [(dut.lookup[c], beats) for c, beats in enumerate(run.lookup_beats())]
    elif run.ws:
        sources.append((dut.load, run.load_beats()))
    started, finished = [], []

    async def testbench(ctx):
        sent = [0] * len(sources)
        next_feed = 0
        ctx.set(dut.out.ready, 1)
        for cycle in range(10 * run.model.compute_cycles + 100):
            if run.complete:
                break
            table_loaded = not params.has_decoder or sent[1] == len(sources[1][1])
            for i, (port, beats) in enumerate(sources):
                is_lookup = params.has_decoder and i >= 2
                offer = sent[i] < len(beats) and (table_loaded or not is_lookup)
                ctx.set(port.valid, offer)
                if offer:
                    ctx.set(_raw(port.payload), beats[sent[i]])
            beat = run.feed_beat(next_feed) if next_feed < run.feed_beats else None
            ctx.set(dut.feed.valid, beat is not None)
            if beat is not None:
                ctx.set(dut.feed.payload.as_value(), beat)
            for i, (port, _) in enumerate(sources):
                if ctx.get(port.valid) and ctx.get(port.ready):
                    sent[i] += 1
                    if i == 0:
                        started.append(cycle)
            if ctx.get(dut.feed.valid) and ctx.get(dut.feed.ready):
                next_feed += 1
            if ctx.get(dut.out.valid):
                run.take_output(ctx.get(dut.out.payload.as_value()))
            if ctx.get(dut.done):
                finished.append(cycle)
            await ctx.tick()

    run_testbench(dut, testbench, test_name)
    return run, started, finished


@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (1, 3), (3, 1), (2, 2)])
@pytest.mark.parametrize(("m", "n", "k"), [(1, 1, 1), (5, 4, 3), (2, 7, 5)])
def test_amaranth_gemm_exact(dataflow, rows, cols, m, n, k, request):
    rng = np.random.default_rng(rows * 100 + cols * 10 + m)
    params = RtlParams("e", rows, cols, dataflow, 8, 8, 17, "saturate")
    a = rng.integers(-128, 128, size=(m, k))
    b = rng.integers(-128, 128, size=(k, n))
    check_amaranth_run(params, a, b, request.node.name)


def check_amaranth_run(params, a, b, test_name, stream_tile_limit=None):
    run, started, finished = amaranth_gemm(params, a, b, test_name, stream_tile_limit)
    np.testing.assert_array_equal(
        run.result, reference_layer(a, b, params.accumulator_bits, params.overflow)
    )
    tiling, model = run.tiling, run.model
    run.check_against_model()
    assert len(started) == len(finished) == len(tiling.folds) == model.folds
    fold_cycles = [d - s for s, d in zip(started, finished, strict=True)]
    assert fold_cycles == [model.fold_cycles(fold.t) for fold in tiling.folds]
    assert finished[-1] - started[0] == model.compute_cycles
    return run


@pytest.mark.parametrize(("m", "limit", "tiles"), [(7, 3, (3, 3, 1)), (7, 7, (7,)), (4, 9, (4,))])
def test_amaranth_stream_tiles_ws(m, limit, tiles, request):
    """ws with k folded: m streams in the model's tiles, each tile's partial sums carried
    across the row folds; exact results and cycles."""
    rng = np.random.default_rng(m * 10 + limit)
    params = RtlParams("e", 2, 2, "ws", 8, 8, 17, "saturate")
    a = rng.integers(-128, 128, size=(m, 5))
    b = rng.integers(-128, 128, size=(5, 3))
    run = check_amaranth_run(params, a, b, request.node.name, stream_tile_limit=limit)
    first_block = [f for f in run.tiling.folds if f.col_fold == 0 and f.row_fold == 0]
    assert tuple(f.t for f in first_block) == tiles


def nm(name, rows, cols, patterns, acc=32, overflow="wrap", **options):
    return RtlParams(
        name, rows, cols, "ws", 8, 8, acc, overflow, pe_kind="nm", nm_patterns=patterns, **options
    )


def codebook(entries, vector, bits):
    return {
        "weight_decoder": "codebook",
        "decoder_entries": entries,
        "decoder_vector_length": vector,
        "decoder_entry_bits": bits,
    }


SPARSE_ICARUS_PARAMS = [
    nm("nm_2x2", 2, 2, ("1:2",)),
    nm("nm_4x4", 4, 4, ("2:4", "1:4"), 20, "saturate"),
    nm("nm_5x3", 5, 3, ("2:4", "1:4"), zero_gating=True),
    nm("nm_8x8", 8, 8, ("2:4", "1:4")),
    nm("nm_8x8_m8", 8, 8, ("4:8", "2:8", "1:8"), 24, "saturate"),
    nm("cb_4x4", 4, 4, ("2:4", "1:4"), 20, "saturate", **codebook(16, 8, 6)),
    nm("cb_4x4_v2", 4, 4, ("2:4",), **codebook(8, 2, 8)),
    nm("cb_8x8", 8, 8, ("2:4", "1:4"), **codebook(64, 4, 8)),
    RtlParams("cbd_3x5", 3, 5, "ws", 6, 5, 14, "wrap", **codebook(8, 3, 4)),
]

ICARUS_PARAMS = [
    RtlParams("ws_2x2", 2, 2, "ws", 8, 8, 32, "wrap"),
    RtlParams("os_2x2", 2, 2, "os", 8, 8, 16, "wrap"),
    RtlParams("ws_4x4", 4, 4, "ws", 8, 8, 16, "saturate"),
    RtlParams("os_4x4", 4, 4, "os", 8, 8, 16, "saturate"),
    RtlParams("ws_8x8", 8, 8, "ws", 8, 8, 32, "wrap"),
    RtlParams("os_8x8", 8, 8, "os", 8, 8, 32, "saturate"),
    RtlParams("ws_3x5", 3, 5, "ws", 5, 3, 9, "saturate"),
    RtlParams("os_5x3", 5, 3, "os", 4, 6, 12, "wrap"),
]


def check_records(records, params):
    """Every GEMM the benches ran agrees with the model, and every bench that applies ran."""
    expected = {"single_fold", "multi_fold", "unit_dims", "backpressure", "stream_tiles"}
    if not params.has_decoder:
        expected.add("extreme_min_min")
    if params.pe_kind.value == "nm":
        expected |= {"nm_mixed"} | {f"nm_{n}:{params.nm_group}" for n in params.nm_slots}
    if params.has_decoder:
        expected |= {"codebook_every_index", "pool_layer1", "pool_layer2"}
    if params.dataflow.value == "ws":
        expected.add("compressed_layer")
    if (params.dataflow.value, params.rows, params.cols) == ("ws", 4, 4):
        expected |= {"TV1", "TV2"}
    assert {r["test"] for r in records} >= expected
    for r in records:
        assert (r["rows"], r["cols"], r["dataflow"]) == (params.rows, params.cols, params.dataflow)
        if not r["stall"]:
            assert r["rtl_cycles"] == r["model_cycles"], r
            assert r["rtl_fold_cycles"] == r["model_fold_cycles"], r


@pytest.mark.parametrize("params", ICARUS_PARAMS + SPARSE_ICARUS_PARAMS, ids=lambda p: p.name)
def test_icarus(params, tmp_path, verilog_cache, request):
    records = run_bench(params, "icarus", tmp_path, verilog_cache, request.node.name)
    check_records(records, params)


VERILATOR_PARAMS = [
    RtlParams("ws_16x16", 16, 16, "ws", 8, 8, 32, "wrap"),
    RtlParams("os_16x16", 16, 16, "os", 8, 8, 20, "saturate"),
    nm("nm_16x16", 16, 16, ("2:4", "1:4")),
    nm("cb_16x16", 16, 16, ("2:4", "1:4"), 24, "saturate", **codebook(64, 8, 8)),
]


@pytest.mark.slow
@pytest.mark.parametrize("params", VERILATOR_PARAMS, ids=lambda p: p.name)
def test_verilator(params, tmp_path, verilog_cache, verilator, request):
    records = run_bench(params, "verilator", tmp_path, verilog_cache, request.node.name)
    check_records(records, params)


def test_waves_writes_a_vcd_of_the_chosen_bench(tmp_path, verilog_cache, monkeypatch, request):
    monkeypatch.setenv("WAVES", "1")
    monkeypatch.setenv("SPARSA_WAVES_DIR", str(tmp_path / "waves"))
    params = RtlParams("waves_2x2", 2, 2, "os")
    run_bench(params, "icarus", tmp_path / "run", verilog_cache, "chosen", testcase="single_folds")
    vcd = (tmp_path / "waves" / "chosen.vcd").read_text()
    assert "$enddefinitions" in vcd
    assert "done" in vcd and "out__payload" in vcd
    assert not list((tmp_path / "run").rglob("*.fst"))  # cocotb's own FST dump stayed off
