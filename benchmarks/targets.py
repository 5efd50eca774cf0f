"""The targets a benchmark states, checked in the run that measures them.

Every benchmark script collects its checks in one :class:`Targets`: each prints one line
``target <what> : <measured> : PASS`` (or ``MISS``) when it is checked, and
:meth:`Targets.finish` prints how many held, repeats the misses and gives the exit status
(1 when any target missed, so a script run by hand or in CI fails when it misses)::

    targets = Targets()
    targets.below("ResNet-50 simulate()", seconds * 1e3, 50, "ms")
    targets.equal("SCALE-Sim cycles, 32x32 ws", ours, theirs)
    sys.exit(targets.finish())

Equalities are targets too: a benchmark that compares two results it says are the same
(vectorized and one at a time, local and Dask, the RTL and the model) checks them here
rather than with ``assert`` (which ``python -O`` drops) or by printing "DIFFER".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Check", "Targets"]


@dataclass(frozen=True)
class Check:
    """One checked target: what was required, what was measured, whether it held."""

    name: str
    measured: str
    ok: bool

    @property
    def line(self) -> str:
        return f"target {self.name} : {self.measured} : {'PASS' if self.ok else 'MISS'}"


@dataclass
class Targets:
    """The checks of one benchmark run, printed as they are made."""

    checks: list[Check] = field(default_factory=list)

    def check(self, name: str, ok: bool, measured: str) -> bool:
        """Record and print one target; returns whether it held."""
        result = Check(name, measured, bool(ok))
        self.checks.append(result)
        print(result.line, flush=True)
        return result.ok

    def below(self, name: str, value: float, bound: float, unit: str = "") -> bool:
        """``value < bound`` (a time or a ratio with an upper target)."""
        unit = f" {unit}" if unit else ""
        return self.check(f"{name} < {bound:g}{unit}", value < bound, f"{value:.4g}{unit}")

    def at_most(self, name: str, value: float, bound: float, unit: str = "") -> bool:
        """``value <= bound``."""
        unit = f" {unit}" if unit else ""
        return self.check(f"{name} <= {bound:g}{unit}", value <= bound, f"{value:.4g}{unit}")

    def at_least(self, name: str, value: float, bound: float, unit: str = "") -> bool:
        """``value >= bound``."""
        unit = f" {unit}" if unit else ""
        return self.check(f"{name} >= {bound:g}{unit}", value >= bound, f"{value:.4g}{unit}")

    def within(self, name: str, value, low: float, high: float) -> bool:
        """``low <= value <= high``; for a sequence of values, every one of them."""
        values = [value] if isinstance(value, int | float) else list(value)
        ok = all(low <= v <= high for v in values)
        least, most = min(values), max(values)
        measured = f"{least:.4g}" if least == most else f"{least:.4g} to {most:.4g}"
        return self.check(f"{name} in [{low:g}, {high:g}]", ok, measured)

    def equal(self, name: str, ours, theirs) -> bool:
        """``ours == theirs`` (numbers, sequences or anything comparable with ``==``)."""
        if hasattr(ours, "shape") or hasattr(theirs, "shape"):
            ok = bool(np.array_equal(ours, theirs))
        else:
            ok = bool(ours == theirs)
        measured = "equal" if ok else f"{_short(ours)} != {_short(theirs)}"
        return self.check(f"{name} equal", ok, measured)

    def count_zero(self, name: str, count: int, of: int | None = None) -> bool:
        """No failures: ``count == 0`` (of ``of`` cases)."""
        total = f" of {of:,}" if of is not None else ""
        return self.check(f"{name}: none", count == 0, f"{count:,}{total}")

    @property
    def missed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def finish(self) -> int:
        """Print the summary and return the exit status: 0 when every target held, else 1."""
        print(f"\n{len(self.checks) - len(self.missed)} of {len(self.checks)} targets met")
        for miss in self.missed:
            print(f"MISSED: {miss.name} : {miss.measured}")
        return 1 if self.missed else 0


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
