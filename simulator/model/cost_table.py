"""Tables of cited cost figures (energy per action, area per component), loaded from YAML.

A table file names its unit and lists entries by component and entry name; every entry
carries a value or interpolation points, a unit and the source it comes from::

    name: horowitz45
    unit: pJ
    technology_nm: 45                            # optional: the node of the figures
    entries:
      sram:
        read:
          scale: capacity_bytes                  # the variable the points are over
          points: [[8192, 10.0], [32768, 20.0]]  # (x, value) pairs
          unit: pJ/64-bit access
          source: Horowitz ISSCC 2014, Fig. 1.1.9
      dram:
        read: {value: 20.3125, unit: pJ/bit, source: ...}

Interpolation: between points, piecewise linear in log(x)-log(value); outside them, the
end segment's slope continues; a single point scales in proportion to ``x``. What each
entry means, the variable it may scale with and its unit are fixed by the spec of the
table kind (:data:`simulator.model.energy.ENERGY_SPECS`, :data:`simulator.model.area.AREA_SPECS`);
an unknown component or entry, a wrong unit, a missing source or a bad value is a
:class:`TableError` naming it. The same layout, restricted to the entries it changes,
overrides a table (:func:`override_table`).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from compress.errors import InputError, load_yaml
from compress.schema import preview

__all__ = ["CostTable", "EntrySpec", "TableEntry", "TableError", "load_table", "override_table"]


class TableError(InputError):
    """A cost table or an override file is invalid; the message names the entry."""


@dataclass(frozen=True)
class EntrySpec:
    """What one entry of a table kind means.

    ``scale`` is the variable its points may be given over (None: constants only);
    ``unit`` is the required unit with ``{E}`` standing for the table's unit.
    """

    scale: str | None
    unit: str
    meaning: str
    positive: bool = False
    """Constants must be > 0 (e.g. a divisor), not merely >= 0."""


@dataclass(frozen=True)
class TableEntry:
    """One cited figure: a constant, or points interpolated log-log over ``scale``."""

    points: tuple[tuple[float, float], ...]
    scale: str | None
    unit: str
    source: str

    @property
    def is_constant(self) -> bool:
        return self.scale is None

    def at(self, x: Any = None) -> np.ndarray:
        """The entry's value at ``x`` (array_like, any shape); constants ignore ``x``."""
        if self.is_constant:
            return np.asarray(self.points[0][1], dtype=np.float64)
        xs = np.array([p[0] for p in self.points], dtype=np.float64)
        ys = np.array([p[1] for p in self.points], dtype=np.float64)
        x = np.asarray(x, dtype=np.float64)
        if len(xs) == 1:
            return ys[0] * x / xs[0]
        log_x, log_xs, log_ys = np.log(x), np.log(xs), np.log(ys)
        slopes = np.diff(log_ys) / np.diff(log_xs)
        # Segment i covers [xs[i], xs[i+1]]; the first and last segments extend outward.
        segment = np.clip(np.searchsorted(log_xs, log_x) - 1, 0, len(slopes) - 1)
        return np.exp(log_ys[segment] + slopes[segment] * (log_x - log_xs[segment]))

    def to_dict(self) -> dict[str, Any]:
        if self.is_constant:
            return {"value": self.points[0][1], "unit": self.unit, "source": self.source}
        return {
            "scale": self.scale,
            "points": [list(p) for p in self.points],
            "unit": self.unit,
            "source": self.source,
        }


@dataclass(frozen=True)
class CostTable:
    """A named table of cited entries keyed by ``(component, entry)``."""

    name: str
    unit: str
    description: str
    entries: Mapping[tuple[str, str], TableEntry]
    reference: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    overridden: tuple[tuple[str, str], ...] = ()
    """Entries replaced by an override file, in the order they were given."""
    technology_nm: float | None = None
    """The CMOS node the figures are for (None: a normalized table, never scaled)."""

    def __getitem__(self, key: tuple[str, str]) -> TableEntry:
        return self.entries[key]

    def to_dict(self) -> dict[str, Any]:
        nested: dict[str, dict[str, Any]] = {}
        for (component, name), entry in self.entries.items():
            nested.setdefault(component, {})[name] = entry.to_dict()
        return {"name": self.name, "unit": self.unit, "entries": nested}


def _fail(where: str, message: str) -> TableError:
    return TableError(f"{where}: {message}")


def _suggest(word: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(word, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; known: {', '.join(allowed)}"


_NUMBER_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _number(where: str, value: Any, *, positive: bool) -> float:
    """A finite number >= 0 (> 0 when ``positive``). YAML 1.1 reads ``1.5e3`` (no sign
    in the exponent) as text, so text that is a plain number counts as one."""
    given = value
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        value = float(value)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (value <= 0 if positive else value < 0):
        bound = "a positive" if positive else "a non-negative"
        raise _fail(where, f"{preview(given)} must be {bound} finite number")
    return float(value)


def _parse_points(where: str, raw: Any, scale: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(where, f"points must be a non-empty list of [{scale}, value] pairs")
    points = []
    for item in raw:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise _fail(where, f"point {item!r} must be a pair [{scale}, value]")
        x = _number(f"{where} point x", item[0], positive=True)
        # log-log interpolation needs positive values between two or more points.
        y = _number(f"{where} point value", item[1], positive=len(raw) > 1)
        points.append((x, y))
    xs = [p[0] for p in points]
    if xs != sorted(set(xs)):
        raise _fail(where, f"point {scale} values must be strictly increasing, not {xs}")
    return tuple(points)


def parse_entry(where: str, raw: Any, spec: EntrySpec, table_unit: str) -> TableEntry:
    """Validate one entry mapping against its spec."""
    if not isinstance(raw, Mapping):
        raise _fail(
            where, f"must be a mapping with value/points, unit and source, not {preview(raw)}"
        )
    unknown = set(raw) - {"value", "points", "scale", "unit", "source"}
    if unknown:
        raise _fail(
            where,
            f"unknown key {sorted(unknown)[0]!r}; allowed: value, points, scale, unit, source",
        )
    unit = spec.unit.format(E=table_unit)
    if "unit" not in raw:
        raise _fail(where, f"needs a unit: {unit!r} ({spec.meaning})")
    if raw["unit"] != unit:
        raise _fail(where, f"unit must be {unit!r} ({spec.meaning}), not {preview(raw['unit'])}")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _fail(where, "needs a source: where the figure comes from")
    if ("value" in raw) == ("points" in raw):
        raise _fail(where, "give exactly one of 'value' (a constant) or 'points'")
    if "value" in raw:
        if "scale" in raw:
            raise _fail(where, "'scale' goes with 'points', not with a constant 'value'")
        value = _number(f"{where} value", raw["value"], positive=spec.positive)
        return TableEntry(((1.0, value),), None, unit, source.strip())
    if spec.scale is None:
        raise _fail(where, f"is a constant ({spec.meaning}): give 'value', not 'points'")
    if raw.get("scale") != spec.scale:
        raise _fail(where, f"scale must be {spec.scale!r}, not {raw.get('scale')!r}")
    points = _parse_points(where, raw["points"], spec.scale)
    return TableEntry(points, spec.scale, unit, source.strip())


def _entries(
    where: str, raw: Any, specs: Mapping[tuple[str, str], EntrySpec], unit: str
) -> dict[tuple[str, str], TableEntry]:
    if not isinstance(raw, Mapping):
        raise _fail(
            where,
            f"entries must be a mapping of component: {{entry: {{...}}}}, not a "
            f"{type(raw).__name__} ({preview(raw)})",
        )
    components = sorted({c for c, _ in specs})
    out = {}
    for component, body in raw.items():
        if component not in components:
            raise _fail(
                where, f"unknown component {component!r}{_suggest(str(component), components)}"
            )
        if not isinstance(body, Mapping):
            raise _fail(
                f"{where}: {component}",
                f"must be a mapping of entry name: {{...}}, not {preview(body)}",
            )
        names = sorted(n for c, n in specs if c == component)
        for name, entry in body.items():
            if name not in names:
                raise _fail(
                    where,
                    f"unknown entry {name!r} of component {component!r}"
                    f"{_suggest(str(name), names)}",
                )
            key = (component, name)
            out[key] = parse_entry(f"{where}: {component}.{name}", entry, specs[key], unit)
    return out


def load_table(path: str | Path, specs: Mapping[tuple[str, str], EntrySpec]) -> CostTable:
    """Load and validate a complete table file: every spec'd entry must be present."""
    path = Path(path)
    where = f"cost table {path}"
    data = load_yaml(path, "cost table", expect=None)
    if not isinstance(data, Mapping):
        raise _fail(where, f"must be a mapping with name, unit and entries, not {preview(data)}")
    unknown = set(data) - {"name", "unit", "description", "entries", "reference", "technology_nm"}
    if unknown:
        raise _fail(where, f"unknown key {sorted(unknown)[0]!r}")
    for key in ("name", "unit"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise _fail(where, f"'{key}' must be a non-empty string")
    entries = _entries(where, data.get("entries"), specs, data["unit"])
    missing = [f"{c}.{n}" for c, n in specs if (c, n) not in entries]
    if missing:
        raise _fail(where, f"missing entries: {', '.join(missing)}")
    reference = data.get("reference") or {}
    if not isinstance(reference, Mapping):
        raise _fail(
            f"{where}: reference", f"must be a mapping of name: {{...}}, not {preview(reference)}"
        )
    for name, item in reference.items():
        if not isinstance(item, Mapping) or not str(item.get("source", "")).strip():
            raise _fail(f"{where}: reference.{name}", "needs value, unit and source")
    ordered = {key: entries[key] for key in specs}
    node = data.get("technology_nm")
    if node is not None:
        node = _number(f"{where}: technology_nm", node, positive=True)
    return CostTable(
        data["name"],
        data["unit"],
        str(data.get("description", "")),
        ordered,
        dict(reference),
        technology_nm=node,
    )


def override_table(
    table: CostTable,
    path: str | Path,
    specs: Mapping[tuple[str, str], EntrySpec],
    what: str = "override file",
) -> CostTable:
    """``table`` with the entries given in the YAML file at ``path`` replaced.

    The file holds ``component: {entry: {...}}`` mappings (optionally under ``entries:``)
    in the table's unit; unknown components or entries are errors. ``what`` names the
    file in messages ("energy override file").
    """
    path = Path(path)
    where = f"{what} {path}"
    data = load_yaml(path, what, expect=None)
    if isinstance(data, Mapping) and set(data) <= {"entries", "description"} and data:
        data = data.get("entries")
    if data is None or data == {}:
        raise _fail(where, "an override file must change at least one entry")
    changed = _entries(where, data, specs, table.unit)
    entries = {**table.entries, **changed}
    return replace(
        table,
        entries=entries,
        overridden=tuple(dict.fromkeys((*table.overridden, *changed))),
    )
