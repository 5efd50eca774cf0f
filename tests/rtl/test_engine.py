"""The exported TileEngine under cocotb: bit-exact and cycle-exact against the model.

Default suite: Icarus, both dataflows, 2x2, 4x4, 8x8 and a non-square array, with
wrapping and saturating accumulators (narrow ones, so the extreme-value bench
overflows). Slow suite: Verilator, 16x16. The benches are in ``tb_engine.py``.
"""

from __future__ import annotations

import pytest

from rtl.params import RtlParams
from tests.rtl.cocotb_run import run_bench

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
    """Every GEMM the benches ran agrees with the model, and all five benches ran."""
    assert {r["test"] for r in records} >= {
        "single_fold",
        "multi_fold",
        "unit_dims",
        "extreme_min_min",
        "backpressure",
    }
    for r in records:
        assert (r["rows"], r["cols"], r["dataflow"]) == (params.rows, params.cols, params.dataflow)
        if not r["stall"]:
            assert r["rtl_cycles"] == r["model_cycles"], r
            assert r["rtl_fold_cycles"] == [r["model_fold_cycles"]], r


@pytest.mark.parametrize("params", ICARUS_PARAMS, ids=lambda p: p.name)
def test_icarus(params, tmp_path, verilog_cache, request):
    records = run_bench(params, "icarus", tmp_path, verilog_cache, request.node.name)
    check_records(records, params)
