"""Accelerator config: validation names the field, YAML round-trips, shipped configs load."""

from __future__ import annotations

import pickle
import re

import pytest
import yaml

from compress.errors import InputError
from simulator.config import (
    CLOCK_MHZ_RANGE,
    DRAM_BYTES_PER_CYCLE_RANGE,
    HUFFMAN_SYMBOLS_PER_CYCLE_RANGE,
    AcceleratorConfig,
    ConfigError,
    Dataflow,
    FoldSchedule,
    InterLayerActivations,
    StreamTiling,
    min_buffer_bytes,
    parse_bytes,
)
from simulator.demo import DEFAULT_ACCELERATOR
from simulator.workloads.sources import load_config
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"rows": 0}, "rows", "integer from 1"),
        ({"cols": -3}, "cols", "integer from 1"),
        ({"rows": 2.5}, "rows", "integer"),
        ({"rows": True}, "rows", "integer"),
        ({"dataflow": "xs"}, "dataflow", "one of os, ws, is"),
        ({"ifmap_sram_bytes": -1}, "ifmap_sram_bytes", "integer from 1"),
        ({"filter_sram_bytes": "lots"}, "filter_sram_bytes", "integer from 1"),
        ({"dram_bytes_per_cycle": 0}, "dram_bytes_per_cycle", "from 0.01 to 1e+15"),
        ({"dram_bytes_per_cycle": 1e16}, "dram_bytes_per_cycle", "from 0.01 to 1e+15"),
        ({"clock_mhz": float("nan")}, "clock_mhz", "from 0.001 to 100000"),
        ({"clock_mhz": 1e-300}, "clock_mhz", "1 kHz to 100 GHz"),
        ({"clock_mhz": 1e6}, "clock_mhz", "1 kHz to 100 GHz"),
        ({"clock_mhz": float("inf")}, "clock_mhz", "1 kHz to 100 GHz"),
        ({"clock_mhz": "fast"}, "clock_mhz", "not text"),
        ({"clock_mhz": True}, "clock_mhz", "not true/false"),
        ({"rows": "8"}, "rows", "not text"),
        ({"rows": "1e3"}, "rows", "without an exponent (1000)"),
        ({"rows": [8]}, "rows", "not a list"),
        ({"rows": 65537}, "rows", "from 1 to 65,536"),
        ({"dataflow": ["ws"]}, "dataflow", "one of os, ws, is"),
        ({"dataflow": {"a": 1}}, "dataflow", "one of os, ws, is"),
        ({"energy_table": ["eyeriss"]}, "energy_table", "one of eyeriss, horowitz45"),
        ({"technology_nm": 3}, "technology_nm", "from 7 to 180 (nm)"),
        ({"ifmap_sram_bytes": 1 << 41}, "ifmap_sram_bytes", "to 1,099,511,627,776"),
        ({"ifmap_sram_bytes": "64 XB"}, "ifmap_sram_bytes", "a size such as '64 KiB'"),
        ({"ifmap_sram_bytes": 15}, "ifmap_sram_bytes", "one 8-bit word per PE"),
        ({"filter_sram_bytes": 1}, "filter_sram_bytes", "4 x 4 = 16 PEs need at least 16"),
        ({"activation_bits": 33}, "activation_bits", "1 to 32"),
        ({"accumulator_overflow": "clip"}, "accumulator_overflow", "wrap, saturate"),
        ({"fold_schedule": "pipelined"}, "fold_schedule", "sequential, overlapped"),
        ({"stream_tiling": "auto"}, "stream_tiling", "one of none, fit"),
        ({"stream_tiling": True}, "stream_tiling", "one of none, fit"),
        ({"name": ""}, "name", "non-empty"),
        ({"energy_table": "horowitz65"}, "energy_table", "one of eyeriss, horowitz45"),
        ({"energy_overrides": "table.txt"}, "energy_overrides", ".yaml"),
        ({"sram_double_buffered": "yes"}, "sram_double_buffered", "true or false"),
    ],
)
def test_bad_values_name_field_value_and_bound(changes, field, fragment):
    with pytest.raises(ConfigError) as info:
        AcceleratorConfig.from_dict({"rows": 4, "cols": 4, **changes})
    assert info.value.field == field
    message = str(info.value)
    assert f"'{field}'" in message
    assert repr(changes[field]) in message
    assert fragment in message


def test_unknown_yaml_key_is_an_error_with_a_suggestion(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rows: 4\ncols: 4\ndataflw: ws\n")
    with pytest.raises(ConfigError, match=r"'dataflw'.*did you mean 'dataflow'") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_rows_is_an_error():
    with pytest.raises(ConfigError, match="'rows'.*required"):
        AcceleratorConfig.from_dict({"cols": 4})


def test_sizes_with_units():
    assert parse_bytes("64 KiB") == 65536
    assert parse_bytes("2MiB") == 2 * 1024 * 1024
    assert parse_bytes("512") == 512
    assert parse_bytes(4096) == 4096
    config = AcceleratorConfig.from_dict({"rows": 2, "cols": 2, "ofmap_sram_bytes": "1.5 KiB"})
    assert config.ofmap_sram_bytes == 1536


def test_enums_are_coerced_and_round_trip(tmp_path):
    config = AcceleratorConfig(rows=8, cols=16, dataflow="os", fold_schedule="overlapped")
    assert config.dataflow is Dataflow.OS
    assert config.fold_schedule is FoldSchedule.OVERLAPPED
    path = tmp_path / "c.yaml"
    config.to_yaml(path)
    assert yaml.safe_load(path.read_text())["dataflow"] == "os"
    assert load_config(path) == config


def test_stream_tiling_defaults_to_scalesim_and_round_trips(tmp_path):
    assert AcceleratorConfig(rows=4, cols=4).stream_tiling is StreamTiling.NONE
    config = AcceleratorConfig(rows=4, cols=4, stream_tiling="fit")
    assert config.stream_tiling is StreamTiling.FIT
    path = tmp_path / "c.yaml"
    config.to_yaml(path)
    assert yaml.safe_load(path.read_text())["stream_tiling"] == "fit"
    assert load_config(path) == config
    assert AcceleratorConfig.from_dict(config.to_dict()) == config
    assert config.replace(stream_tiling="none").stream_tiling is StreamTiling.NONE


def test_replace_validates():
    config = AcceleratorConfig(rows=8, cols=8)
    assert config.replace(rows=16).rows == 16
    with pytest.raises(ConfigError, match="'rows'"):
        config.replace(rows=0)
    with pytest.raises(ConfigError, match="'row'.*not a config field"):
        config.replace(row=3)


def test_config_error_pickles():
    error = ConfigError("rows", 0, "must be positive", "x.yaml")
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error)
    assert again.field == "rows"


SHIPPED = sorted(p for p in (ROOT / "configs").glob("*.yaml") if not p.stem.startswith("sweep-"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_configs_load(path):
    config = load_config(path)
    assert config.name == path.stem


def test_the_sparse_edge_config_is_the_demo_s_sparse_variant():
    from simulator.demo import sparse_variant

    shipped = load_config(ROOT / "configs" / "edge-32x32-nm.yaml")
    assert shipped == sparse_variant(DEFAULT_ACCELERATOR)


def test_shipped_config_sizes():
    tpu = load_config(ROOT / "configs" / "tpuv1-256x256.yaml")
    assert (tpu.rows, tpu.cols, tpu.ifmap_sram_bytes) == (256, 256, 24 * 1024 * 1024)


def test_shipped_configs_tile_the_stream():
    # TPUv1 and the edge config tile like their compilers do; the os config tiles its k
    # where that saves input refetches.
    for name in ("edge-32x32", "tpuv1-256x256", "cloud-128x128"):
        assert load_config(ROOT / "configs" / f"{name}.yaml").stream_tiling is StreamTiling.FIT


def test_tpuv1_config_keeps_activations_on_chip_at_28_nm():
    tpu = load_config(ROOT / "configs" / "tpuv1-256x256.yaml")
    assert tpu.inter_layer_activations is InterLayerActivations.ON_CHIP
    assert tpu.technology_nm == 28


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("technology_nm", 5, "must be a number from 7 to 180"),
        ("technology_nm", "28nm", "must be a number from 7 to 180"),
        ("technology_nm", True, "must be a number from 7 to 180"),
        ("inter_layer_activations", "sram", "must be one of dram, on_chip"),
    ],
)
def test_new_fields_refuse_bad_values_naming_them(field, value, fragment):
    with pytest.raises(ConfigError, match=f"'{field}' = .*{fragment}"):
        AcceleratorConfig(rows=4, cols=4, **{field: value})


def test_demo_default_is_the_shipped_edge_config():
    assert load_config(ROOT / "configs" / "edge-32x32.yaml") == DEFAULT_ACCELERATOR


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_sparse_pe_fields_parse_and_round_trip(tmp_path):
    config = AcceleratorConfig(rows=4, cols=4, pe_kind="nm", nm_patterns=["2:4", "1:4"])
    assert config.nm_patterns == ((2, 4), (1, 4))
    assert config.nm_group == 4 and config.nm_slots == (1, 2)
    assert config.to_dict()["nm_patterns"] == "2:4,1:4"
    path = tmp_path / "nm.yaml"
    config.to_yaml(path)
    assert load_config(path) == config
    as_text = AcceleratorConfig(rows=4, cols=4, pe_kind="nm", nm_patterns="2:4, 1:4")
    assert as_text == config
    codebook = AcceleratorConfig(
        rows=2, cols=2, weight_decoder="codebook", decoder_entries=16, decoder_entry_bits=8
    )
    assert codebook.weight_decoder == "codebook" and codebook.decoder_entries == 16


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"pe_kind": "nm"}, "nm_patterns", "pe_kind: nm needs the patterns"),
        ({"nm_patterns": ["2:4"]}, "nm_patterns", "needs pe_kind: nm (pe_kind is dense)"),
        ({"pe_kind": "skip", "nm_patterns": "2:4"}, "nm_patterns", "pe_kind is skip"),
        ({"pe_kind": "nm", "nm_patterns": ["2:4", "2:8"]}, "nm_patterns", "share one M"),
        ({"pe_kind": "nm", "nm_patterns": ["4:4"]}, "nm_patterns", "4:4, which is dense"),
        ({"pe_kind": "nm", "nm_patterns": ["5:4"]}, "nm_patterns", "N must be <= M"),
        ({"pe_kind": "nm", "nm_patterns": 24}, "nm_patterns", "list of 'N:M' patterns"),
        ({"decoder_entries": 16}, "decoder_entries", "needs weight_decoder: codebook"),
        ({"decoder_vector_length": 8}, "decoder_vector_length", "weight_decoder is none"),
        ({"weight_decoder": "lut"}, "weight_decoder", "none, codebook"),
        ({"weight_decoder": "codebook", "decoder_entries": 1}, "decoder_entries", "2 to 65,536"),
        ({"huffman_symbols_per_cycle": -1}, "huffman_symbols_per_cycle", "0 (no decoder) or"),
        ({"huffman_symbols_per_cycle": 1e-9}, "huffman_symbols_per_cycle", "from 0.01 to 1024"),
        ({"zero_gating": "yes"}, "zero_gating", "true or false"),
    ],
)
def test_sparse_pe_combinations_are_refused(changes, field, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)) as info:
        AcceleratorConfig(rows=4, cols=4, **changes)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("clock_mhz", "1.5e3", 1500.0),
        ("clock_mhz", "1e3", 1000.0),
        ("dram_bytes_per_cycle", "2.5E1", 25.0),
        ("technology_nm", "4.5e1", 45.0),
        ("huffman_symbols_per_cycle", "1e0", 1.0),
    ],
)
def test_numbers_yaml_1_1_reads_as_text_are_numbers(tmp_path, field, text, value):
    # YAML 1.2 reads 1.5e3 as a float; PyYAML (YAML 1.1) leaves it a string.
    path = tmp_path / "a.yaml"
    path.write_text(f"rows: 4\ncols: 4\n{field}: {text}\n")
    assert isinstance(yaml.safe_load(path.read_text())[field], str)
    config = load_config(path)
    assert getattr(config, field) == value
    assert AcceleratorConfig(rows=4, cols=4, **{field: text}) == config.replace(name="accelerator")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("5\n", "must hold a YAML mapping (key: value lines) at the top level, not a int"),
        ("- rows: 4\n", "at the top level, not a list"),
        ("rows: [4\n", "is not valid YAML"),
        ("rows: 4\ncols: 4\n5: 3\nx: 2\n", "accelerator field '5' = 3: is not a config field"),
    ],
)
def test_yaml_files_of_the_wrong_shape_are_one_clear_error(tmp_path, text, fragment):
    path = tmp_path / "a.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(fragment)):
        load_config(path)


def test_a_config_file_that_is_not_utf8_or_is_a_directory_is_named(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_bytes(b"rows: 4\ncols: 4\nname: caf\xe9\n")
    with pytest.raises(InputError, match=r"is not UTF-8 text \(byte 0xe9 at offset 25\)"):
        load_config(path)
    (tmp_path / "d.yaml").mkdir()
    with pytest.raises(InputError, match="d.yaml is a directory, not a file"):
        load_config(tmp_path / "d.yaml")


def test_a_file_name_a_config_name_cannot_hold_names_it_after_its_letters(tmp_path):
    for stem, name in (("my config", "my_config"), (".hidden", "hidden"), ("%%", "accelerator")):
        path = tmp_path / f"{stem}.yaml"
        path.write_text("rows: 4\ncols: 4\n")
        assert load_config(path).name == name


def test_a_missing_energy_override_file_names_the_field(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("rows: 4\ncols: 4\nenergy_overrides: nope.yaml\n")
    with pytest.raises(
        ConfigError, match=r"'energy_overrides' = 'nope.yaml': names no file"
    ) as info:
        load_config(path)
    assert str(tmp_path / "nope.yaml") in str(info.value)


def test_buffers_hold_one_word_per_pe_of_their_operand():
    assert min_buffer_bytes(16, 16, 4, 2) == {
        "ifmap_sram_bytes": 128,
        "filter_sram_bytes": 64,
        "ofmap_sram_bytes": 128,
    }
    least = dict(ifmap_sram_bytes=128, filter_sram_bytes=64, ofmap_sram_bytes=128)
    AcceleratorConfig(rows=16, cols=16, activation_bits=4, weight_bits=2, **least)
    for name in least:
        with pytest.raises(ConfigError, match=f"'{name}' = .*word per PE: rows x cols = 16 x 16"):
            AcceleratorConfig(
                rows=16, cols=16, activation_bits=4, weight_bits=2, **{**least, name: 63}
            )
    # Every shipped config, and a SCALE-Sim-sized 256 x 256 array with 64 KiB, is allowed.
    AcceleratorConfig(rows=256, cols=256)


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("clock_mhz", CLOCK_MHZ_RANGE[0], CLOCK_MHZ_RANGE[1]),
        ("dram_bytes_per_cycle", DRAM_BYTES_PER_CYCLE_RANGE[0], DRAM_BYTES_PER_CYCLE_RANGE[1]),
        ("huffman_symbols_per_cycle", *HUFFMAN_SYMBOLS_PER_CYCLE_RANGE),
    ],
)
def test_number_bounds_are_inclusive_and_refused_just_past(field, low, high):
    for value in (low, high):
        assert getattr(AcceleratorConfig(rows=4, cols=4, **{field: value}), field) == value
    for value in (low * 0.999, high * 1.001, -low):
        with pytest.raises(ConfigError, match=f"'{field}' = "):
            AcceleratorConfig(rows=4, cols=4, **{field: value})
