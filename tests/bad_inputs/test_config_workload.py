"""Bad accelerator configs (YAML and SCALE-Sim cfg), workloads (topology CSV, YAML, zoo,
ONNX) and ``sparsa simulate`` options: each is one ``sparsa: error:`` line naming the file,
the field, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_inputs.harness import assert_one_line_error

GOOD_ACCEL = "rows: 8\ncols: 8\n"
GOOD_CFG = (
    "[general]\nrun_name = t\n[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\n"
    "IfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nDataflow: ws\n"
    "[run_presets]\nInterfaceBandwidth: CALC\n"
)
LAUGHS = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdef", "bcdefg", strict=True)
)
SIMULATE = ("simulate", "--accel", "{d}/a.yaml", "--workload", "digits-mlp", "--out", "{d}/out")


def _case(case_id: str, files: dict[str, str | bytes], argv, fragment: str):
    return pytest.param(files, tuple(argv), fragment, id=case_id)


def accel(case_id: str, text: str | bytes, fragment: str):
    """An accelerator config YAML ``a.yaml``."""
    return _case(case_id, {"a.yaml": text}, SIMULATE, fragment)


def field(case_id: str, line: str, fragment: str):
    """A good config with one more ``field: value`` line."""
    return accel(case_id, GOOD_ACCEL + line + "\n", fragment)


def cfg(case_id: str, text: str | bytes, fragment: str):
    """A SCALE-Sim config ``a.cfg``."""
    argv = [arg.replace("a.yaml", "a.cfg") for arg in SIMULATE]
    return _case(case_id, {"a.cfg": text}, argv, fragment)


def workload(case_id: str, name: str, text: str | bytes, fragment: str):
    """A workload file ``name`` (topology CSV, YAML, ONNX) on a good config."""
    argv = [arg if arg != "digits-mlp" else f"{{d}}/{name}" for arg in SIMULATE]
    return _case(case_id, {"a.yaml": GOOD_ACCEL, name: text}, argv, fragment)


def layers(case_id: str, body: str, fragment: str):
    """A workload YAML of the given ``layers:`` lines."""
    return workload(case_id, "w.yaml", "layers:\n" + body, fragment)


def option(case_id: str, args: list[str], fragment: str, files=None):
    """``sparsa simulate`` on a good config with ``args`` (replacing the defaults given)."""
    argv = list(SIMULATE)
    for flag, *value in (args[i : i + 2] for i in range(0, len(args), 2)):
        if flag in argv:
            at = argv.index(flag)
            argv[at : at + 2] = [flag, *value]
        else:
            argv += [flag, *value]
    return _case(case_id, {"a.yaml": GOOD_ACCEL, **(files or {})}, argv, fragment)


CONFIG_YAML = [
    accel("yaml-scalar", "5\n", "a.yaml must hold a YAML mapping (key: value lines)"),
    accel("yaml-list", "- rows: 8\n", "at the top level, not a list"),
    accel("yaml-not-utf8", b"rows: 8\ncols: 8\nname: caf\xe9\n", "is not UTF-8 text (byte 0xe9"),
    accel("yaml-syntax", "rows: [8\n", "a.yaml is not valid YAML"),
    accel("yaml-billion-laughs", LAUGHS, "YAML nodes through its aliases; at most 1,000,000"),
    accel("yaml-empty", "", "'rows' = None: is required"),
    field("rows-text", "rowz: 8", "'rowz' = 8: is not a config field (did you mean 'rows'?)"),
    accel("rows-quoted", "rows: '8'\ncols: 8\n", "'rows' = '8': must be an integer from 1 to"),
    accel("rows-decimal", "rows: 8.5\ncols: 8\n", "'rows' = 8.5: must be an integer from 1"),
    accel("rows-bool", "rows: true\ncols: 8\n", "'rows' = True: must be an integer"),
    accel("rows-exponent", "rows: 1e3\ncols: 8\n", "written without an exponent (1000)"),
    accel("rows-list", "rows: [8]\ncols: 8\n", "'rows' = [8]: must be an integer from 1 to 65,536"),
    accel("rows-zero", "rows: 0\ncols: 8\n", "'rows' = 0: must be an integer from 1 to 65,536"),
    accel("rows-too-big", "rows: 65537\ncols: 8\n", "'rows' = 65537: must be an integer"),
    accel("rows-missing", "cols: 8\n", "'rows' = None: is required"),
    field("key-not-text", "5: 3", "accelerator field '5' = 3: is not a config field"),
    field("clock-text", "clock_mhz: fast", "'clock_mhz' = 'fast': must be a number from 0.001"),
    field("clock-tiny", "clock_mhz: 1e-300", "'clock_mhz' = 1e-300: must be a number from 0.001"),
    field("clock-below-1khz", "clock_mhz: 0.0009", "(MHz: 1 kHz to 100 GHz)"),
    field("clock-huge", "clock_mhz: 1e7", "'clock_mhz' = 10000000.0: must be a number from"),
    field("clock-zero", "clock_mhz: 0", "'clock_mhz' = 0: must be a number from 0.001 to 100000"),
    field("clock-nan", "clock_mhz: .nan", "'clock_mhz' = nan: must be a number"),
    field("clock-inf", "clock_mhz: .inf", "'clock_mhz' = inf: must be a number"),
    field("clock-bool", "clock_mhz: yes", "'clock_mhz' = True: must be a number"),
    field("dram-zero", "dram_bytes_per_cycle: 0", "'dram_bytes_per_cycle' = 0: must be a number"),
    field("dram-tiny", "dram_bytes_per_cycle: 0.001", "from 0.01 to 1e+15 (bytes per array"),
    field("dram-huge", "dram_bytes_per_cycle: 1e16", "'dram_bytes_per_cycle' = 1e+16"),
    field("dram-text", "dram_bytes_per_cycle: fast", "'dram_bytes_per_cycle' = 'fast'"),
    field("huffman-negative", "huffman_symbols_per_cycle: -1", "0 (no decoder) or a number"),
    field("huffman-tiny", "huffman_symbols_per_cycle: 1e-9", "from 0.01 to 1024 (symbols"),
    field("technology-node", "technology_nm: 3", "'technology_nm' = 3: must be a number from 7"),
    field("activation-bits", "activation_bits: 33", "'activation_bits' = 33: must be an integer"),
    field("accumulator-bits", "accumulator_bits: 1", "'accumulator_bits' = 1: must be an integer"),
    field("sram-one-byte", "ifmap_sram_bytes: 1", "8 x 8 = 64 PEs need at least 64 bytes"),
    field("sram-16bit-words", "activation_bits: 16\nofmap_sram_bytes: 64", "one 16-bit word"),
    field("sram-text", "filter_sram_bytes: lots", "'filter_sram_bytes' = 'lots': must be"),
    field("sram-unit", "ifmap_sram_bytes: 64 XB", "or a size such as '64 KiB'"),
    field("sram-huge", "ofmap_sram_bytes: 2 TiB", "'ofmap_sram_bytes' = '2 TiB'"),
    field("sram-fraction", "ifmap_sram_bytes: 0.01 KiB", "'0.01 KiB': must be an integer from 1"),
    field("dataflow-list", "dataflow: [ws]", "'dataflow' = ['ws']: must be one of os, ws, is"),
    field("dataflow-unknown", "dataflow: xs", "'dataflow' = 'xs': must be one of os, ws, is"),
    field("schedule-mapping", "fold_schedule: {a: 1}", "must be one of sequential, overlapped"),
    field("tiling-bool", "stream_tiling: true", "'stream_tiling' = True: must be one of none"),
    field("bool-as-int", "zero_gating: 1", "'zero_gating' = 1: must be true or false"),
    field("name-number", "name: 5", "'name' = 5: must be a non-empty name"),
    field("name-spaces", "name: my chip", "'name' = 'my chip': must be a non-empty name"),
    field("energy-table", "energy_table: tsmc5", "must be a built-in energy table"),
    field("overrides-missing", "energy_overrides: nope.yaml", "'energy_overrides' = 'nope"),
    field("overrides-suffix", "energy_overrides: 5", "'energy_overrides' = 5: must be empty"),
    field("nm-without-patterns", "pe_kind: nm", "pe_kind: nm needs the patterns it supports"),
    field("nm-patterns-number", "pe_kind: nm\nnm_patterns: 5", "list of 'N:M' patterns"),
    field("nm-patterns-dense", "pe_kind: nm\nnm_patterns: ['4:4']", "4:4, which is dense"),
    field("nm-on-dense-pe", "nm_patterns: ['2:4']", "needs pe_kind: nm (pe_kind is dense)"),
    field("decoder-without-codebook", "decoder_entries: 16", "needs weight_decoder: codebook"),
    _case(
        "yaml-directory",
        {"a.yaml/x": "x"},
        SIMULATE,
        "accelerator config {d}/a.yaml is a directory, not a file",
    ),
    option("yaml-missing", ["--accel", "{d}/nope.yaml"], "accelerator config {d}/nope.yaml does"),
]

SCALESIM_CFG = [
    cfg("cfg-not-utf8", GOOD_CFG.encode() + b"run_name = caf\xe9\n", "is not UTF-8 text"),
    cfg("cfg-no-section", "ArrayHeight: 8\n", "is not a cfg file: File contains no section"),
    cfg("cfg-empty", "", "'[architecture_presets] ArrayHeight' = None: is required"),
    cfg("cfg-unknown-key", GOOD_CFG + "Foo: 1\n", "'[run_presets] Foo' = '1': is not a SCALE"),
    cfg(
        "cfg-key-twice-in-any-case",
        GOOD_CFG.replace("ArrayWidth: 8", "ArrayWidth: 8\narraywidth: 9"),
        "'[architecture_presets] arraywidth' = '9': is given twice (also as ArrayWidth)",
    ),
    cfg("cfg-default-unknown", "[DEFAULT]\nFoo: 1\n" + GOOD_CFG, "'[DEFAULT] Foo' = '1'"),
    cfg(
        "cfg-inline-comment",
        GOOD_CFG.replace("ArrayHeight: 8", "ArrayHeight: 8 ; rows"),
        "ArrayHeight (rows)' = '8 ; rows': must be a number (comments must be on lines",
    ),
    cfg(
        "cfg-no-height",
        GOOD_CFG.replace("ArrayHeight: 8\n", ""),
        "'[architecture_presets] ArrayHeight' = None: is required",
    ),
    cfg(
        "cfg-height-zero",
        GOOD_CFG.replace("ArrayHeight: 8", "ArrayHeight: 0"),
        "ArrayHeight (rows)' = '0': must be an integer from 1 to 65,536",
    ),
    cfg(
        "cfg-height-text",
        GOOD_CFG.replace("ArrayHeight: 8", "ArrayHeight: eight"),
        "ArrayHeight (rows)' = 'eight': must be a number",
    ),
    cfg(
        "cfg-height-nan",
        GOOD_CFG.replace("ArrayHeight: 8", "ArrayHeight: nan"),
        "ArrayHeight (rows)' = 'nan': must be a finite number",
    ),
    cfg(
        "cfg-sram-zero",
        GOOD_CFG.replace("IfmapSramSzkB: 64", "IfmapSramSzkB: 0"),
        "IfmapSramSzkB (ifmap_sram_bytes)' = '0': must be an integer from 1",
    ),
    cfg(
        "cfg-sram-below-a-word-per-pe",
        GOOD_CFG.replace("ArrayHeight: 8", "ArrayHeight: 512").replace(
            "ArrayWidth: 8", "ArrayWidth: 512"
        ),
        "IfmapSramSzkB (ifmap_sram_bytes)' = '64': gives ifmap_sram_bytes = 65536, which must "
        "hold at least one 8-bit word per PE: rows x cols = 512 x 512 = 262,144 PEs",
    ),
    cfg(
        "cfg-dataflow",
        GOOD_CFG.replace("Dataflow: ws", "Dataflow: xs"),
        "Dataflow (dataflow)' = 'xs': must be one of os, ws, is",
    ),
    cfg(
        "cfg-bandwidth-mode",
        GOOD_CFG.replace("CALC", "FAST"),
        "'[run_presets] InterfaceBandwidth' = 'FAST': must be CALC or USER",
    ),
    cfg(
        "cfg-user-without-bandwidth",
        GOOD_CFG.replace("CALC", "USER"),
        "'[architecture_presets] Bandwidth' = None: is required with InterfaceBandwidth: USER",
    ),
    cfg(
        "cfg-bandwidth-text",
        GOOD_CFG.replace("CALC", "USER").replace("Dataflow: ws", "Dataflow: ws\nBandwidth: ten"),
        "'[architecture_presets] Bandwidth' = 'ten': must be positive integers",
    ),
    cfg(
        "cfg-duplicate-section",
        GOOD_CFG + "[general]\nrun_name = u\n",
        "is not a cfg file: While reading from",
    ),
    cfg(
        "cfg-bandwidth-huge",
        GOOD_CFG.replace("CALC", "USER").replace("Dataflow: ws", "Dataflow: ws\nBandwidth: 1e20"),
        "'[architecture_presets] Bandwidth' = '1e20': must be positive integers",
    ),
    cfg(
        "cfg-bandwidth-too-wide",
        GOOD_CFG.replace("CALC", "USER").replace(
            "Dataflow: ws", "Dataflow: ws\nBandwidth: 100000000000000000000"
        ),
        "Bandwidth (dram_bytes_per_cycle)' = 1e+20: must be a number from 0.01 to 1e+15",
    ),
    cfg(
        "cfg-sparsity-flag",
        GOOD_CFG + "[sparsity]\nSparsitySupport: maybe\n",
        "'[sparsity] sparsitysupport' = 'maybe': must be true or false",
    ),
    cfg(
        "cfg-row-wise-sparsity",
        GOOD_CFG + "[sparsity]\nSparsitySupport: true\nOptimizedMapping: true\n",
        "'OptimizedMapping' = 'true': SCALE-Sim's row-wise sparsity is not supported",
    ),
    _case(
        "cfg-directory",
        {"a.cfg/x": "x"},
        [arg.replace("a.yaml", "a.cfg") for arg in SIMULATE],
        "SCALE-Sim config {d}/a.cfg is a directory, not a file",
    ),
]

HEADER = "Layer, M, N, K,\n"
CONV = "name, h, w, r, s, c, k, stride,\n"
TOPOLOGY = [
    workload("csv-header-only", "t.csv", HEADER, "needs a header line and at least one layer"),
    workload("csv-text-dim", "t.csv", HEADER + "g, 1, two, 3,\n", "line 2: N must be an integer"),
    workload("csv-blank-lines", "t.csv", HEADER + "\n\ng, 1, 2, x,\n", "t.csv line 4: K must"),
    workload("csv-negative", "t.csv", HEADER + "g, 4, -4, 4,\n", "line 2: gemm: n must be a"),
    workload("csv-gemm-fields", "t.csv", HEADER + "g, 1, 2,\n", "a GEMM row needs name, M, N"),
    workload("csv-conv-fields", "t.csv", CONV + "c, 8, 8, 3,\n", "(a GEMM topology's header"),
    workload("csv-window", "t.csv", CONV + "c, 2, 2, 3, 3, 1, 1, 1,\n", "larger than the padded"),
    workload("csv-nm", "t.csv", HEADER[:-1] + " S,\ng, 1, 2, 3, 4:2,\n", "N must be <= M"),
    workload("csv-no-name", "t.csv", HEADER + ", 4, 4, 4,\n", "the first field must be the layer"),
    workload("csv-not-utf8", "t.csv", HEADER.encode() + b"g\xe9, 1, 2, 3,\n", "is not UTF-8"),
    workload("csv-duplicate", "t.csv", HEADER + "g, 1, 1, 1,\ng, 1, 1, 1,\n", "duplicate layer"),
    workload(
        "csv-too-big",
        "t.csv",
        HEADER + "g, 100000000, 100000000, 100000,\n",
        "line 2: layer 'g': its GEMMs m x n x k x groups = 100,000,000 x 100,000,000 x 100,000",
    ),
    workload("csv-dim-over-2^45", "t.csv", HEADER + "g, 1, 1, 99999999999999999,\n", "k = 99,999"),
    _case(
        "csv-directory",
        {"a.yaml": GOOD_ACCEL, "t.csv/x": "x"},
        [a if a != "digits-mlp" else "{d}/t.csv" for a in SIMULATE],
        "workload file {d}/t.csv is a directory, not a file",
    ),
]

GEMM = "  - {name: g, gemm: {m: 1, n: 2, k: 3}"
WORKLOAD_YAML = [
    workload("wl-scalar", "w.yaml", "5\n", "w.yaml must hold a YAML mapping"),
    workload("wl-list", "w.yaml", "- a\n", "at the top level, not a list"),
    workload("wl-not-utf8", "w.yaml", b"name: caf\xe9\n", "w.yaml is not UTF-8 text"),
    workload("wl-layers-map", "w.yaml", "layers: {a: 1}\n", "'layers' must be a non-empty list"),
    workload("wl-layers-empty", "w.yaml", "layers: []\n", "'layers' must be a non-empty list"),
    workload("wl-batch-text", "w.yaml", f"batch: '2'\nlayers:\n{GEMM}}}\n", "'batch' must be"),
    workload("wl-batch-zero", "w.yaml", f"batch: 0\nlayers:\n{GEMM}}}\n", "not 0"),
    workload("wl-name-map", "w.yaml", f"name: {{a: 1}}\nlayers:\n{GEMM}}}\n", "'name' must be"),
    workload("wl-unknown-key", "w.yaml", f"layer: 1\nlayers:\n{GEMM}}}\n", "unknown key 'layer'"),
    layers("wl-layer-not-map", "  - 5\n", "layer #0 must be a mapping, not 5"),
    layers("wl-layer-name-list", "  - {name: [1], gemm: {m: 1, n: 1, k: 1}}\n", "name must be"),
    layers("wl-no-operator", "  - {name: g}\n", "needs exactly one operator key among conv"),
    layers(
        "wl-two-operators", f"{GEMM}, linear: {{in_features: 1}}}}\n", "found ['linear', 'gemm']"
    ),
    layers("wl-operator-list", "  - {name: g, gemm: [1, 2, 3]}\n", "gemm must be a mapping"),
    layers("wl-unknown-param", "  - {name: g, gemm: {m: 1, n: 1, k: 1, j: 2}}\n", "key 'j'"),
    layers("wl-missing-param", "  - {name: g, gemm: {m: 1, n: 2}}\n", "gemm needs m, n, k;"),
    layers("wl-dim-text", "  - {name: g, gemm: {m: '1', n: 2, k: 3}}\n", "m must be a positive"),
    layers("wl-dim-decimal", "  - {name: g, gemm: {m: 1.5, n: 2, k: 3}}\n", "not 1.5"),
    layers("wl-dim-zero", "  - {name: g, gemm: {m: 0, n: 2, k: 3}}\n", "m must be a positive"),
    layers("wl-dim-bool", "  - {name: g, gemm: {m: true, n: 2, k: 3}}\n", "not True"),
    layers(
        "wl-stride-triple",
        "  - {name: c, conv: {h: 8, w: 8, c: 3, k: 4, r: 3, s: 3, stride: [1, 2, 3]}}\n",
        "stride must be an integer from 1 to 2^45 or a pair of them, not [1, 2, 3]",
    ),
    layers(
        "wl-groups",
        "  - {name: c, conv: {h: 8, w: 8, c: 3, k: 4, r: 3, s: 3, groups: 2}}\n",
        "groups=2 must divide both channels c=3 and filters k=4",
    ),
    layers("wl-density-nan", f"{GEMM}, activation_density: .nan}}\n", "in (0, 1], not nan"),
    layers("wl-density-big", f"{GEMM}, weight_density: 2}}\n", "weight_density must be a"),
    layers("wl-density-text", f"{GEMM}, weight_density: half}}\n", "not 'half'"),
    layers("wl-nm-number", f"{GEMM}, nm: 5}}\n", "layer 'g': N:M pattern must look like"),
    layers("wl-two-declared", f"{GEMM}, nm: '2:4', weight_density: 0.5}}\n", "not two of them"),
    layers(
        "wl-too-big",
        "  - {name: g, gemm: {m: 1000000, n: 1000000, k: 1000000}}\n",
        "1e+18 MACs; a layer may hold at most 2^45 = 35,184,372,088,832 MACs",
    ),
    layers(
        "wl-workload-too-big",
        "  - {name: a, gemm: {m: 4194304, n: 4194304, k: 2}}\n"
        "  - {name: b, gemm: {m: 1, n: 1, k: 1}}\n",
        "its 2 layers hold 3.52e+13 MACs in total; a workload may hold at most 2^45",
    ),
    layers(
        "wl-declared-too-wide",
        "  - {name: g, gemm: {m: 1, n: 20000000, k: 4}, nm: '2:4'}\n",
        "declared sparsity (nm) needs at most 2^24 = 16,777,216 output columns",
    ),
    layers("wl-duplicate", f"{GEMM}}}\n{GEMM}}}\n", "duplicate layer name 'g'"),
]

ZOO_ONNX = [
    option("zoo-unknown", ["--workload", "resnet"], "unknown zoo network 'resnet' (did you"),
    option("zoo-param-unknown", ["--workload", "bert-base:foo=3"], "has no parameter 'foo'"),
    option("zoo-param-zero", ["--workload", "bert-base:seq=0"], "'seq' must be a positive"),
    option("zoo-param-text", ["--workload", "bert-base:seq=x"], "not 'x'"),
    option("zoo-param-exponent", ["--workload", "bert-base:seq=1e3"], "not '1e3'"),
    option("zoo-param-twice", ["--workload", "bert-base:seq=3,seq=4"], "given twice"),
    option("zoo-param-form", ["--workload", "bert-base:seq"], "must look like 'key=value'"),
    option("zoo-param-none", ["--workload", "resnet18:seq=3"], "parameters: none"),
    option(
        "zoo-param-too-big",
        ["--workload", "bert-base:seq=100000000"],
        "zoo network 'bert-base' with batch=1, seq=100000000: layer 'attention.self.query'",
    ),
    option(
        "zoo-batch-too-big",
        ["--workload", "resnet18", "--batch", "100000000000"],
        "zoo network 'resnet18' with batch=100000000000: layer 'conv1'",
    ),
    workload("onnx-text", "m.onnx", "hello\n", "m.onnx: not a readable ONNX model"),
    workload("onnx-empty", "m.onnx", b"", "m.onnx: not an ONNX model (it holds no graph)"),
    option("onnx-missing", ["--workload", "{d}/nope.onnx"], "workload file {d}/nope.onnx does"),
    option("workload-suffix", ["--workload", "{d}/net.txt"], "files must end in .csv, .yaml"),
]

OPTIONS = [
    option("batch-zero", ["--batch", "0"], "argument --batch: must be an integer >= 1, not '0'"),
    option(
        "batch-negative", ["--batch", "-3"], "argument --batch: must be an integer >= 1, not '-3'"
    ),
    option(
        "batch-decimal", ["--batch", "2.5"], "argument --batch: must be an integer >= 1, not '2.5'"
    ),
    option(
        "seed-negative",
        ["--seed", "-1"],
        "argument --seed: must be an integer from 0 to 4,294,967,295, not '-1'",
    ),
    option("seed-text", ["--seed", "x"], "argument --seed: must be an integer from 0 to"),
    option(
        "clock-zero", ["--clock-mhz", "0"], "--clock-mhz: must be a number from 0.001 to 100000"
    ),
    option("clock-tiny", ["--clock-mhz", "1e-300"], "(MHz: 1 kHz to 100 GHz)"),
    option(
        "clock-huge",
        ["--clock-mhz", "1e9"],
        "--clock-mhz: must be a number from 0.001 to 100000 (MHz: 1 kHz to 100 GHz), not '1e9'",
    ),
    option(
        "clock-nan",
        ["--clock-mhz", "nan"],
        "--clock-mhz: must be a number from 0.001 to 100000 (MHz: 1 kHz to 100 GHz), not 'nan'",
    ),
    option(
        "clock-inf",
        ["--clock-mhz", "inf"],
        "--clock-mhz: must be a number from 0.001 to 100000 (MHz: 1 kHz to 100 GHz), not 'inf'",
    ),
    option(
        "clock-text",
        ["--clock-mhz", "fast"],
        "--clock-mhz: must be a number from 0.001 to 100000 (MHz: 1 kHz to 100 GHz), not 'fast'",
    ),
    option("out-empty", ["--out", ""], "argument --out: must name a folder, not an empty string"),
    option("out-file", ["--out", "{d}/a.yaml"], "argument --out: {d}/a.yaml is a file"),
    option("dataflow-choice", ["--dataflow", "xs"], "argument --dataflow: invalid choice: 'xs'"),
    option("workload-empty", ["--workload", ""], "workload must be a zoo name or a file, not ''"),
    option(
        "compressed-folder-without-npz",
        ["--compressed", "{d}/c", "--workload", "digits-mlp"],
        "compressed model folder {d}/c holds no compressed.npz",
        files={"c/x": "x"},
    ),
    option(
        "compressed-missing",
        ["--compressed", "{d}/nope.npz"],
        "compressed model {d}/nope.npz does not exist",
    ),
]


@pytest.mark.parametrize(
    ("files", "argv", "fragment"),
    CONFIG_YAML + SCALESIM_CFG + TOPOLOGY + WORKLOAD_YAML + ZOO_ONNX + OPTIONS,
)
def test_bad_input_is_one_line(capsys, tmp_path, files, argv, fragment):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    d = str(tmp_path)
    assert_one_line_error(capsys, [a.replace("{d}", d) for a in argv], fragment.replace("{d}", d))
    assert not Path(tmp_path / "out").exists(), "nothing is written on a bad input"
