"""SCALE-Sim topology CSV and cfg import."""

from __future__ import annotations

import pytest

from compress.errors import InputError
from simulator.config import ConfigError, Dataflow, StreamTiling
from simulator.results.simulate import simulate
from simulator.workloads.layer import Gemm, Layer, OpKind, Workload, WorkloadError
from simulator.workloads.scalesim import (
    CFG_DEFAULT_CLOCK_MHZ,
    STALL_FREE_DRAM_BYTES_PER_CYCLE,
    BandwidthMode,
    load_scalesim_cfg,
    load_scalesim_topology,
    read_scalesim_cfg,
)
from tests.conftest import DATA

BUNDLED = DATA / "scalesim" / "bundled"

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
    imported = read_scalesim_cfg(DATA / "scalesim" / "configs" / "a32x32_is_calc.cfg")
    config = imported.config
    assert (config.rows, config.cols, config.dataflow) == (32, 32, Dataflow.IS)
    assert config.ifmap_sram_bytes == config.filter_sram_bytes == 64 * 1024
    assert config.name == "a32x32_is_calc"
    assert config.clock_mhz == CFG_DEFAULT_CLOCK_MHZ
    # CALC: SCALE-Sim never reads Bandwidth and never stalls.
    assert imported.bandwidth_mode is BandwidthMode.CALC
    assert imported.bandwidth_words_per_cycle == (10,)
    assert config.dram_bytes_per_cycle == STALL_FREE_DRAM_BYTES_PER_CYCLE
    # SCALE-Sim streams all of T through every fold: the import never tiles.
    assert config.stream_tiling is StreamTiling.NONE
    assert "[architecture_presets] MemoryBanks = 1" in imported.not_modelled
    assert any("no clock: 1000 MHz" in note for note in imported.notes)


def test_every_oracle_cfg_imports_untiled():
    for path in sorted((DATA / "scalesim" / "configs").glob("*.cfg")):
        assert load_scalesim_cfg(path).stream_tiling is StreamTiling.NONE, path.name


BUNDLED_CFGS = sorted(BUNDLED.rglob("*.cfg"))


def test_the_bundled_configs_are_all_there():
    versions = {path.parent.name for path in BUNDLED_CFGS}
    assert versions == {"scale-sim-v1", "scale-sim-v2", "scale-sim-v3"}
    assert len(BUNDLED_CFGS) == 32


@pytest.mark.parametrize("path", BUNDLED_CFGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_bundled_config_imports(path):
    """Every config SCALE-Sim ships imports; every key it holds is either modelled or
    listed as not modelled, and the notes say so."""
    imported = read_scalesim_cfg(path)
    config = imported.config
    assert config.rows in (12, 32, 128, 256) and config.cols in (14, 32, 128, 256)
    assert config.ifmap_sram_bytes % 1024 == 0
    written = {
        line.split(":")[0].split("=")[0].strip().lower()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("[")
    }
    skipped = {entry.split("] ")[1].split(" =")[0].lower() for entry in imported.not_modelled}
    modelled = {
        "arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb",
        "ifmapsramsz", "filtersramsz", "ofmapsramsz", "bandwidth", "dataflow", "run_name",
        "interfacebandwidth",
    }  # fmt: skip
    assert written <= modelled | skipped
    if skipped:
        assert any(note.startswith("Accepted, not modelled") for note in imported.notes)
    if imported.bandwidth_mode is BandwidthMode.USER:
        assert config.dram_bytes_per_cycle == imported.bandwidth_words_per_cycle[0]
    else:
        assert config.dram_bytes_per_cycle == STALL_FREE_DRAM_BYTES_PER_CYCLE


def test_v3_eyeriss_with_on_chip_memory_banks_imports():
    imported = read_scalesim_cfg(BUNDLED / "scale-sim-v3" / "eyeriss.cfg")
    assert (imported.config.rows, imported.config.cols) == (12, 14)
    assert imported.config.ifmap_sram_bytes == 36 * 1024
    assert "[architecture_presets] OnChipMemoryBanks = 1" in imported.not_modelled
    notes = " ".join(imported.notes)
    assert "SRAM bank conflicts (OnChipMemoryBanks, OnChipMemoryBankPorts)" in notes


def test_v1_sizes_are_kilobytes_and_quotes_are_dropped():
    config = read_scalesim_cfg(BUNDLED / "scale-sim-v1" / "google.cfg").config
    assert config.name == "GoogleTPU_os"
    assert config.ifmap_sram_bytes == 8192 * 1024
    assert config.dataflow is Dataflow.OS


def _cfg(tmp_path, mode: str, bandwidth: str = "4") -> object:
    path = tmp_path / f"{mode}.cfg"
    path.write_text(
        "[general]\nrun_name = hand\n[architecture_presets]\nArrayHeight: 4\n"
        "ArrayWidth: 4\nIfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\n"
        f"Bandwidth : {bandwidth}\nDataflow : ws\n[run_presets]\nInterfaceBandwidth: {mode}\n"
    )
    return path


def test_calc_and_user_bandwidth_on_a_hand_worked_gemm(tmp_path):
    """One 1 x 4 @ 4 x 4 GEMM on a 4x4 ws array, Bandwidth 4 words/cycle.

    One fold: 2R + C + T - 2 = 8 + 4 + 1 - 2 = 11 compute cycles. DRAM: 4 input bytes,
    16 weight bytes, 4 output bytes, all of it the exposed first load and last store of
    the single fold.
    - USER: sparsa's one 4 B/cycle port carries all 24 bytes: (4 + 16 + 4) / 4 = 6 stall
      cycles, 17 in all. (SCALE-Sim's three separate 4-word interfaces would need
      max(4, 16, 4) / 4 = 4: with more than one operand streaming, sparsa stalls more.)
    - CALC: SCALE-Sim computes the bandwidth that never stalls and ignores Bandwidth:
      0 stall cycles, 11 in all; the same 24 bytes are still moved (and priced).
    """
    workload = Workload("g", (Layer("g", Gemm(m=1, n=4, k=4)),))
    user = read_scalesim_cfg(_cfg(tmp_path, "USER"))
    calc = read_scalesim_cfg(_cfg(tmp_path, "CALC"))
    assert user.config.dram_bytes_per_cycle == 4
    assert calc.config.dram_bytes_per_cycle == STALL_FREE_DRAM_BYTES_PER_CYCLE
    for imported, stall in ((user, 6), (calc, 0)):
        layer = simulate(workload, imported.config).layers[0]
        assert layer.memory.dram_bytes == 4 + 16 + 4
        assert (layer.cycles.compute, layer.cycles.stall, layer.cycles.total) == (
            11,
            stall,
            11 + stall,
        )
    assert any(note.startswith("USER bandwidth mode") for note in user.notes)
    assert any("Bandwidth = 4 is not read" in note for note in calc.notes)


def test_user_bandwidth_list_takes_the_first_value_as_scalesim(tmp_path):
    imported = read_scalesim_cfg(_cfg(tmp_path, "USER", "8, 16"))
    assert imported.bandwidth_words_per_cycle == (8, 16)
    assert imported.config.dram_bytes_per_cycle == 8
    assert any("uses the first (8)" in note for note in imported.notes)


def test_user_mode_needs_a_bandwidth(tmp_path):
    path = tmp_path / "x.cfg"
    path.write_text(
        "[architecture_presets]\nArrayHeight: 4\nArrayWidth: 4\n"
        "[run_presets]\nInterfaceBandwidth: USER\n"
    )
    with pytest.raises(ConfigError, match="Bandwidth.*required with InterfaceBandwidth: USER"):
        read_scalesim_cfg(path)


def test_cfg_unknown_key_is_an_error(tmp_path):
    path = tmp_path / "x.cfg"
    path.write_text("[architecture_presets]\nArrayHeight: 4\nArrayWidth: 4\nArrayDepth: 2\n")
    with pytest.raises(ConfigError, match="ArrayDepth.*not a SCALE-Sim configuration key"):
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


def test_cfg_sparsity_section_is_kept_and_reported(tmp_path):
    imported = read_scalesim_cfg(BUNDLED / "scale-sim-v2" / "sparsity.cfg")
    sparsity = imported.sparsity
    assert (sparsity.support, sparsity.representation, sparsity.optimized_mapping) == (
        True,
        "ellpack_block",
        False,
    )
    assert sparsity.block_size is None
    assert any(note.startswith("SparsitySupport is true") for note in imported.notes)
    v3 = read_scalesim_cfg(BUNDLED / "scale-sim-v3" / "google.cfg").sparsity
    assert (v3.support, v3.block_size, v3.seed) == (False, 8, 40)


def test_cfg_bad_sparsity_flag_names_the_key(tmp_path):
    path = tmp_path / "x.cfg"
    path.write_text(
        "[architecture_presets]\nArrayHeight: 4\nArrayWidth: 4\n"
        "[sparsity]\nSparsitySupport : maybe\n"
    )
    with pytest.raises(ConfigError, match="sparsitysupport.*true or false"):
        read_scalesim_cfg(path)


def test_cfg_not_modelled_keys_are_logged(tmp_path, caplog):
    with caplog.at_level("INFO", logger="simulator.workloads.scalesim"):
        load_scalesim_cfg(BUNDLED / "scale-sim-v2" / "google2.cfg")
    messages = [record for record in caplog.records]
    assert any(r.levelname == "WARNING" and "USER bandwidth" in r.message for r in messages)
    assert any("Ramulator DRAM traces (UseRamulatorTrace)" in r.message for r in messages)


def test_cfg_bad_value_names_field(tmp_path):
    path = tmp_path / "x.cfg"
    path.write_text("[architecture_presets]\nArrayHeight: 0\nArrayWidth: 4\n")
    with pytest.raises(ConfigError, match=r"ArrayHeight \(rows\)' = '0'"):
        load_scalesim_cfg(path)


ORACLE_CFG = (DATA / "scalesim" / "configs" / "a8x8_ws_calc.cfg").read_text()


@pytest.mark.parametrize(
    ("change", "check"),
    [
        # A % is an ordinary character (SCALE-Sim's ConfigParser would interpolate it).
        (("run_name = a8x8_ws_calc", "run_name = 50%_dense"), lambda c: c.name == "50__dense"),
        # Keys in any case, sections in any case, whole-line comments of both kinds.
        (("ArrayHeight:    8", "# rows\n; still rows\narrayheight = 16"), lambda c: c.rows == 16),
        (("[architecture_presets]", "[Architecture_Presets]"), lambda c: c.cols == 8),
        # SCALE-Sim 2 and 3 read TopologyCsvLoc from [architecture_presets].
        (
            ("Dataflow : ws", 'Dataflow : ws\nTopologyCsvLoc: "./t.csv"'),
            lambda c: c.dataflow is Dataflow.WS,
        ),
        # Values SCALE-Sim strips, and a trailing comma after a Bandwidth list.
        (("Bandwidth : 10", "Bandwidth :   10,  "), lambda c: c.rows == 8),
    ],
)
def test_valid_scalesim_files_import(tmp_path, change, check):
    path = tmp_path / "a.cfg"
    assert change[0] in ORACLE_CFG
    path.write_text(ORACLE_CFG.replace(*change))
    assert check(load_scalesim_cfg(path))


def test_default_section_keys_go_to_the_sections_that_know_them(tmp_path):
    path = tmp_path / "d.cfg"
    path.write_text(
        "[DEFAULT]\nDataflow: os\nInterfaceBandwidth: USER\nBandwidth: 4\n"
        "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\n[run_presets]\n"
    )
    imported = read_scalesim_cfg(path)
    assert imported.config.dataflow is Dataflow.OS
    assert imported.bandwidth_mode is BandwidthMode.USER
    assert imported.config.dram_bytes_per_cycle == 4
    # A section's own value wins over the default.
    path.write_text(path.read_text().replace("ArrayWidth: 8", "ArrayWidth: 8\nDataflow: is"))
    assert load_scalesim_cfg(path).dataflow is Dataflow.IS


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[DEFAULT]\nFoo: 1\n", r"'\[DEFAULT\] Foo' = '1': is not a SCALE-Sim configuration key"),
        ("[architecture_presets]\nArrayWidth: 8\n", r"ArrayHeight' = None: is required"),
        ("[architecture_presets]\nArrayHeight: 8\narrayHEIGHT: 9\nArrayWidth: 8\n", "twice"),
        ("ArrayHeight: 8\n", "is not a cfg file: File contains no section headers"),
        (
            "[architecture_presets]\nArrayHeight: 8 # rows\nArrayWidth: 8\n",
            r"ArrayHeight \(rows\)' = '8 # rows': must be a number \(comments must be on lines",
        ),
        (
            "[architecture_presets]\nArrayHeight: 512\nArrayWidth: 512\n",
            r"IfmapSramSzkB \(not in the file: sparsa's default\) \(ifmap_sram_bytes\)' = 65536",
        ),
        (
            "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nOfmapSramSzkB: 0.03\n",
            r"OfmapSramSzkB \(ofmap_sram_bytes\)' = '0.03': gives ofmap_sram_bytes = 30.72",
        ),
    ],
)
def test_cfg_errors_name_the_section_and_key(tmp_path, text, fragment):
    path = tmp_path / "x.cfg"
    path.write_text(text)
    with pytest.raises(InputError, match=fragment):
        load_scalesim_cfg(path)


def test_topology_rows_as_scalesim_reads_them(tmp_path):
    path = tmp_path / "t.csv"
    # A byte-order mark and CRLF line ends (a spreadsheet's CSV), blank lines, an empty
    # sparsity column and columns after the sparsity one (SCALE-Sim 3 ignores them).
    path.write_bytes(
        b"\xef\xbb\xbfLayer, M, N, K, Sparsity,\r\n\r\na, 4, 5, 6, ,\r\nb, 4, 5, 8, 2:4, 7,\r\n"
    )
    a, b = load_scalesim_topology(path).layers
    assert a.gemm == (4, 5, 6, 1) and a.nm is None
    assert b.gemm == (4, 5, 8, 1) and b.nm == (2, 4)


def test_topology_errors_give_the_line_of_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Layer, M, N, K,\n\n\ng, 1, 2, x,\n")
    with pytest.raises(WorkloadError, match="t.csv line 4: K must be an integer, not 'x'"):
        load_scalesim_topology(path)
    path.write_text("Layer, A, B, C,\ng, 1, 2, 3,\n")
    with pytest.raises(WorkloadError, match="header names columns 2 to 4 M, N, K"):
        load_scalesim_topology(path)
