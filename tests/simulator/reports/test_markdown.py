"""Golden result.json and report.md for a small workload, the plots, and re-rendering.

The golden files in ``tests/golden/small/`` are compared field by field (numbers with
``pytest.approx``). After an intended change of the model or the report, rewrite them
with ``pytest tests/simulator/reports/test_markdown.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from matplotlib.image import imread

from simulator import load_config, load_workload_yaml, simulate
from simulator.reports.markdown import render_markdown, write_report
from simulator.reports.plots import PLOT_FILES
from simulator.results.result import RESULT_FORMAT_VERSION, SimResult
from tests.conftest import GOLDEN

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?")


@pytest.fixture(scope="module")
def small() -> SimResult:
    # The source is recorded relative to the golden folder so the files do not depend
    # on where the repository is checked out.
    workload = replace(
        load_workload_yaml(GOLDEN / "small-workload.yaml"), source="small-workload.yaml"
    )
    return simulate(workload, load_config(GOLDEN / "small-accel.yaml"))


def assert_same(actual: Any, expected: Any, where: str = "result") -> None:
    """Recursive comparison: same keys, same strings, numbers within 1e-9 relative."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert sorted(actual) == sorted(expected), f"{where}: keys differ"
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{where}[{i}]")
    elif isinstance(expected, bool | str) or expected is None:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
    else:
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12), where


def assert_same_text(actual: str, expected: str) -> None:
    """Line by line: the words equal, the numbers in them within 1e-6 relative."""
    actual_lines, expected_lines = actual.splitlines(), expected.splitlines()
    assert len(actual_lines) == len(expected_lines)
    for n, (a, e) in enumerate(zip(actual_lines, expected_lines, strict=True), 1):
        assert NUMBER.sub("#", a) == NUMBER.sub("#", e), f"line {n}: {a!r} != {e!r}"
        numbers = [[float(x.replace(",", "")) for x in NUMBER.findall(s)] for s in (a, e)]
        assert numbers[0] == pytest.approx(numbers[1], rel=1e-6), f"line {n}"


def test_golden_result_json(small, update_golden):
    path = GOLDEN / "small" / "result.json"
    if update_golden:
        small.write_json(path)
    expected = json.loads(path.read_text())
    assert expected["format_version"] == RESULT_FORMAT_VERSION
    assert_same(json.loads(json.dumps(small.to_dict())), expected)


def test_golden_report_md(small, update_golden):
    path = GOLDEN / "small" / "report.md"
    if update_golden:
        path.write_text(render_markdown(small))
    assert_same_text(render_markdown(small), path.read_text())


def test_report_contents(small):
    text = render_markdown(small)
    for heading in ("## Summary", "## Area (mm^2 at 45 nm)", "## Energy by component (at 45 nm)",
                    "## Top energy consumers", "## Layers", "## What limits the layers",
                    "## Activations between layers"):  # fmt: skip
        assert heading in text
    for layer in small.layers:
        assert f"| {layer.name} |" in text
    assert f"{small.cycles.total:,}" in text
    assert "![roofline](roofline.png)" in text


def test_json_round_trip_and_rerender(small, tmp_path):
    small.write_json(tmp_path / "result.json")
    again = SimResult.read_json(tmp_path / "result.json")
    assert again == small
    assert render_markdown(again) == render_markdown(small)


def test_plots_are_written_and_readable(small, tmp_path):
    written = write_report(small, tmp_path)
    assert [p.name for p in written] == ["report.md", *PLOT_FILES]
    for name in PLOT_FILES:
        image = imread(tmp_path / name)
        height, width = image.shape[:2]
        assert 500 <= height <= 2000 and 900 <= width <= 3000, (name, image.shape)
        assert image.std() > 0.05  # not blank


def test_old_result_format_is_refused(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"format_version": 1}))
    with pytest.raises(ValueError, match="format_version 1 is not supported"):
        SimResult.read_json(path)


def test_the_suggested_output_buffer_keeps_partial_sums_on_chip(small):
    # The conv's output block: 144 outputs x 8 columns x 24-bit partial sums = 3456 bytes,
    # doubled for double buffering.
    assert "`ofmap_sram_bytes` >= 6.75 KiB keeps them on chip" in render_markdown(small)
    workload = load_workload_yaml(GOLDEN / "small-workload.yaml")

    def spilled(ofmap_bytes: int) -> float:
        config = small.config.replace(ofmap_sram_bytes=ofmap_bytes)
        return sum(
            layer.memory.output.dram_read_bytes for layer in simulate(workload, config).layers
        )

    assert spilled(6912) == 0
    assert spilled(6904) > 0


def test_the_suggested_stream_tiling_keeps_partial_sums_on_chip_at_the_stated_cost(small):
    text = render_markdown(small)
    workload = load_workload_yaml(GOLDEN / "small-workload.yaml")
    tiled = simulate(workload, small.config.replace(stream_tiling="fit"))
    assert sum(layer.memory.output.dram_read_bytes for layer in tiled.layers) == 0
    spilling = [x.name for x in small.layers if x.memory.output.dram_read_bytes > 0]
    added = sum(
        tiled.layer(name).cycles.compute - small.layer(name).cycles.compute for name in spilling
    )
    # 1 KiB double-buffered: 4096 bits / (8 columns x 24 bits) = 21 vectors per tile.
    assert "`stream_tiling: fit` keeps them on chip by streaming at most 21 vectors" in text
    assert f"+{added:,} compute cycles" in text
    # conv: m = 144 in 7 tiles over 2 x 9 fold positions: 6 x 18 more preloads, each
    # tile's fill and drain (8 + 8 - 2 cycles; overlapped, so the preloads hide).
    assert "conv 7 tiles, +108 preloads, +1,512 cycles" in text


def test_report_names_the_tiling_and_when_even_one_vector_does_not_fit(small):
    config = small.config.replace(stream_tiling="fit")
    workload = load_workload_yaml(GOLDEN / "small-workload.yaml")
    text = render_markdown(simulate(workload, config))
    assert "overlapped folds, stream tiles of 21 vectors," in text
    assert "Partial sums spill" not in text
    # 8 columns x 24 bits = 192 bits per vector; 16 bytes double-buffered = 64 bits (on 2
    # rows, so that 16 bytes still hold one byte per PE).
    tiny = simulate(workload, config.replace(rows=2, ofmap_sram_bytes=16))
    text = render_markdown(tiny)
    assert "stream tiles of 1 vector," in text
    assert "Tiling is on, but even one streamed vector's partial sums (8 x 24 bits)" in text


def test_golden_prices_registers_and_hops_as_flip_flop_writes():
    # The golden result's energy table: a PE register update and a systolic hop cost one
    # NanGate FreePDK45 DFF_X1 write per bit (tests/simulator/model/test_energy.py derives
    # it from the liberty figures), a register read nothing; energies carry their unit.
    from tests.simulator.model.test_energy import FLOP_PJ

    golden = json.loads((GOLDEN / "small" / "result.json").read_text())
    prices = golden["energy_table"]["prices"]
    assert prices["register.write"] == {"value": pytest.approx(FLOP_PJ, rel=1e-4), "unit": "pJ/bit"}
    assert prices["array.hop"]["value"] == prices["register.write"]["value"]
    assert prices["register.read"]["value"] == 0.0
    layer = golden["layers"][0]
    assert (
        layer["energy"]["unit"] == "pJ" and layer["energy_pj"]["total"] == layer["energy"]["total"]
    )
