"""SCALE-Sim's layer-wise N:M semantics in ``scalesim_total``: every oracle row, and
other cases worked out from its formula (arrays, odd patterns, K < M, conv rows)."""

from __future__ import annotations

import csv

import pytest

from simulator import AcceleratorConfig, Conv2d, Gemm, Layer, Workload, simulate
from simulator.workloads.scalesim import load_scalesim_cfg, load_scalesim_topology
from tests.conftest import DATA

SPARSE = DATA / "scalesim" / "sparse"


def _rows():
    with (SPARSE / "results.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "row", _rows(), ids=lambda r: f"{r['layer']}-{r['sparsity_nm']}-{r['dataflow']}"
)
def test_scalesim_sparse_oracle_row(row):
    config = load_scalesim_cfg(SPARSE / "configs" / row["config_file"])
    workload = load_scalesim_topology(SPARSE / "topologies" / row["topology_file"])
    layer = simulate(workload, config).layers[0]
    assert layer.cycles.scalesim_total == int(row["total_cycles"])
    if row["sparsity_nm"] != "1:1":
        # The physical model on this dense array runs the declared pattern dense.
        dense = simulate(workload, config.replace(scalesim_sparsity="none")).layers[0]
        assert layer.cycles.compute == dense.cycles.compute
        assert any("deletes input positions" in note for note in layer.weights.notes)


def scalesim_formula(m, n, k, rows, cols, dataflow, pattern):
    """SCALE-Sim's layer-wise count on K' (../shared/notes/sparse-execution.md, section 1)."""
    keep, group = pattern
    kp = (k // group) * keep + min(k % group, keep)
    ceil = lambda a, b: -(-a // b)  # noqa: E731
    if dataflow == "os":
        return ceil(m, rows) * ceil(n, cols) * (kp + rows + cols - 2) - 1
    if dataflow == "ws":
        return ceil(kp, rows) * ceil(n, cols) * (2 * rows + cols + m - 2) - 1
    return ceil(kp, rows) * ceil(m, cols) * (2 * rows + cols + n - 2) - 1


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
@pytest.mark.parametrize(
    ("m", "n", "k", "rows", "cols", "pattern"),
    [
        (30, 20, 50, 4, 6, (3, 8)),
        (17, 9, 40, 16, 4, (3, 4)),
        (12, 12, 3, 4, 4, (2, 4)),  # K < M: one short group keeps min(K, N)
        (64, 48, 100, 32, 8, (1, 8)),
    ],
)
def test_layerwise_semantics_beyond_the_oracle(m, n, k, rows, cols, dataflow, pattern):
    layer = Layer("g", Gemm(m, n, k), nm=pattern)
    config = AcceleratorConfig(
        rows=rows, cols=cols, dataflow=dataflow, scalesim_sparsity="layerwise"
    )
    result = simulate(Workload("w", (layer,)), config)
    assert result.layers[0].cycles.scalesim_total == scalesim_formula(
        m, n, k, rows, cols, dataflow, pattern
    )


def test_a_conv_row_shrinks_its_window_dimension():
    # 3x3x16 window (K = 144) at 1:4: K' = 36; ws on 8x8, 14x14 outputs (M = 196), 32 filters.
    conv = Conv2d(h=16, w=16, c=16, k=32, r=3, s=3, ceil_mode=True)
    layer = Layer("c", conv, nm=(1, 4))
    config = AcceleratorConfig(rows=8, cols=8, dataflow="ws", scalesim_sparsity="layerwise")
    result = simulate(Workload("w", (layer,)), config).layers[0]
    assert (result.m, result.k) == (196, 144)
    assert result.cycles.scalesim_total == scalesim_formula(196, 32, 144, 8, 8, "ws", (1, 4))
    dense = simulate(Workload("w", (layer,)), config.replace(scalesim_sparsity="none"))
    assert dense.layers[0].cycles.scalesim_total == scalesim_formula(
        196, 32, 144, 8, 8, "ws", (4, 4)
    )
