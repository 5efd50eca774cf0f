"""The mapping table and the stream tile ``Ts`` of ``stream_tiling: fit``."""

from __future__ import annotations

import numpy as np

from simulator import load_config
from simulator.config import Dataflow, StreamTiling
from simulator.model.columns import ConfigColumns
from simulator.model.mapping import (
    DATAFLOW_MAPS,
    STREAM_TILING_CODES,
    stream_tile_limit,
    usable_buffer_bits,
)
from tests.conftest import ROOT

FIT, NONE = STREAM_TILING_CODES[StreamTiling.FIT], STREAM_TILING_CODES[StreamTiling.NONE]


def test_only_ws_and_is_tile_the_stream():
    assert {df for df, m in DATAFLOW_MAPS.items() if m.tiles_stream} == {Dataflow.WS, Dataflow.IS}


def test_usable_bits_halve_when_double_buffered():
    assert int(usable_buffer_bits(1024, True)) == 4096
    assert int(usable_buffer_bits(1024, False)) == 8192
    assert int(usable_buffer_bits(3, True)) == 12  # 24 bits, halved


def test_stream_tile_by_hand():
    # 64 KiB double-buffered: 32 KiB usable = 262,144 bits; 32 columns x 32 bits = 1,024
    # bits per streamed vector: Ts = 256.
    assert int(stream_tile_limit(FIT, 32, 32, usable_buffer_bits(64 * 1024, True))) == 256
    # An odd fit rounds down: 1 KiB double-buffered (4,096 bits), 8 x 24 = 192: 21.
    assert int(stream_tile_limit(FIT, 8, 24, usable_buffer_bits(1024, True))) == 21
    # Not even one vector fits: still one vector per tile.
    assert int(stream_tile_limit(FIT, 128, 32, 100)) == 1
    # none never tiles (0).
    assert int(stream_tile_limit(NONE, 32, 32, 262_144)) == 0
    limits = stream_tile_limit(np.array([[FIT], [NONE]]), 32, 32, 262_144)
    assert limits.tolist() == [[256], [0]]


def test_tpuv1_streams_2048_rows_per_weight_load():
    # 4 MiB of 32-bit accumulators over 256 columns is 4096 rows; double-buffered, the
    # compiler uses half of them while the other half drains (Jouppi et al. 2017).
    tpu = load_config(ROOT / "configs" / "tpuv1-256x256.yaml")
    assert int(ConfigColumns.of([tpu]).stream_tile_limit[0, 0]) == 2048
    edge = load_config(ROOT / "configs" / "edge-32x32.yaml")
    assert int(ConfigColumns.of([edge]).stream_tile_limit[0, 0]) == 256
    assert int(ConfigColumns.of([edge.replace(stream_tiling="none")]).stream_tile_limit[0, 0]) == 0
