"""Sweep constraints: small arithmetic comparisons over config fields and result metrics.

``rows * cols <= 16384``, ``area_mm2 <= 10 and latency_s < 0.01``,
``dataflow != "is"``, and in a recipe sweep ``accuracy >= 0.95``. The grammar is a safe
subset of Python expressions (numbers, strings, names, ``+ - * / // % **``,
comparisons, ``and or not``, parentheses), evaluated with numpy over whole columns at
once. A constraint that names only config fields is applied before evaluation (those
points are never simulated); one that names a metric is applied to the results and
marks rows infeasible.

Types are checked when a constraint is parsed: arithmetic and ``<``-style comparisons
take numbers, a text field (``dataflow``, ``pe_kind`` ...) compares only with ``==`` or
``!=`` to a quoted string, and a choice field only to one of its choices
(``dataflow == "xs"`` is an error, not a constraint no point meets). Numbers are
evaluated as float64, so nothing wraps around as int64 would (``rows * 2**64 > 0`` is
true; an overflow is infinity, which compares as the largest number); integers are
exact up to 2**53, and an integer literal beyond that which float64 cannot hold exactly
is refused. Division by zero gives infinity (or NaN for ``0 / 0``, which no comparison
meets), as IEEE arithmetic does.
"""

from __future__ import annotations

import ast
import enum
import functools
import operator
import typing
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from compress.errors import InputError
from simulator.config import FIELD_NAMES, AcceleratorConfig, builtin_energy_tables

__all__ = ["METRIC_NAMES", "Constraint", "ConstraintError", "parse_constraint"]

METRIC_NAMES: tuple[str, ...] = (
    "accuracy",
    "storage_ratio_fp32",
    "cycles",
    "latency_s",
    "energy_pj",
    "area_mm2",
    "edp",
    "utilization",
    "dram_bytes",
    "sram_bytes",
    "macs",
)
CONFIG_NAMES: tuple[str, ...] = (*FIELD_NAMES, "pes")

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class ConstraintError(InputError):
    """A constraint is not a valid expression or names something unknown."""


NUMBER, TEXT = "number", "text"
_EXACT_INT = 2**53


@functools.cache
def _field_kinds() -> dict[str, tuple[str, tuple[str, ...] | None]]:
    """Per name: number or text, and for a choice field the values it may take."""
    kinds: dict[str, tuple[str, tuple[str, ...] | None]] = {}
    for name, kind in typing.get_type_hints(AcceleratorConfig).items():
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            kinds[name] = (TEXT, tuple(str(member.value) for member in kind))
        elif kind in (int, float, bool):
            kinds[name] = (NUMBER, None)
        else:
            kinds[name] = (TEXT, None)
    kinds["energy_table"] = (TEXT, builtin_energy_tables())
    kinds["pes"] = (NUMBER, None)
    kinds.update({name: (NUMBER, None) for name in METRIC_NAMES})
    return kinds


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint: its text, its expression tree and the names it uses."""

    text: str
    tree: ast.Expression
    names: frozenset[str]

    @property
    def needs_results(self) -> bool:
        """True when the constraint names a result metric (applied after evaluation)."""
        return bool(self.names & set(METRIC_NAMES))

    def evaluate(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """A boolean mask over the rows of ``columns`` (numbers as float64)."""
        with np.errstate(all="ignore"):
            value = _eval(self.tree.body, columns, self.text)
        return np.broadcast_to(np.asarray(value, dtype=bool), _length(columns))


def _length(columns: Mapping[str, np.ndarray]) -> tuple[int]:
    return (len(next(iter(columns.values()))),) if columns else (1,)


def parse_constraint(text: str) -> Constraint:
    """Parse and check ``text``; syntax, unknown names and mismatched types are errors
    naming the constraint."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ConstraintError(f"constraint {text!r}: not a valid expression") from None
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif not isinstance(node, _ALLOWED_NODES):
            raise ConstraintError(
                f"constraint {text!r}: {type(node).__name__} is not allowed; use numbers, "
                "names, arithmetic, comparisons, and/or/not"
            )
    unknown = sorted(names - set(CONFIG_NAMES) - set(METRIC_NAMES))
    if unknown:
        raise ConstraintError(
            f"constraint {text!r}: unknown name {unknown[0]!r}; use config fields "
            f"({', '.join(CONFIG_NAMES)}) or metrics ({', '.join(METRIC_NAMES)})"
        )
    if not isinstance(tree.body, ast.Compare | ast.BoolOp) and not (
        isinstance(tree.body, ast.UnaryOp) and isinstance(tree.body.op, ast.Not)
    ):
        raise ConstraintError(f"constraint {text!r}: must be a comparison such as 'rows <= 64'")
    _kind(tree.body, text)
    return Constraint(text=text, tree=tree, names=frozenset(names))


_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Compare,
    ast.Constant,
    ast.Name,
    ast.Load,
    *_BINARY,
    *_COMPARE,
)


def _describe(node: ast.AST) -> str:
    return f"{ast.unparse(node)} (a {_KIND_WORDS[_kind(node, '')]})"


_KIND_WORDS = {NUMBER: "number", TEXT: "string"}


def _kind(node: ast.AST, text: str) -> str:
    """The type of ``node`` (number or text); a mismatch is a :class:`ConstraintError`."""
    where = f"constraint {text!r}"
    if isinstance(node, ast.Constant):
        return _constant_kind(node.value, where)
    if isinstance(node, ast.Name):
        return _field_kinds()[node.id][0]
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        operands = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.operand]
        for operand in operands:
            if _kind(operand, text) != NUMBER and not isinstance(node.op, ast.Not):
                raise ConstraintError(
                    f"{where}: arithmetic needs numbers, and {_describe(operand)} is not one"
                )
        return NUMBER
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            if _kind(value, text) == TEXT:
                raise ConstraintError(
                    f"{where}: and/or combine comparisons, not {_describe(value)}"
                )
        return NUMBER
    assert isinstance(node, ast.Compare)  # parse_constraint admits nothing else
    operands = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
        kinds = (_kind(left, text), _kind(right, text))
        if kinds[0] != kinds[1]:
            raise ConstraintError(
                f"{where}: compares {_describe(left)} with {_describe(right)}; compare "
                "numbers with numbers and text fields with quoted strings"
            )
        if kinds[0] == TEXT:
            if not isinstance(op, ast.Eq | ast.NotEq):
                raise ConstraintError(
                    f"{where}: strings compare only with == or !=, not "
                    f"{ast.unparse(ast.Compare(left, [op], [right]))}"
                )
            _check_choice(left, right, where)
            _check_choice(right, left, where)
    return NUMBER


def _constant_kind(value: object, where: str) -> str:
    if isinstance(value, str):
        return TEXT
    if isinstance(value, bool | float):
        return NUMBER
    if isinstance(value, int):
        if abs(value) > _EXACT_INT and int(float(value)) != value:
            raise ConstraintError(
                f"{where}: the integer {value} has no exact float64 value; constraints compare "
                "numbers as float64, exact for integers up to 2**53 = 9,007,199,254,740,992"
            )
        return NUMBER
    raise ConstraintError(f"{where}: {value!r} is not a number or a quoted string")


def _check_choice(field: ast.AST, value: ast.AST, where: str) -> None:
    """``dataflow == "xs"``: a value the field can never take is an error."""
    if isinstance(field, ast.Name) and isinstance(value, ast.Constant):
        choices = _field_kinds()[field.id][1]
        if choices is not None and value.value not in choices:
            raise ConstraintError(
                f"{where}: {field.id} is one of {', '.join(choices)}, never {value.value!r}"
            )


def _eval(node: ast.AST, columns: Mapping[str, np.ndarray], text: str) -> np.ndarray:
    if isinstance(node, ast.Constant):
        value = node.value
        return np.asarray(value) if isinstance(value, str) else np.float64(value)
    if isinstance(node, ast.Name):
        if node.id == "pes" and "pes" not in columns:
            return _column(columns, "rows", text) * _column(columns, "cols", text)
        return _column(columns, node.id, text)
    if isinstance(node, ast.BinOp):
        left = _number(_eval(node.left, columns, text))
        return _BINARY[type(node.op)](left, _number(_eval(node.right, columns, text)))
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, columns, text)
        if isinstance(node.op, ast.Not):
            return np.logical_not(operand)
        return -_number(operand) if isinstance(node.op, ast.USub) else _number(operand)
    if isinstance(node, ast.BoolOp):
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        values = [_eval(v, columns, text) for v in node.values]
        result = values[0]
        for value in values[1:]:
            result = combine(result, value)
        return result
    assert isinstance(node, ast.Compare)  # parse_constraint admits nothing else
    left = _eval(node.left, columns, text)
    result = np.asarray(True)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _eval(right_node, columns, text)
        result = np.logical_and(result, _COMPARE[type(op)](left, right))
        left = right
    return result


def _number(value: np.ndarray) -> np.ndarray:
    """float64, so that arithmetic never wraps (and booleans add as 0 and 1)."""
    return np.asarray(value, dtype=np.float64)


def _column(columns: Mapping[str, np.ndarray], name: str, text: str) -> np.ndarray:
    if name not in columns:
        raise ConstraintError(f"constraint {text!r}: {name!r} is not available at this stage")
    column = np.asarray(columns[name])
    if _field_kinds()[name][0] == NUMBER:
        return _number(column)
    return column.astype(str)
