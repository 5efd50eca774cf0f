"""Activations kept on chip between layers: hand-worked placements, the zoo's residual
reads, and what DRAM traffic they save."""

from __future__ import annotations

import pytest

from simulator import AcceleratorConfig, Conv2d, Gemm, Layer, Workload, simulate, zoo_workload
from simulator.model.columns import LayerColumns
from simulator.model.residency import activation_graph

# Two GEMMs in a chain: layer 1 writes 4 x 16 outputs (64 bytes at 8 bits) that layer 2
# reads; 3x16 PEs (48: the smallest buffer below holds one byte per PE), so neither layer
# folds along n, and its folds along k leave the DRAM traffic as unfolded.
CHAIN = Workload("chain", (Layer("l1", Gemm(m=4, n=16, k=8)), Layer("l2", Gemm(m=4, n=8, k=16))))


def config(ifmap_bytes: int, mode: str = "on_chip") -> AcceleratorConfig:
    return AcceleratorConfig(
        rows=3, cols=16, ifmap_sram_bytes=ifmap_bytes, inter_layer_activations=mode
    )


def test_a_two_layer_network_that_fits_keeps_its_intermediate_on_chip():
    # 128-byte input buffer: l1's 64-byte output fits (nothing else is kept).
    dram = simulate(CHAIN, config(128, "dram"))
    kept = simulate(CHAIN, config(128))
    l1, l2 = kept.layers
    assert (l1.activations.input_from, l1.activations.output_to) == ("dram", "on_chip")
    assert (l2.activations.input_from, l2.activations.output_to) == ("on_chip", "dram")
    assert l1.activations.output_bytes == 64 and l1.activations.reason == "kept on chip"
    assert l2.activations.reason == "no later layer reads it"
    # By hand: l1 reads 32 input bytes and 128 weight bytes; l2 reads 128 weight bytes and
    # writes 32 output bytes. dram mode adds l1's 64-byte write and l2's 64-byte read.
    assert kept.memory.dram_bytes == 32 + 128 + 128 + 32
    assert dram.memory.dram_bytes == kept.memory.dram_bytes + 64 + 64
    assert kept.memory.dram_bytes == kept.compulsory_dram_bytes
    # The kept tensor is still written into the input buffer once, by l1's drain.
    assert l2.memory.input.sram_write_bytes == 64
    assert kept.cycles.stall <= dram.cycles.stall


def test_a_two_layer_network_that_does_not_fit_spills_and_says_why():
    # A 48-byte buffer cannot hold the 64-byte tensor: it goes to DRAM, as in dram mode.
    spilled = simulate(CHAIN, config(48))
    l1 = spilled.layers[0]
    assert l1.activations.output_to == "dram"
    assert l1.activations.reason == "does not fit beside the activations still needed"
    assert (l1.activations.output_bytes, l1.activations.capacity_bytes) == (64, 48)
    assert spilled.layers[1].activations.input_from == "dram"
    dram = simulate(CHAIN, config(48, "dram"))
    assert spilled.memory == dram.memory
    assert spilled.cycles == dram.cycles


def _block() -> Workload:
    """A stem and a ResNet basic block with an identity shortcut (8x8x4 tensors)."""
    conv = dict(h=8, w=8, c=4, k=4, r=3, s=3, padding=1)
    return Workload(
        "block",
        (
            Layer("stem", Conv2d(**conv)),
            Layer("layer1.0.conv1", Conv2d(**conv)),
            Layer("layer1.0.conv2", Conv2d(**conv)),
        ),
    )


def test_a_residual_input_stays_live_until_the_block_ends():
    workload = _block()
    graph = activation_graph(workload, LayerColumns.of(workload))
    assert graph.input_producer.tolist() == [-1, 0, 1]
    assert graph.extra_reads == ((2, 0),)  # conv2 adds the block input (stem's output)
    assert graph.last_reader.tolist() == [2, 2, -1]
    # 256-byte tensors: with 768 bytes the stem output, conv1's and conv2's input fit...
    fits = simulate(workload, config(768))
    assert [x.activations.output_to for x in fits.layers] == ["on_chip", "on_chip", "dram"]
    assert fits.layers[2].activations.residual_dram_bytes == 0
    # ... with 384 the stem output (placed first) stays, conv1's does not fit beside it,
    # and conv2 reads its input from DRAM.
    tight = simulate(workload, config(384))
    assert [x.activations.output_to for x in tight.layers] == ["on_chip", "dram", "dram"]
    assert tight.layers[1].activations.others_bytes == 256
    # ... with 128 nothing fits: the residual read is a DRAM read of the stem output.
    none = simulate(workload, config(128))
    assert none.layers[2].activations.residual_dram_bytes == 256
    residual_free = simulate(workload, config(128, "dram"))
    assert none.layers[2].memory.input.dram_read_bytes == pytest.approx(
        residual_free.layers[2].memory.input.dram_read_bytes + 256
    )


def test_zoo_readers_follow_the_networks_graphs():
    def reads(name: str) -> dict[str, tuple[str, list[str]]]:
        workload = zoo_workload(name)
        graph = activation_graph(workload, LayerColumns.of(workload))
        names = [layer.name for layer in workload.layers]
        out = {}
        for j, layer in enumerate(workload.layers):
            source = names[graph.input_producer[j]] if graph.input_producer[j] >= 0 else "DRAM"
            extra = [names[p] for r, p in graph.extra_reads if r == j]
            out[layer.name] = (source, extra)
        return out

    r50 = reads("resnet50")
    assert r50["layer1.0.downsample"] == ("conv1", ["layer1.0.conv3"])
    assert r50["layer1.1.conv3"] == ("layer1.1.conv2", ["layer1.0.downsample"])
    llama = reads("llama7b-full-decode")
    assert llama["layers.1.self_attn.k_proj"] == ("layers.0.mlp.down_proj", [])
    assert llama["layers.1.self_attn.scores"] == ("layers.1.self_attn.q_proj", [])
    assert llama["layers.1.self_attn.o_proj"] == (
        "layers.1.self_attn.context",
        ["layers.0.mlp.down_proj"],
    )
    assert llama["layers.1.mlp.up_proj"] == ("layers.1.self_attn.o_proj", [])
    assert llama["layers.1.mlp.down_proj"] == (
        "layers.1.mlp.up_proj",
        ["layers.1.mlp.gate_proj", "layers.1.self_attn.o_proj"],
    )
    mbv2 = reads("mobilenetv2")
    assert mbv2["features.3.project"][1] == ["features.2.project"]  # stride 1, 24 -> 24
    assert mbv2["features.4.project"][1] == []  # stride 2: no skip


def test_tpuv1_resnet50_on_chip_moves_close_to_its_compulsory_traffic():
    from simulator import load_config
    from tests.conftest import ROOT

    tpu = load_config(ROOT / "configs" / "tpuv1-256x256.yaml")  # on_chip, as shipped
    workload = zoo_workload("resnet50", 8)
    on_chip = simulate(workload, tpu)
    dram = simulate(workload, tpu.replace(inter_layer_activations="dram"))
    assert on_chip.memory.dram_bytes < 1.01 * on_chip.compulsory_dram_bytes
    assert dram.memory.dram_bytes > 7 * on_chip.memory.dram_bytes
    assert on_chip.cycles.total < dram.cycles.total / 2
