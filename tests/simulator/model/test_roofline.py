"""Roofline: points never above their roofs; the binding roof; hand-worked figures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import AcceleratorConfig, Conv2d, Gemm, Layer, MatMul, Workload, simulate
from simulator.model.roofline import BOUND_NAMES, roofline
from tests.simulator.config_helpers import roomy_config

configs = st.builds(
    roomy_config,
    rows=st.integers(1, 64),
    cols=st.integers(1, 64),
    dataflow=st.sampled_from(["os", "ws", "is"]),
    fold_schedule=st.sampled_from(["sequential", "overlapped"]),
    activation_bits=st.integers(1, 16),
    weight_bits=st.integers(1, 16),
    accumulator_bits=st.integers(8, 48),
    ifmap_sram_bytes=st.integers(16, 1 << 20),
    filter_sram_bytes=st.integers(16, 1 << 20),
    ofmap_sram_bytes=st.integers(16, 1 << 20),
    dram_bytes_per_cycle=st.floats(0.1, 512),
    clock_mhz=st.floats(10, 3000),
    sram_double_buffered=st.booleans(),
    stream_tiling=st.sampled_from(["none", "fit"]),
)
dims = st.integers(1, 300)
layers = st.one_of(
    st.builds(lambda m, n, k: Layer("l", Gemm(m, n, k)), dims, dims, dims),
    st.builds(
        lambda m, n, k, c: Layer("l", MatMul(m, k, n, c)), dims, dims, dims, st.integers(1, 4)
    ),
    st.builds(
        lambda c, g: Layer("l", Conv2d(h=9, w=9, c=c * g, k=2 * g, r=3, s=3, groups=g)),
        st.integers(1, 8),
        st.integers(1, 4),
    ),
)


@settings(max_examples=300, deadline=None)
@given(layers, configs)
def test_a_point_never_lies_above_its_roofs(layer, config):
    result = simulate(Workload("w", (layer,)), config)
    point = result.layers[0].roofline
    tolerance = 1 + 1e-9
    assert point.attained <= point.peak * tolerance
    assert point.attained <= point.dram_roof * tolerance
    assert point.attained <= point.sram_roof * tolerance
    assert point.roof == min(point.peak, point.dram_roof, point.sram_roof)
    assert 0 < point.roof_fraction <= tolerance
    whole = result.roofline
    assert whole.attained <= min(whole.peak, whole.dram_roof, whole.sram_roof) * tolerance


def test_roofline_by_hand():
    # 1e6 MACs in 2000 cycles at 1 GHz on 1000 PEs; 1e5 DRAM bytes at 50 B/ns; 4e5 SRAM
    # bytes at 100 B/ns.
    r = roofline(1e6, 2000, 1e5, 4e5, 1000, 1e9, 50e9, 100e9)
    assert float(r.intensity) == 10.0 and float(r.sram_intensity) == 2.5
    assert float(r.attained_macs_per_s) == 5e11
    assert float(r.peak_macs_per_s) == 1e12
    assert float(r.dram_roof_macs_per_s) == 5e11
    assert float(r.sram_roof_macs_per_s) == 2.5e11
    assert BOUND_NAMES[int(r.bound)] == "sram"
    assert float(r.roof_fraction) == 2.0  # this made-up point is above its roof


def test_gemv_is_dram_bound_and_a_large_gemm_compute_bound():
    config = AcceleratorConfig(rows=32, cols=32, dram_bytes_per_cycle=4)
    gemv = simulate(Workload("v", (Layer("v", Gemm(1, 2048, 2048)),)), config).layers[0]
    assert gemv.roofline.bound == "dram"
    assert gemv.roofline.roof_fraction == pytest.approx(1.0, rel=0.05)
    big = config.replace(
        ifmap_sram_bytes=1 << 22,
        filter_sram_bytes=1 << 22,
        ofmap_sram_bytes=1 << 22,
        dram_bytes_per_cycle=64,
    )
    gemm = simulate(Workload("g", (Layer("g", Gemm(512, 512, 512)),)), big).layers[0]
    assert gemm.roofline.bound == "compute"
    assert gemm.roofline.roof_fraction == pytest.approx(gemm.utilization)
