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
