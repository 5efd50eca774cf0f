"""The size bound of layers (:data:`simulator.workloads.layer.MAX_MACS`): up to it, no count
of the model wraps on any allowed config, and a bigger layer never costs less; past it,
layers and workloads are refused with the bound in the message."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simulator.config import (
    CLOCK_MHZ_RANGE,
    DRAM_BYTES_PER_CYCLE_RANGE,
    MAX_SRAM_BYTES,
    AcceleratorConfig,
    min_buffer_bytes,
)
from simulator.model.evaluate import evaluate
from simulator.workloads.layer import (
    MAX_MACS,
    Conv2d,
    Gemm,
    Layer,
    Linear,
    MatMul,
    Workload,
    WorkloadError,
)

SIDES = st.one_of(st.sampled_from([1, 2, 3, 128, 1 << 16]), st.integers(1, 1 << 16))


@st.composite
def configs(draw) -> AcceleratorConfig:
    """Any config the bounds allow, extremes drawn often."""
    fields = dict(
        rows=draw(SIDES),
        cols=draw(SIDES),
        dataflow=draw(st.sampled_from(["os", "ws", "is"])),
        fold_schedule=draw(st.sampled_from(["sequential", "overlapped"])),
        stream_tiling=draw(st.sampled_from(["none", "fit"])),
        activation_bits=draw(st.sampled_from([1, 8, 32])),
        weight_bits=draw(st.sampled_from([1, 8, 32])),
        accumulator_bits=draw(st.sampled_from([2, 32, 64])),
        sram_double_buffered=draw(st.booleans()),
        zero_gating=draw(st.booleans()),
        inter_layer_activations=draw(st.sampled_from(["dram", "on_chip"])),
        energy_table=draw(st.sampled_from(["horowitz45", "eyeriss"])),
        technology_nm=draw(st.sampled_from([7, 45, 180])),
        dram_bytes_per_cycle=draw(
            st.one_of(st.sampled_from(DRAM_BYTES_PER_CYCLE_RANGE), st.floats(0.01, 1e15))
        ),
        clock_mhz=draw(st.one_of(st.sampled_from(CLOCK_MHZ_RANGE), st.floats(1e-3, 1e5))),
    )
    if fields["dataflow"] == "os":
        fields["pe_kind"] = draw(st.sampled_from(["dense", "skip"]))
    bits = (fields["activation_bits"], fields["weight_bits"])
    for name, least in min_buffer_bytes(fields["rows"], fields["cols"], *bits).items():
        fields[name] = draw(st.sampled_from([least, 2 * least + 1, MAX_SRAM_BYTES]))
    return AcceleratorConfig(**fields)


@st.composite
def dims(draw, count: int = 4) -> tuple[int, ...]:
    """``count`` positive integers whose product is at most :data:`MAX_MACS`, each from
    ``2^(e-1)`` to ``2^e`` for exponents that add up to at most 45 (often exactly)."""
    budget = 45
    exponents = []
    for _ in range(count - 1):
        e = draw(st.integers(0, budget))
        exponents.append(e)
        budget -= e
    exponents.append(draw(st.sampled_from([budget, draw(st.integers(0, budget))])))
    order = draw(st.permutations(exponents))
    return tuple(draw(st.integers(max(1, 1 << e >> 1), 1 << e)) for e in order)


def _layer(kind: str, m: int, n: int, k: int, g: int) -> Layer:
    if kind == "gemm":
        return Layer("x", Gemm(m=m, n=n, k=k), batch=g)
    if kind == "linear":
        return Layer("x", Linear(in_features=k, out_features=n, tokens=m), batch=g)
    return Layer("x", MatMul(m=m, k=k, n=n, count=g))


def _costs(layer: Layer, hw: list[AcceleratorConfig]) -> dict[str, np.ndarray]:
    """Per config: total and compute cycles, energy, and every action count."""
    ev = evaluate(Workload("w", (layer,)), hw)
    out = {
        "total cycles": ev.total_cycles[:, 0],
        "compute cycles": ev.timing.compute_cycles[:, 0],
        "energy": sum(np.asarray(e, dtype=np.float64) for e in ev.energy_by_action.values())[:, 0],
    }
    out |= {key: np.asarray(ev.counts[key], dtype=np.float64)[:, 0] for key in ev.counts.counts}
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["gemm", "linear", "matmul"]),
    dims(),
    st.lists(configs(), min_size=1, max_size=3),
)
def test_no_count_wraps_up_to_the_bound(kind, shape, hw):
    layer = _layer(kind, *shape)
    assert layer.macs <= MAX_MACS
    ev = evaluate(Workload("w", (layer,)), hw)
    for key, count in ev.counts.counts.items():
        count = np.asarray(count, dtype=np.float64)
        assert np.all(np.isfinite(count)) and np.all(count >= 0), key
    assert ev.total_cycles.dtype == np.int64
    pes = np.array([[c.rows * c.cols] for c in hw], dtype=np.float64)
    # Never faster than every PE busy, never past the derived bound of 2^18 cycles per MAC.
    assert np.all(ev.total_cycles >= ev.timing.compute_cycles)
    assert np.all(ev.timing.compute_cycles.astype(np.float64) * pes >= layer.macs)
    assert np.all(ev.total_cycles.astype(object) < (layer.macs + 1) * 2**18)
    assert np.all(ev.counts["pe.mac"] + ev.counts["pe.mac_gated"] == pytest.approx(layer.macs))
    energy = sum(np.asarray(e, dtype=np.float64) for e in ev.energy_by_action.values())
    assert np.all(np.isfinite(energy)) and np.all(energy > 0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dims(),
    st.sampled_from([(2, 4), (1, 4), None]),
    st.sampled_from([0.5, 0.01]),
    configs(),
    st.sampled_from(["nm", "skip", "dense"]),
)
def test_declared_sparsity_counts_never_wrap(shape, nm, density, config, pe_kind):
    m, n, k, g = shape
    assume(n <= 1 << 12 and (nm is not None or k <= 1 << 16))  # sizes kept per column
    fields = {"nm": nm} if nm else {"weight_density": density}
    layer = Layer("x", Gemm(m=m, n=n, k=k), batch=g, **fields)
    kind = {"pe_kind": pe_kind, "nm_patterns": ["2:4", "1:4"]} if pe_kind == "nm" else {}
    if pe_kind == "nm" and (config.rows >= 2 or config.dataflow == "os"):
        config = config.replace(**kind)
    elif pe_kind == "skip":
        config = config.replace(dataflow="os", pe_kind="skip")
    ev = evaluate(Workload("w", (layer,)), [config])
    for key, count in ev.counts.counts.items():
        count = np.asarray(count, dtype=np.float64)
        assert np.all(np.isfinite(count)) and np.all(count >= 0), key
    # Zero when every weight is pruned (a skip array then streams nothing).
    assert 0 <= int(ev.total_cycles[0, 0]) < (layer.macs + 1) * 2**18


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["gemm", "linear", "matmul"]),
    dims(),
    st.sampled_from([0, 1, 2, 3]),
    st.booleans(),
    st.lists(configs(), min_size=1, max_size=3),
)
def test_a_bigger_layer_never_costs_less(kind, shape, which, double, hw):
    # os with stream_tiling: fit tiles k per layer where that saves DRAM traffic, and only
    # when n folds: a layer just wide enough to fold can move fewer bytes, and stall less,
    # than a narrower one that is not tiled (a choice of the model, not a wrap-around).
    hw = [c.replace(stream_tiling="none") if c.dataflow == "os" else c for c in hw]
    bigger = list(shape)
    bigger[which] = 2 * bigger[which] if double else bigger[which] + 1
    if np.prod(bigger, dtype=object) > MAX_MACS:
        bigger = list(shape)
        shape = tuple(max(1, d // 2) if i == which else d for i, d in enumerate(shape))
    small, large = _costs(_layer(kind, *shape), hw), _costs(_layer(kind, *bigger), hw)
    for key in ("total cycles", "compute cycles", "energy", "pe.mac", "dram.read"):
        assert np.all(large[key] >= small[key] * (1 - 1e-12)), (key, small[key], large[key])


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: Gemm(m=MAX_MACS + 1, n=1, k=1), "m = 35,184,372,088,833 is too large"),
        (lambda: MatMul(m=1, k=1, n=1, count=1 << 46), "count = 70,368,744,177,664 is too large"),
        (lambda: Conv2d(h=8, w=8, c=1, k=1, r=1, s=1, padding=1 << 46), "padding must be"),
        (lambda: Layer("x", Gemm(m=1 << 15, n=1 << 15, k=(1 << 15) + 1)), "at most 2^45"),
        (lambda: Layer("x", Linear(1 << 20, 1 << 20, tokens=33)), "3.63e+13 MACs"),
        (lambda: Layer("x", Gemm(m=1 << 20, n=1 << 20, k=1 << 5), batch=2), "(batch 2)"),
        (lambda: Layer("x", MatMul(m=1 << 20, k=1 << 20, n=1 << 6), batch=1 << 46), "batch"),
        (lambda: Layer("x", Gemm(m=1, n=1 << 25, k=1), nm=(2, 4)), "2^24 = 16,777,216 output"),
        (lambda: Layer("x", Gemm(1, 1, 1 << 25), weight_density=0.5), "weights per column (k)"),
        (
            lambda: Workload("w", (Layer("a", Gemm(1 << 22, 1 << 22, 1 << 1)),) * 1),
            None,  # exactly 2^45: allowed
        ),
        (
            lambda: Workload(
                "w",
                (Layer("a", Gemm(1 << 22, 1 << 22, 1 << 1)), Layer("b", Gemm(1, 1, 1))),
            ),
            "workload 'w': its 2 layers hold 3.52e+13 MACs in total; a workload may hold at most",
        ),
    ],
)
def test_past_the_bound_is_refused_with_the_bound(make, fragment):
    if fragment is None:
        assert make().macs == MAX_MACS
        return
    with pytest.raises(WorkloadError, match=None) as info:
        make()
    assert fragment in str(info.value)
    assert "2^45" in str(info.value) or "2^24" in str(info.value)


def test_the_bound_is_the_largest_size_and_the_issue_s_layers_are_refused():
    assert Layer("x", Gemm(m=1 << 15, n=1 << 15, k=1 << 15)).macs == MAX_MACS
    for side in (10**5, 10**6):  # 1e15 and 1e18 MACs: both used to wrap
        with pytest.raises(WorkloadError, match=r"a layer may hold at most 2\^45"):
            Layer("x", Gemm(m=side, n=side, k=side))


def test_numpy_dimensions_are_stored_as_python_ints():
    gemm = Gemm(m=np.int64(1 << 15), n=np.int64(1 << 15), k=np.int32(1 << 15))
    assert all(type(v) is int for v in (gemm.m, gemm.n, gemm.k))
    assert Layer("x", gemm).macs == MAX_MACS  # no int64 wrap in the product


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_a_thin_padded_conv_on_a_huge_buffer_does_not_wrap_its_stream_tile(dataflow):
    # A 1x1 input padded to 2^20 + 1 under an as large kernel: its im2col matrix repeats one
    # pixel 2^40 times, so a 1 TiB input buffer holds far more than 2^63 of its k columns.
    conv = Conv2d(h=1, w=1, c=1, k=2, r=(1 << 20) + 1, s=(1 << 20) + 1, padding=1 << 19)
    layer = Layer("c", conv)
    config = AcceleratorConfig(
        rows=1, cols=1, dataflow=dataflow, stream_tiling="fit", ifmap_sram_bytes=1 << 40
    )
    ev = evaluate(Workload("w", (layer,)), [config])
    assert 1 <= int(ev.timing.stream_tile[0, 0]) <= layer.k
    assert int(ev.timing.stream_tiles[0, 0]) >= 1
    assert int(ev.timing.compute_cycles[0, 0]) >= layer.macs
