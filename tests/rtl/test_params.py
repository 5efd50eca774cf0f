"""RTL parameters from a config: what the RTL implements, and one-line refusals."""

from __future__ import annotations

import pytest

from rtl.params import RtlParams, verilog_name
from simulator import load_config
from simulator.config import AcceleratorConfig, ConfigError
from tests.conftest import ROOT


def test_from_the_shipped_edge_config():
    p = RtlParams.from_config(load_config(ROOT / "configs" / "edge-32x32.yaml"))
    assert (p.name, p.rows, p.cols, p.dataflow.value) == ("edge_32x32", 32, 32, "ws")
    assert (p.activation_bits, p.weight_bits, p.accumulator_bits) == (8, 8, 32)
    assert (p.overflow.value, p.stream_bits, p.max_stream) == ("wrap", 16, 65536)
    assert p.to_dict()["dataflow"] == "ws"


@pytest.mark.parametrize(
    ("changes", "field", "value", "allowed"),
    [
        ({"dataflow": "is"}, "dataflow", "'is'", "the RTL implements ws, os"),
        ({"fold_schedule": "overlapped"}, "fold_schedule", "'overlapped'", "sequential"),
        ({"weight_bits": 17}, "weight_bits", "17", "from 2 to 16"),
        ({"activation_bits": 1}, "activation_bits", "1", "from 2 to 16"),
        ({"accumulator_bits": 15}, "accumulator_bits", "15", "at least activation_bits"),
        ({"rows": 65}, "rows", "65", "from 1 to 64"),
        (
            {"pe_kind": "skip"},
            "pe_kind",
            "'skip'",
            "the RTL implements dense, nm (skip has no RTL)",
        ),
        (
            {"pe_kind": "nm", "nm_patterns": ["2:4"], "dataflow": "os"},
            "pe_kind",
            "'nm'",
            "N:M PEs for ws only (dataflow is os)",
        ),
        ({"pe_kind": "nm", "nm_patterns": ["2:6"]}, "nm_patterns", "['2:6']", "M = 2, 4, 8, 16"),
        ({"pe_kind": "nm", "nm_patterns": ["4:8"], "rows": 4}, "rows", "4", "at least M = 8 rows"),
        ({"zero_gating": True, "dataflow": "os"}, "zero_gating", "True", "the RTL gates ws PEs"),
        (
            {"weight_decoder": "codebook", "dataflow": "os"},
            "weight_decoder",
            "'codebook'",
            "ws weight-load port",
        ),
        (
            {"weight_decoder": "codebook", "decoder_entry_bits": 9},
            "decoder_entry_bits",
            "9",
            "from 1 to 8 (at most weight_bits",
        ),
        ({"huffman_symbols_per_cycle": 2.0}, "huffman_symbols_per_cycle", "2.0", "no Huffman"),
    ],
)
def test_refusals_name_field_value_and_what_is_allowed(changes, field, value, allowed):
    config = AcceleratorConfig(rows=4, cols=4).replace(**changes)
    with pytest.raises(ConfigError) as info:
        RtlParams.from_config(config)
    message = str(info.value)
    assert "\n" not in message
    assert f"'{field}' = {value}" in message
    assert allowed in message


def test_stream_bits_and_names():
    with pytest.raises(ConfigError, match="'stream_bits' = 33"):
        RtlParams("t", 2, 2, "ws", stream_bits=33)
    with pytest.raises(ConfigError, match="'name' = 'a-b'"):
        RtlParams("a-b", 2, 2, "ws")
    assert verilog_name("edge-32x32") == "edge_32x32"
    assert verilog_name("v1.2") == "v1_2"
    assert verilog_name("32x32") == "sparsa_32x32"
    assert verilog_name("ok_name") == "ok_name"


def test_stream_tile_comes_from_the_config():
    edge = load_config(ROOT / "configs" / "edge-32x32.yaml")  # stream_tiling: fit
    assert edge.stream_tiling.value == "fit"
    # 64 KiB output buffer, double-buffered: 32 KiB usable / (32 columns x 32 bits) = 256.
    assert RtlParams.from_config(edge).stream_tile_limit == 256
    assert RtlParams.from_config(edge.replace(stream_tiling="none")).stream_tile_limit == 0
    with pytest.raises(ConfigError, match="stream_tile_limit"):
        RtlParams("t", 2, 2, "ws", stream_tile_limit=-1)


def test_stream_tiles_must_fit_one_fold():
    """A fold streams up to 2**stream_bits vectors; the model's tiles must fit."""
    assert RtlParams("t", 2, 2, "ws", stream_bits=8, stream_tile_limit=256).max_stream == 256
    with pytest.raises(ConfigError, match=r"'stream_bits' = 8: .* cuts folds at 257: at least 9"):
        RtlParams("t", 2, 2, "ws", stream_bits=8, stream_tile_limit=257)
    with pytest.raises(ConfigError, match="more than 32 bits would be needed"):
        RtlParams("t", 2, 2, "ws", stream_bits=32, stream_tile_limit=(1 << 32) + 1)


def test_sparse_fields_come_from_the_config():
    config = AcceleratorConfig(
        rows=8,
        cols=4,
        pe_kind="nm",
        nm_patterns=["1:4", "2:4"],
        zero_gating=True,
        weight_decoder="codebook",
        decoder_entries=64,
        decoder_vector_length=8,
        decoder_entry_bits=6,
    )
    p = RtlParams.from_config(config)
    assert (p.pe_kind.value, p.nm_group, p.nm_slots) == ("nm", 4, (1, 2))
    assert (p.row_group_sizes, p.mode_bits, p.position_bits) == ((1, 2, 4), 2, 2)
    assert (p.feed_groups, p.feed_lanes) == (8, 32)
    assert (p.index_bits, p.pad_bits, p.offset_bits) == (6, 4, 0)
    assert p.zero_gating and p.has_decoder
    assert p.to_dict()["nm_patterns"] == ["1:4", "2:4"]
    assert RtlParams(**p.to_dict()) == p  # what the cocotb benches rebuild
    assert RtlParams.from_config(config.replace(decoder_vector_length=2)).offset_bits == 2


def test_dense_params_have_one_mode_and_no_decoder_fields_in_the_cache_key():
    p = RtlParams.from_config(AcceleratorConfig(rows=4, cols=4))
    assert (p.nm_group, p.row_group_sizes, p.mode_bits, p.feed_lanes) == (1, (1,), 0, 4)
    assert "decoder_entries" not in p.hardware_dict()
    assert "stream_tile_limit" not in p.hardware_dict()
