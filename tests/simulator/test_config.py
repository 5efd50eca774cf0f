"""Accelerator config: validation names the field, YAML round-trips, shipped configs load."""

from __future__ import annotations

import pickle
import re

import pytest
import yaml

from simulator.config import (
    AcceleratorConfig,
    ConfigError,
    Dataflow,
    FoldSchedule,
    InterLayerActivations,
    StreamTiling,
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
        ({"dram_bytes_per_cycle": 0}, "dram_bytes_per_cycle", "positive number"),
        ({"clock_mhz": float("nan")}, "clock_mhz", "positive"),
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
        ({"weight_decoder": "codebook", "decoder_entries": 1}, "decoder_entries", "2 to 65536"),
        ({"huffman_symbols_per_cycle": -1}, "huffman_symbols_per_cycle", ">= 0"),
        ({"zero_gating": "yes"}, "zero_gating", "true or false"),
    ],
)
def test_sparse_pe_combinations_are_refused(changes, field, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)) as info:
        AcceleratorConfig(rows=4, cols=4, **changes)
    assert info.value.field == field
