"""Sweep constraints: small arithmetic comparisons over config fields and result metrics.

``rows * cols <= 16384``, ``area_mm2 <= 10 and latency_s < 0.01``,
``dataflow != "is"``, and in a recipe sweep ``accuracy >= 0.95``. The grammar is a safe
subset of Python expressions (numbers,
strings, names, ``+ - * / // % **``, comparisons, ``and or not``, parentheses),
evaluated with numpy over whole columns at once. A constraint that names only config
fields is applied before evaluation (those points are never simulated); one that names
a metric is applied to the results and marks rows infeasible.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from compress.errors import InputError
from simulator.config import FIELD_NAMES

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
        """A boolean mask over the rows of ``columns``."""
        value = _eval(self.tree.body, columns, self.text)
        return np.broadcast_to(np.asarray(value, dtype=bool), _length(columns))


def _length(columns: Mapping[str, np.ndarray]) -> tuple[int]:
    return (len(next(iter(columns.values()))),) if columns else (1,)


def parse_constraint(text: str) -> Constraint:
    """Parse and check ``text``; unknown names and syntax are errors naming the constraint."""
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


def _eval(node: ast.AST, columns: Mapping[str, np.ndarray], text: str) -> np.ndarray:
    if isinstance(node, ast.Constant):
        return np.asarray(node.value)
    if isinstance(node, ast.Name):
        if node.id == "pes" and "pes" not in columns:
            return _column(columns, "rows", text) * _column(columns, "cols", text)
        return _column(columns, node.id, text)
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](
            _eval(node.left, columns, text), _eval(node.right, columns, text)
        )
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, columns, text)
        if isinstance(node.op, ast.Not):
            return np.logical_not(operand)
        return -operand if isinstance(node.op, ast.USub) else operand
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


def _column(columns: Mapping[str, np.ndarray], name: str, text: str) -> np.ndarray:
    if name not in columns:
        raise ConstraintError(f"constraint {text!r}: {name!r} is not available at this stage")
    return np.asarray(columns[name])
