"""Tokens/s, time to first token and weight vs KV-cache traffic, from hand-made results."""

from __future__ import annotations

import pytest

from simulator import load_config, simulate, zoo_workload
from simulator.config import AcceleratorConfig
from simulator.reports.markdown import render_markdown
from simulator.results.result import (
    Baseline,
    Cycles,
    CycleSplit,
    LayerActivations,
    LayerEnergy,
    LayerMemory,
    LayerResult,
    LayerWeights,
    OperandBytes,
    OperandMemory,
    RooflinePoint,
    Roofs,
    SimResult,
)
from tests.conftest import ROOT

CLOCK_MHZ = 100.0  # 1 cycle = 10 ns


def _operand(dram_read_bytes: float = 0.0, dram_write_bytes: float = 0.0) -> OperandMemory:
    return OperandMemory(0, 0, 0.0, 0.0, dram_read_bytes, dram_write_bytes)


def _layer(name: str, kind: str, m: int, cycles: int, weight_dram: float) -> LayerResult:
    """A layer that reads 100 input bytes, ``weight_dram`` bytes of its second operand
    and writes 10 output bytes from and to DRAM in ``cycles`` cycles."""
    memory = LayerMemory(_operand(100.0), _operand(weight_dram), _operand(0.0, 10.0))
    roof = RooflinePoint(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, "dram", 1.0)
    weights = LayerWeights("dense", "dense int8", 1.0, 8, "dense", None, weight_dram * 8)
    baseline = Baseline(cycles, cycles, 0, 1, m, 1.0, 110.0 + weight_dram)
    return LayerResult(
        name=name, kind=kind, m=m, n=4, k=4, groups=1, macs=16 * m, macs_useful=16 * m,
        macs_issued=16 * m, utilization=0.5,
        cycles=Cycles(compute=cycles, stall=0, total=cycles, scalesim_total=cycles - 1),
        mapping_efficiency=1.0, row_folds=1, col_folds=1, stream_tiles=1, fold_positions=1,
        streamed=m, psum_block_bytes=0.0, latency_s=cycles / (CLOCK_MHZ * 1e6), macs_per_s=1.0,
        memory=memory, energy=LayerEnergy({"pe.mac": 1.0}, {"pe": 1.0}), roofline=roof,
        weights=weights, baseline=baseline, limiter="dense",
        cycle_split=CycleSplit(cycles / 2, cycles / 2, 0.0, 0.0),
        activations=LayerActivations("dram", "dram", "inter_layer_activations: dram", 0, 0, 1),
        footprint=OperandBytes(100.0, weight_dram, 10.0),
    )  # fmt: skip


def _result(layers: list[LayerResult], batch: int) -> SimResult:
    return SimResult(
        config=AcceleratorConfig(rows=2, cols=2, clock_mhz=CLOCK_MHZ),
        workload_name="hand",
        workload_source="test",
        batch=batch,
        layers=tuple(layers),
        energy_unit="pJ",
        energy_table={"name": "horowitz45", "overridden": [], "prices": {}},
        area_mm2={"pe": 1.0},
        roofs=Roofs(1.0, 1.0, 1.0),
    )


def test_decode_step():
    """Batch 4, one new token per sample (the attention matmuls have m = 1).

    1000 + 300 + 200 cycles at 100 MHz = 15 us; 4 tokens / 15 us = 266,667 tokens/s;
    time per output token 15 us, no time to first token. DRAM: the linear layer's
    weights are 5000 bytes, the two attention products' second operands (K^T, V: the KV
    cache) 800 + 700 bytes, the rest (3 x 100 read, 3 x 10 written) activations.
    """
    result = _result(
        [
            _layer("proj", "linear", m=4, cycles=1000, weight_dram=5000.0),
            _layer("attn.scores", "matmul", m=1, cycles=300, weight_dram=800.0),
            _layer("attn.context", "matmul", m=1, cycles=200, weight_dram=700.0),
        ],
        batch=4,
    )
    tokens = result.tokens
    assert result.latency_s == pytest.approx(15e-6)
    assert tokens.phase == "decode"
    assert tokens.tokens_per_pass == 4
    assert tokens.tokens_per_s == pytest.approx(4 / 15e-6)
    assert tokens.time_per_output_token_s == pytest.approx(15e-6)
    assert tokens.time_to_first_token_s is None
    assert tokens.weight_dram_bytes == 5000.0
    assert tokens.kv_dram_bytes == 1500.0
    assert tokens.activation_dram_bytes == 330.0
    report = render_markdown(result)
    assert "| time per output token | 0.015 ms |" in report
    assert "| DRAM: KV cache (attention K, V reads) | 1.46 KiB (22.0%) |" in report


def test_prefill_pass():
    """Batch 2 of 8-token prompts: 16 tokens in 2000 cycles = 20 us, 800,000 tokens/s;
    the pass's latency is the time to first token."""
    result = _result(
        [
            _layer("proj", "linear", m=16, cycles=1500, weight_dram=5000.0),
            _layer("attn.scores", "matmul", m=8, cycles=500, weight_dram=64.0),
        ],
        batch=2,
    )
    tokens = result.tokens
    assert tokens.phase == "prefill"
    assert tokens.tokens_per_pass == 16
    assert tokens.tokens_per_s == pytest.approx(16 / 20e-6)
    assert tokens.time_to_first_token_s == pytest.approx(20e-6)
    assert tokens.time_per_output_token_s is None
    assert "| time to first token | 0.02 ms" in render_markdown(result)


def test_no_attention_no_tokens_and_round_trip():
    cnn = _result([_layer("conv", "conv", m=64, cycles=100, weight_dram=50.0)], batch=1)
    assert cnn.tokens is None
    assert "## Tokens" not in render_markdown(cnn)
    assert cnn.to_dict()["total"]["tokens"] is None
    # A result read back is checked against its own figures: round-trip a simulated one.
    llm = simulate(zoo_workload("llama7b-decode"), AcceleratorConfig(rows=8, cols=8))
    noted = SimResult.from_dict({**llm.to_dict(), "input_notes": ["A note."]})
    assert noted.input_notes == ("A note.",)
    assert noted.tokens == llm.tokens
    assert "## Inputs\n\n- A note." in render_markdown(noted)


def test_whole_llama_decode_on_tpuv1_moves_each_weight_and_cache_entry_once():
    """Batch 2, KV cache 512, 8-bit: the 6,607,077,376 matmul weights are read once
    (the weights are the same for both samples), and each sample's K and V, 32 layers x
    2 x 4096 x 512 bytes, once; the rest is activations."""
    config = load_config(ROOT / "configs" / "tpuv1-256x256.yaml")
    result = simulate(zoo_workload("llama7b-full-decode:kv_len=512", batch=2), config)
    tokens = result.tokens
    assert tokens.phase == "decode" and tokens.tokens_per_pass == 2
    assert tokens.weight_dram_bytes == 6_607_077_376
    assert tokens.kv_dram_bytes == 2 * 32 * 2 * 4096 * 512
    assert tokens.tokens_per_s == pytest.approx(2 / result.latency_s)
    assert tokens.time_per_output_token_s == result.latency_s
