"""evaluate_configs: the same numbers as simulate, one config or thousands at once."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import AcceleratorConfig, Conv2d, Gemm, Layer, Linear, MatMul, Workload, simulate
from simulator.results.batch import BOUND_NAMES, BatchResult, evaluate_configs
from tests.simulator.config_helpers import roomy_config

WORKLOAD = Workload(
    "mixed",
    (
        Layer("conv", Conv2d(h=14, w=14, c=16, k=32, r=3, s=3, padding=1)),
        Layer("dw", Conv2d(h=14, w=14, c=32, k=32, r=3, s=3, padding=1, groups=32)),
        Layer("scores", MatMul(m=32, k=16, n=32, count=4)),
        Layer("proj", Gemm(m=49, n=128, k=300)),
        Layer("fc", Linear(in_features=512, out_features=100)),
    ),
)

configs = st.builds(
    roomy_config,
    rows=st.integers(1, 128),
    cols=st.integers(1, 128),
    dataflow=st.sampled_from(["os", "ws", "is"]),
    fold_schedule=st.sampled_from(["sequential", "overlapped"]),
    activation_bits=st.integers(1, 32),
    weight_bits=st.integers(1, 32),
    accumulator_bits=st.integers(2, 64),
    ifmap_sram_bytes=st.integers(1, 1 << 24),
    filter_sram_bytes=st.integers(1, 1 << 24),
    ofmap_sram_bytes=st.integers(1, 1 << 24),
    dram_bytes_per_cycle=st.floats(0.01, 1024),
    clock_mhz=st.floats(1, 5000),
    sram_double_buffered=st.booleans(),
    energy_table=st.sampled_from(["horowitz45", "eyeriss"]),
    stream_tiling=st.sampled_from(["none", "fit"]),
    inter_layer_activations=st.sampled_from(["dram", "on_chip"]),
    technology_nm=st.sampled_from([7, 16, 28, 45, 65, 180]),
)


def assert_matches(batch: BatchResult, i: int, config: AcceleratorConfig) -> None:
    """Config ``i`` of ``batch`` equals ``simulate`` exactly (no tolerance)."""
    r = simulate(WORKLOAD, config)
    assert batch.cycles_total[i] == r.cycles.total
    assert batch.cycles_compute[i] == r.cycles.compute
    assert batch.cycles_stall[i] == r.cycles.stall
    assert batch.latency_s[i] == r.latency_s
    assert batch.energy[i] == r.energy.total
    assert batch.energy_pj[i] == batch.energy[i]  # the deprecated alias
    for name, value in r.energy.by_component.items():
        assert batch.energy_by_component[name][i] == value
    assert batch.area_mm2[i] == r.area_total_mm2
    assert batch.utilization[i] == r.utilization
    assert batch.macs[i] == r.macs
    assert batch.dram_bytes[i] == r.memory.dram_bytes
    assert batch.sram_bytes[i] == r.memory.sram_bytes
    assert batch.edp[i] == r.energy.total * r.latency_s
    assert batch.energy_unit[i] == r.energy_unit
    for j, layer in enumerate(r.layers):
        assert batch.layer_cycles_total[i, j] == layer.cycles.total
        assert batch.layer_energy[i, j] == layer.energy.total
        assert BOUND_NAMES[batch.layer_bound[i, j]] == layer.roofline.bound
        assert batch.limiter_names[batch.layer_limiter[i, j]] == layer.limited_by


@settings(max_examples=80, deadline=None)
@given(configs)
def test_simulate_equals_a_batch_of_one(config):
    assert_matches(evaluate_configs(WORKLOAD, [config]), 0, config)


def test_a_batch_of_mixed_configs_equals_one_at_a_time():
    rng = np.random.default_rng(7)
    mixed = [
        roomy_config(
            rows=int(rng.integers(1, 100)),
            cols=int(rng.integers(1, 100)),
            dataflow=("os", "ws", "is")[i % 3],
            fold_schedule=("sequential", "overlapped")[i % 2],
            activation_bits=int(rng.choice([4, 8, 16])),
            weight_bits=int(rng.choice([2, 4, 8])),
            accumulator_bits=int(rng.choice([16, 24, 32])),
            ifmap_sram_bytes=int(2 ** rng.integers(8, 22)),
            filter_sram_bytes=int(2 ** rng.integers(8, 22)),
            ofmap_sram_bytes=int(2 ** rng.integers(8, 22)),
            dram_bytes_per_cycle=float(rng.uniform(0.5, 64)),
            clock_mhz=float(rng.uniform(100, 2000)),
            sram_double_buffered=bool(i % 4),
            energy_table=("horowitz45", "eyeriss")[i % 5 == 0],
            inter_layer_activations=("dram", "on_chip")[i % 3 == 1],
            technology_nm=(45, 28, 7)[i % 3],
        )
        for i in range(40)
    ]
    batch = evaluate_configs(WORKLOAD, mixed, chunk=16)  # three chunks
    assert len(batch) == 40
    assert batch.layer_names == tuple(layer.name for layer in WORKLOAD.layers)
    assert batch.layer_cycles_total.shape == batch.layer_bound.shape == (40, 5)
    assert batch.energy_pj.shape == batch.area_mm2.shape == (40,)
    assert batch.bound_names == ("compute", "dram", "sram")
    for i, config in enumerate(mixed):
        assert_matches(batch, i, config)
    unchunked = evaluate_configs(WORKLOAD, mixed, chunk=1000)
    assert np.array_equal(unchunked.energy_pj, batch.energy_pj)
    assert np.array_equal(unchunked.cycles_total, batch.cycles_total)


def test_empty_and_bad_chunk_are_errors():
    with pytest.raises(ValueError, match="at least one"):
        evaluate_configs(WORKLOAD, [])
    with pytest.raises(ValueError, match="chunk"):
        evaluate_configs(WORKLOAD, [AcceleratorConfig(rows=2, cols=2)], chunk=0)


@settings(max_examples=40, deadline=None)
@given(configs.map(lambda c: c.replace(stream_tiling="fit")))
def test_fit_changes_nothing_in_layers_it_does_not_tile(config):
    """An unfolded ``k`` or a tile as long as the stream: every number as ``none``; a
    tiled layer (os's k tiles included) pays a fill and drain per tile."""
    fit = simulate(WORKLOAD, config)
    none = simulate(WORKLOAD, config.replace(stream_tiling="none"))
    for layer_fit, layer_none in zip(fit.layers, none.layers, strict=True):
        if layer_fit.stream_tiles == 1:
            # Equal but for what each would take with the other tiling.
            assert replace(layer_fit, tiling_alternative=None) == replace(
                layer_none, tiling_alternative=None
            )
        elif config.rows + config.cols == 2 and (
            config.fold_schedule == "overlapped" or config.dataflow == "os"
        ):
            # A 1x1 array with hidden (or no) preloads: a tile's overhead R + C - 2 is zero.
            assert layer_fit.cycles.compute == layer_none.cycles.compute
        else:
            assert layer_fit.cycles.compute > layer_none.cycles.compute


@settings(max_examples=60, deadline=None)
@given(configs)
def test_the_cycle_split_sums_to_the_total(config):
    result = simulate(WORKLOAD, config)
    for layer in result.layers:
        split = layer.cycle_split
        assert split.total == pytest.approx(layer.cycles.total, rel=1e-12)
        assert split.dram_stall == layer.cycles.stall
        assert split.useful + split.mapping_loss + split.fill_drain == pytest.approx(
            layer.cycles.compute, rel=1e-12
        )
        assert split.useful == pytest.approx(layer.macs_useful / config.pes)
        assert min(split.useful, split.mapping_loss, split.fill_drain) >= -1e-9
    assert result.cycle_split.total == pytest.approx(result.cycles.total, rel=1e-12)
