"""SCALE-Sim topology CSV and cfg import."""

from __future__ import annotations

import pytest

from simulator.config import ConfigError, Dataflow, StreamTiling
from simulator.workloads.layer import OpKind, WorkloadError
from simulator.workloads.scalesim import load_scalesim_cfg, load_scalesim_topology
from tests.conftest import DATA

CONV_CSV = """Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, \
Num Filter, Strides,
Conv1, 230, 230, 7, 7, 3, 64, 2,
Conv2, 56, 56, 3, 3, 64, 64, 1, 2:4,
Conv3_DP, 58, 58, 3, 3, 32, 1, 1,
Conv4, 10, 20, 3, 3, 8, 16, 1, 2,
Conv5, 9, 9, 3, 3, 4, 4, 2
"""


def test_conv_topology_conventions(tmp_path):
    path = tmp_path / "net.csv"
    path.write_text(CONV_CSV)
    wl = load_scalesim_topology(path)
    assert wl.name == "net"
    conv1, conv2, dp, conv4, conv5 = wl.layers
    # No padding, ceiling: out = ceil((230 - 7 + 2) / 2) = 113, where floor gives 112.
    assert conv1.op.out_h == 113 and conv1.gemm == (113 * 113, 64, 147, 1)
    assert conv1.op.ceil_mode
    assert conv2.nm == (2, 4) and conv2.gemm == (54 * 54, 64, 576, 1)
    # DP: 32 single-channel convs with one filter each.
    assert dp.gemm == (56 * 56, 1, 9, 32)
    # Separate stride columns: stride_h=1, stride_w=2; out_w = ceil(17 / 2) + 1 = 10.
    assert (conv4.op.out_h, conv4.op.out_w) == (8, 10)
    # A row without the trailing comma keeps its last field.
    assert conv5.op.stride == (2, 2) and conv5.op.out_h == 4
    assert all(layer.kind is OpKind.CONV for layer in wl.layers)


def test_gemm_topology_auto_detected():
    wl = load_scalesim_topology(DATA / "scalesim" / "topologies" / "gemms_L01_gemm_100x37x53.csv")
    (layer,) = wl.layers
    assert layer.kind is OpKind.GEMM
    assert layer.gemm == (100, 37, 53, 1)
    assert layer.nm is None  # "1:1" is dense


def test_topology_batch_multiplies_m(tmp_path):
    wl = load_scalesim_topology(
        DATA / "scalesim" / "topologies" / "gemms_L00_gemm_64x64x64.csv", batch=4
    )
    assert wl.layers[0].gemm == (256, 64, 64, 1)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Layer, M, N, K,\n", "at least one layer"),
        ("Layer, M, N, K,\ng, 1, 2,\n", "needs name, M, N, K"),
        ("Layer, M, N, K,\ng, 1, two, 3,\n", "N must be an integer"),
        ("name,h,w,r,s,c,k,stride,\nc, 2, 2, 3, 3, 1, 1, 1,\n", "larger than the padded input"),
        ("name,h,w,r,s,c,k,stride,\nc, 2, 2, 1, 1, 1,\n", "a conv row needs"),
        ("Layer, M, N, K, Sparsity,\ng, 1, 2, 3, 4:2,\n", "N must be <= M"),
    ],
)
def test_topology_errors(tmp_path, text, fragment):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(WorkloadError, match=fragment):
        load_scalesim_topology(path)


def test_cfg_import():
    config = load_scalesim_cfg(DATA / "scalesim" / "configs" / "a32x32_is_calc.cfg")
    assert (config.rows, config.cols, config.dataflow) == (32, 32, Dataflow.IS)
    assert config.ifmap_sram_bytes == config.filter_sram_bytes == 64 * 1024
    assert config.dram_bytes_per_cycle == 10
    assert config.name == "a32x32_is_calc"
    # SCALE-Sim streams all of T through every fold: the import never tiles.
    assert config.stream_tiling is StreamTiling.NONE


def test_every_oracle_cfg_imports_untiled():
    for path in sorted((DATA / "scalesim" / "configs").glob("*.cfg")):
        assert load_scalesim_cfg(path).stream_tiling is StreamTiling.NONE, path.name


def test_cfg_unknown_key_is_an_error(tmp_path):
    path = tmp_path / "x.cfg"
    path.write_text("[architecture_presets]\nArrayHeight: 4\nArrayWidth: 4\nArrayDepth: 2\n")
    with pytest.raises(ConfigError, match="arraydepth.*not a SCALE-Sim configuration key"):
        load_scalesim_cfg(path)


def _sparse_cfg(tmp_path, sparsity: str):
    path = tmp_path / "x.cfg"
    path.write_text(
        "[architecture_presets]\nArrayHeight: 4\nArrayWidth: 4\nDataflow: ws\n"
        f"[sparsity]\n{sparsity}"
    )
    return path


def test_cfg_layerwise_sparsity_imports_and_rowwise_is_a_one_line_error(tmp_path):
    layerwise = load_scalesim_cfg(_sparse_cfg(tmp_path, "SparsitySupport : true\n"))
    assert layerwise.scalesim_sparsity == "layerwise" and layerwise.pe_kind == "dense"
    off = load_scalesim_cfg(_sparse_cfg(tmp_path, "SparsitySupport : false\n"))
    assert off.scalesim_sparsity == "none"
    rowwise = "SparsitySupport : true\nOptimizedMapping : true\nBlockSize : 4\n"
    with pytest.raises(ConfigError, match="OptimizedMapping.*row-wise") as info:
        load_scalesim_cfg(_sparse_cfg(tmp_path, rowwise))
    assert "\n" not in str(info.value)


def test_cfg_bad_value_names_field(tmp_path):
    path = tmp_path / "x.cfg"
    path.write_text("[architecture_presets]\nArrayHeight: 0\nArrayWidth: 4\n")
    with pytest.raises(ConfigError, match="'rows' = 0"):
        load_scalesim_cfg(path)
