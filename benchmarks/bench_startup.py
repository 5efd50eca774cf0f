"""Start-up of the ``sparsa`` command, timed as whole processes, against its targets.

Usage::

    .venv/bin/python benchmarks/bench_startup.py [--repeat N] [--scalesim-python PATH]

Times, as whole processes (interpreter start to exit), ``python -c "import numpy"`` (the
reference), ``sparsa --help``, ``sparsa zoo``, SCALE-Sim 3.0.0 on one GEMM, and ``sparsa
simulate`` on the same GEMM (the same SCALE-Sim ``.cfg`` and GEMM topology) with and
without ``--no-plots``. Each command runs ``--repeat`` times, round-robin after one
untimed round, so that a neighbour's load falls on all of them alike; the table shows
the best, the median and the worst run and the ratio of the best runs to the reference.
The targets, checked on the best runs:

- ``sparsa --help`` and ``sparsa zoo`` under 3x ``python -c "import numpy"``;
- ``sparsa simulate --no-plots`` faster than SCALE-Sim's whole process on the GEMM, with
  the same cycles;
- ``sparsa simulate`` with its three plots under 1 s.

The script exits with status 1 when a target misses. ``sparsa`` runs as ``python -m
simulator.cli`` with ``PYTHONPATH`` set to this checkout, so that an installed ``sparsa``
script of another checkout is not what is timed, and with bytecode caching on (into a
temporary ``PYTHONPYCACHEPREFIX``, filled by the untimed round), as an installed package
has its ``.pyc`` files: under ``PYTHONDONTWRITEBYTECODE`` every run would compile
sparsa's sources again (about 0.1 s). SCALE-Sim lives in its own venv (see
``benchmarks/bench_timing.py``, whose driver and cfg writer this script reuses); give its
python with ``--scalesim-python`` or ``SCALESIM_PYTHON``, else the SCALE-Sim comparison
is skipped with a line saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_timing import SCALESIM_DRIVER, scalesim_cfg

from simulator.config import AcceleratorConfig, Dataflow

ROOT = Path(__file__).resolve().parents[1]
NUMPY, HELP, ZOO = "python -c 'import numpy'", "sparsa --help", "sparsa zoo"
NO_PLOTS, PLOTS, SCALESIM = "simulate --no-plots", "simulate (3 plots)", "SCALE-Sim 3.0.0"
HELP_TARGET = 3.0
"""``sparsa --help`` and ``sparsa zoo``: at most this many times the numpy import."""
PLOTS_TARGET_S = 1.0


@dataclass(frozen=True)
class Command:
    """A command line (``{out}`` stands for a fresh output folder) and its environment."""

    argv: tuple[str, ...]
    env: dict[str, str]

    def run(self, out: Path) -> tuple[float, str]:
        """Wall time in seconds of one whole process, and its stdout."""
        argv = [a.replace("{out}", str(out)) for a in self.argv]
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env=self.env, check=False)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
        return seconds, proc.stdout


def commands(args: argparse.Namespace, tmp: Path) -> dict[str, Command]:
    """Every timed command, by name; the GEMM's cfg and topology written into ``tmp``."""
    cfg, topo = tmp / "gemm.cfg", tmp / "gemm.csv"
    config = AcceleratorConfig(rows=args.array, cols=args.array, dataflow=Dataflow.WS)
    cfg.write_text(scalesim_cfg(config))
    m, n, k = args.gemm
    topo.write_text(f"Layer name, M, N, K,\ngemm, {m}, {n}, {k},\n")
    path = os.environ.get("PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
        "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
        "PYTHONPYCACHEPREFIX": str(tmp / "pycache"),
    }
    sparsa = (sys.executable, "-m", "simulator.cli")
    simulate = (*sparsa, "simulate", "--accel", str(cfg), "--workload", str(topo), "--out")
    table = {
        NUMPY: Command((sys.executable, "-c", "import numpy"), env),
        HELP: Command((*sparsa, "--help"), env),
        ZOO: Command((*sparsa, "zoo"), env),
        NO_PLOTS: Command((*simulate, "{out}", "--no-plots"), env),
        PLOTS: Command((*simulate, "{out}"), env),
    }
    if args.scalesim_python:
        driver = tmp / "scalesim_driver.py"
        driver.write_text(SCALESIM_DRIVER)
        argv = (args.scalesim_python, str(driver), str(cfg), str(topo), "{out}")
        table[SCALESIM] = Command(argv, dict(os.environ))
    return table


def measure(
    table: dict[str, Command], repeat: int, tmp: Path
) -> tuple[dict[str, list[float]], dict[str, tuple[Path, str]]]:
    """Wall times of ``repeat`` round-robin runs of every command (after an untimed
    round), and each command's last output folder and stdout."""
    seconds: dict[str, list[float]] = {name: [] for name in table}
    last: dict[str, tuple[Path, str]] = {}
    for round_ in range(repeat + 1):
        for i, (name, command) in enumerate(table.items()):
            out = tmp / f"out-{round_}-{i}"
            took, stdout = command.run(out)
            last[name] = (out, stdout)
            if round_:
                seconds[name].append(took)
    return seconds, last


def check_outputs(last: dict[str, tuple[Path, str]]) -> list[str]:
    """Problems with what the runs wrote: ``--no-plots`` writes no PNG, the plotted run
    three, and the cycles are SCALE-Sim's."""
    problems = []
    no_plots, plots = last[NO_PLOTS][0], last[PLOTS][0]
    if sorted(p.name for p in no_plots.iterdir()) != ["layers.csv", "report.md", "result.json"]:
        problems.append(f"--no-plots wrote {sorted(p.name for p in no_plots.iterdir())}")
    if len(list(plots.glob("*.png"))) != 3:
        problems.append(f"simulate wrote {sorted(p.name for p in plots.iterdir())}")
    if SCALESIM in last:
        theirs = json.loads(last[SCALESIM][1].strip().splitlines()[-1])["cycles"]
        result = json.loads((no_plots / "result.json").read_text())
        ours = [layer["cycles"]["scalesim_total"] for layer in result["layers"]]
        verdict = "equal" if ours == theirs else "DIFFER"
        print(f"cycles    sparsa {ours}, SCALE-Sim {theirs}: {verdict}")
        if ours != theirs:
            problems.append(f"cycles differ: sparsa {ours}, SCALE-Sim {theirs}")
    return problems


def report(seconds: dict[str, list[float]]) -> list[str]:
    """Print the table and the targets; return the targets missed."""
    best = {name: min(s) for name, s in seconds.items()}
    reference = {HELP: NUMPY, ZOO: NUMPY, NO_PLOTS: SCALESIM, PLOTS: SCALESIM}
    print(f"{'whole process':<26} {'best s':>7} {'median':>7} {'worst':>7}  ratio of best")
    for name, s in seconds.items():
        ref = reference.get(name)
        ratio = f"{best[name] / best[ref]:.2f}x {ref}" if ref in best else ""
        print(f"{name:<26} {min(s):>7.3f} {statistics.median(s):>7.3f} {max(s):>7.3f}  {ratio}")
    if SCALESIM not in best:
        print("(SCALE-Sim not timed: pass --scalesim-python or set SCALESIM_PYTHON)")
    targets = [
        (f"{HELP} < {HELP_TARGET:g}x numpy import", best[HELP] / best[NUMPY], HELP_TARGET),
        (f"{ZOO} < {HELP_TARGET:g}x numpy import", best[ZOO] / best[NUMPY], HELP_TARGET),
        (f"{PLOTS} < {PLOTS_TARGET_S:g} s", best[PLOTS], PLOTS_TARGET_S),
    ]
    if SCALESIM in best:
        targets.append((f"{NO_PLOTS} < 1x SCALE-Sim", best[NO_PLOTS] / best[SCALESIM], 1.0))
    print()
    missed = []
    for claim, value, bound in targets:
        print(f"target    {claim:<40} {value:6.2f}  {'ok' if value < bound else 'MISSED'}")
        if value >= bound:
            missed.append(f"missed: {claim} ({value:.2f})")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (best of)")
    parser.add_argument(
        "--gemm", type=int, nargs=3, default=(64, 64, 64), metavar=("M", "N", "K"), help="GEMM"
    )
    parser.add_argument("--array", type=int, default=32, help="array side (ws, rows = cols)")
    parser.add_argument(
        "--scalesim-python",
        default=os.environ.get("SCALESIM_PYTHON"),
        help="python of a venv with scalesim==3.0.0 and numpy<2.4",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    m, n, k = args.gemm
    print(f"GEMM {m}x{n}x{k} on a {args.array}x{args.array} ws array, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        table = commands(args, Path(tmp))
        seconds, last = measure(table, args.repeat, Path(tmp))
        problems = check_outputs(last)
    problems += report(seconds)
    for problem in problems:
        print(f"FAIL      {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
