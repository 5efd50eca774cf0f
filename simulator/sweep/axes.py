"""Sweep axes: the values one config field, or a bundle of fields, takes in a sweep.

An axis is a list of values, an arithmetic or geometric range turned into a list
(``step:`` or ``num:``), a continuous interval (random and LHS sampling only), or a
*bundle*: mappings of config fields set together, each named by its ``label``. Every
value is checked against the spec's base config when the spec is read, so a bad value
is reported with its axis before anything runs.

Numbers are read as numbers wherever a number is expected, including the scientific
notation YAML 1.1 leaves as text (``1.5e3``, ``2e-3``); an integer field takes any
number equal to an integer (``1e3`` is 1000, ``2.5`` is refused).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compress.errors import InputError
from simulator.config import (
    FIELD_NAMES,
    AcceleratorConfig,
    ConfigError,
    field_problem,
    parse_bytes,
)

__all__ = [
    "INT_FIELDS",
    "MAX_AXIS_VALUES",
    "NUMBER_FIELDS",
    "SWEEPABLE_FIELDS",
    "Axis",
    "SpecError",
    "parse_axis",
    "spec_number",
]

MAX_AXIS_VALUES = 100_000
"""The most values one axis may hold (each is checked against the config when read)."""
SWEEPABLE_FIELDS: tuple[str, ...] = tuple(name for name in FIELD_NAMES if name != "name")
_DEFAULTS = AcceleratorConfig(rows=1, cols=1).to_dict()
INT_FIELDS = frozenset(
    name for name, value in _DEFAULTS.items() if type(value) is int and name != "name"
)
NUMBER_FIELDS = INT_FIELDS | {name for name, value in _DEFAULTS.items() if type(value) is float}
PATH_FIELDS = frozenset({"energy_overrides"})
"""Config fields holding a file name, resolved relative to the spec."""
_LABEL = "label"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class SpecError(InputError):
    """A sweep spec is invalid; the message names the key, axis or constraint."""


def _as_number(value: Any) -> Any:
    """``value`` as a number when it is one or text in number syntax; else unchanged."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        text = value.strip()
        return int(text) if text.lstrip("+-").isdigit() else float(text)
    return value


def spec_number(value: Any, where: str, *, integer: bool = False, minimum: float = 1) -> Any:
    """A number of the spec (``chunk_size``, ``samples``, a range bound): finite, at
    least ``minimum``, an ``int`` when ``integer``; else a :class:`SpecError` naming
    ``where``."""
    number = _as_number(value)
    kind = "an integer" if integer else "a number"
    wanted = f"{kind} >= {minimum:g}" if minimum is not None else kind
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise SpecError(f"{where} must be {wanted}, not {value!r}")
    if not math.isfinite(number):
        raise SpecError(f"{where} must be a finite number, not {value!r}")
    if integer:
        if isinstance(number, float) and not number.is_integer():
            raise SpecError(f"{where} must be {wanted}, not {value!r}")
        number = int(number)
    if minimum is not None and number < minimum:
        raise SpecError(f"{where} must be {wanted}, not {value!r}")
    return number


def field_value(name: str, value: Any, root: Path | None = None) -> Any:
    """A config field's value as written in a spec, in the config's own terms: sizes
    (``"64 KiB"``) and number text (``1.5e3``) as numbers, an integral number for an
    integer field as an ``int``, and a relative file name as a path under ``root``."""
    if name.endswith("_bytes"):
        value = parse_bytes(value)
    if name in NUMBER_FIELDS:
        value = _as_number(value)
        if name in INT_FIELDS and isinstance(value, float) and value.is_integer():
            value = int(value) if abs(value) < 2**63 else value  # else refused as it is
    if name in PATH_FIELDS and root is not None and isinstance(value, str) and value:
        value = str((root / value).resolve())  # an absolute value stays as it is
    return value


@dataclass(frozen=True)
class Axis:
    """One swept config field.

    Either ``values`` (a discrete set, sampled by index) or a continuous ``low..high``
    interval (``scale`` linear or log), which only random and LHS sampling can use. A
    bundle axis has ``fields``: the config fields each of its ``values`` (labels) sets.
    """

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    scale: str = "linear"
    fields: tuple[Mapping[str, Any], ...] | None = None

    @property
    def bundle(self) -> bool:
        return self.fields is not None

    def fields_of(self, label: Any) -> Mapping[str, Any]:
        """The config fields a bundle value sets (``{name: value}`` for a field axis)."""
        if self.fields is None:
            return {self.name: label}
        return self.fields[self.values.index(label)]

    def settings(self, field: str) -> tuple[Any, ...] | None:
        """Every value this axis gives ``field`` (None where a bundle value leaves it to
        the base), or None when the axis never sets ``field``."""
        if self.fields is None:
            return self.values if field == self.name else None
        if not any(field in fields for fields in self.fields):
            return None
        return tuple(fields.get(field) for fields in self.fields)

    @property
    def discrete(self) -> bool:
        return self.values is not None

    @property
    def is_int(self) -> bool:
        return self.name in INT_FIELDS

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map samples ``u`` in [0, 1) to axis values (object array for strings)."""
        if self.discrete:
            index = np.minimum((u * len(self.values)).astype(np.int64), len(self.values) - 1)
            return np.array(self.values, dtype=object)[index]
        if self.scale == "log":
            x = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return np.rint(x).astype(np.int64) if self.is_int else x

    def to_dict(self) -> dict[str, Any]:
        if self.bundle:
            return {
                "values": [
                    {_LABEL: label, **fields}
                    for label, fields in zip(self.values, self.fields, strict=True)
                ]
            }
        if self.discrete:
            return {"values": list(self.values)}
        return {"range": [self.low, self.high], "scale": self.scale}


def parse_axis(name: str, raw: Any, base: AcceleratorConfig, root: Path) -> Axis:
    """The axis ``name: raw`` of a spec, every value checked against ``base``; file
    names resolve against ``root`` (the spec's folder)."""
    where = f"axis '{name}'"
    if (
        name not in FIELD_NAMES
        and isinstance(raw, list | tuple)
        and raw
        and all(isinstance(v, Mapping) for v in raw)
    ):
        return _bundle_axis(name, list(raw), base, root)
    if name not in SWEEPABLE_FIELDS:
        raise SpecError(
            f"{where}: not a sweepable config field; use one of {', '.join(SWEEPABLE_FIELDS)} "
            "(or a list of mappings for a bundle axis)"
        )
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"values", "range", "step", "num", "scale"}
        if unknown:
            raise SpecError(
                f"{where}: unknown key {sorted(unknown)[0]!r}; use values, range, step, num, scale"
            )
        if "values" in raw:
            return _discrete(name, raw["values"], base, root)
        return _range_axis(name, raw, base)
    return _discrete(name, raw, base, root)


def _label(raw: Mapping[str, Any], fields: Mapping[str, Any], where: str) -> str:
    label = raw.get(_LABEL)
    if label is None:
        return ",".join(f"{k}={v}" for k, v in fields.items()) or "base"
    if isinstance(label, bool) or not isinstance(label, str | int | float):
        raise SpecError(f"{where}: label must be a string or a number, not {label!r}")
    return str(label)


def _bundle_axis(name: str, values: list, base: AcceleratorConfig, root: Path) -> Axis:
    """An axis whose values are mappings of config fields set together."""
    where = f"axis '{name}'"
    if len(values) > MAX_AXIS_VALUES:
        raise SpecError(f"{where}: {len(values):,} values; at most {MAX_AXIS_VALUES:,}")
    labels, bundles = [], []
    for raw in values:
        fields = {k: v for k, v in raw.items() if k != _LABEL}
        unknown = sorted(str(k) for k in set(fields) - set(SWEEPABLE_FIELDS))
        if unknown:
            raise SpecError(
                f"{where}: {unknown[0]!r} is not a sweepable config field; a bundle value "
                f"sets fields of {', '.join(SWEEPABLE_FIELDS)} (and an optional label)"
            )
        fields = {k: field_value(k, v, root) for k, v in fields.items()}
        label = _label(raw, fields, where)
        try:
            base.replace(**fields)
        except ConfigError as exc:
            raise SpecError(f"{where}: value {label!r}: {exc}") from None
        labels.append(label)
        bundles.append(fields)
    if len(set(labels)) != len(labels):
        raise SpecError(f"{where}: repeated labels {labels!r}; give each value its own label")
    return Axis(name=name, values=tuple(labels), fields=tuple(bundles))


def _discrete(name: str, values: Any, base: AcceleratorConfig, root: Path | None) -> Axis:
    where = f"axis '{name}'"
    if not isinstance(values, list | tuple) or not values:
        raise SpecError(f"{where}: needs a non-empty list of values or a range, not {values!r}")
    if len(values) > MAX_AXIS_VALUES:
        raise SpecError(
            f"{where}: {len(values):,} values; at most {MAX_AXIS_VALUES:,} per axis "
            "(use random or lhs sampling over a range for more)"
        )
    parsed = tuple(field_value(name, v, root) for v in values)
    for value in parsed:
        _check_value(name, value, base)
    if len(set(map(repr, parsed))) != len(parsed):
        raise SpecError(f"{where}: repeated values in {list(values)!r}")
    return Axis(name=name, values=parsed)


def _range_axis(name: str, raw: Mapping[str, Any], base: AcceleratorConfig) -> Axis:
    where = f"axis '{name}'"
    if name not in NUMBER_FIELDS:
        raise SpecError(f"{where}: a range needs a numeric field; give a list of values instead")
    bounds = raw.get("range")
    if not (isinstance(bounds, list | tuple) and len(bounds) == 2):
        raise SpecError(f"{where}: range must be [low, high], not {bounds!r}")
    low, high = (
        spec_number(field_value(name, b), f"{where}: a range bound", minimum=None) for b in bounds
    )
    if not low < high:
        raise SpecError(f"{where}: range needs two numbers with low < high, not {bounds!r}")
    scale = raw.get("scale", "linear")
    if scale not in ("linear", "log") or (scale == "log" and low <= 0):
        raise SpecError(f"{where}: scale must be linear or log (log needs low > 0), not {scale!r}")
    for bound in (low, high):
        if name in INT_FIELDS and abs(bound) >= 2**63:
            raise SpecError(f"axis '{name}': range bound {bound!r} is not a 64-bit integer")
        _check_value(name, int(bound) if name in INT_FIELDS else float(bound), base)
    if "step" in raw and "num" in raw:
        raise SpecError(f"{where}: give step or num, not both")
    if "step" in raw:
        step = spec_number(raw["step"], f"{where}: step", minimum=None)
        if step <= 0:
            raise SpecError(f"{where}: step must be a positive number, not {raw['step']!r}")
        count = math.floor((high - low) / step + 1e-9) + 1
        _check_count(where, count)
        values = low + step * np.arange(count)
        return _discrete(name, list(dict.fromkeys(_as_field(name, v) for v in values)), base, None)
    if "num" in raw:
        num = spec_number(raw["num"], f"{where}: num", integer=True, minimum=2)
        _check_count(where, num)
        space = np.geomspace if scale == "log" else np.linspace
        values = list(dict.fromkeys(_as_field(name, v) for v in space(low, high, num)))
        return _discrete(name, values, base, None)
    return Axis(name=name, low=float(low), high=float(high), scale=scale)


def _check_count(where: str, count: int) -> None:
    """Refuse an axis of more than :data:`MAX_AXIS_VALUES` before building it."""
    if count > MAX_AXIS_VALUES:
        raise SpecError(
            f"{where}: the range gives {count:,} values; at most {MAX_AXIS_VALUES:,} per axis "
            "(a larger step or num, or random or lhs sampling over the range)"
        )


def _as_field(name: str, value: float) -> int | float:
    return round(value) if name in INT_FIELDS else float(value)


def _check_value(name: str, value: Any, base: AcceleratorConfig) -> None:
    """The field's own rule on one axis value. Rules across fields (a buffer of one word
    per PE, N:M patterns for N:M PEs) are checked per point, once the other axes' values
    are known (:func:`simulator.sweep.engine.make_tasks`)."""
    problem = field_problem(name, value)
    if problem:
        raise SpecError(f"axis '{name}': value {value!r} {problem}")
