"""The error a user can fix, and the guarded readers of the files users hand us.

Every package's input errors (``ConfigError``, ``WorkloadError``, ``SpecError`` ...)
derive from :class:`InputError`; the command line turns exactly these (and operating
system errors on the files it was given) into one ``sparsa: error:`` line. Anything
else is a bug and is reported as one.

The readers bound what a file may cost before it is parsed: its size in bytes, and for
YAML the size of its node tree once aliases are expanded (a 420-byte "billion laughs"
document would otherwise expand to gigabytes in whatever walks it).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_YAML_ALIASES",
    "MAX_YAML_NODES",
    "InputError",
    "integer_text",
    "load_json",
    "load_yaml",
    "parse_yaml",
    "read_text",
]

MAX_INPUT_BYTES = 64 << 20
"""The largest text input file read (64 MiB)."""
MAX_YAML_NODES = 1_000_000
"""The most YAML nodes a document may hold with its aliases expanded."""
MAX_YAML_ALIASES = 10_000
"""The most alias references (``*name``) a YAML document may hold."""


class InputError(ValueError):
    """A problem with what the user gave (a file, a field, an option), reported as one line.

    A ``ValueError`` so that library callers catching ``ValueError`` keep working.
    """


def integer_text(text: str) -> int | None:
    """The integer ``text`` writes (``16``, ``1e3``; YAML 1.1 and shells leave exponent
    forms as text), or None when it writes none (``1.5``, ``nan``, beyond int64)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return None


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise InputError(f"{what} {path} does not exist")
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory, not a file")
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(
            f"{what} {path} is {size:,} bytes; at most {MAX_INPUT_BYTES:,} bytes are read"
        )


def read_text(path: str | Path, what: str) -> str:
    """The UTF-8 text of ``path``, or an :class:`InputError` naming ``what`` it should be.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file is to the user ("accelerator config", "sweep spec"), for messages.
    """
    path = Path(path)
    _check_file(path, what)
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} {path} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); it must be a text file"
        ) from None


class _CountingLoader(yaml.SafeLoader):
    """A safe loader that refuses documents with too many alias references."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.sparsa_aliases = getattr(self, "sparsa_aliases", 0) + 1
            if self.sparsa_aliases > MAX_YAML_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_YAML_ALIASES:,} alias references")
        return super().compose_node(parent, index)


def _expanded_nodes(node: yaml.Node) -> int:
    """Nodes in the tree under ``node`` with every alias expanded, counted without
    expanding (each distinct node is visited once; shared ones count per use)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if key in sizes:
            continue
        if isinstance(current, yaml.ScalarNode):
            sizes[key] = 1
            continue
        children = (
            [child for pair in current.value for child in pair]
            if isinstance(current, yaml.MappingNode)
            else list(current.value)
        )
        if children_done:
            sizes[key] = 1 + sum(sizes.get(id(child), 0) for child in children)
            continue
        stack.append((current, True))
        # A child still on the stack (a recursive alias) counts as its own node.
        stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(node)]


def parse_yaml(text: str, what: str, expect: type | None = dict) -> Any:
    """Parse YAML ``text`` safely and bounded; check the top level is an ``expect``.

    Parameters
    ----------
    text : str
    what : str
        Where the text comes from ("sweep spec specs/a.yaml"), for messages.
    expect : type or None
        The type of the top-level value (``dict`` for a mapping, ``list``), or None for any.
        An empty document is an empty ``expect``.

    Raises
    ------
    InputError
        On a syntax error, more than :data:`MAX_YAML_ALIASES` aliases, more than
        :data:`MAX_YAML_NODES` nodes once expanded, or a top level of another type.
    """
    # Without an anchor (``&``) there can be no alias, so the tree is as large as the text
    # and libyaml's parser (when PyYAML has it) may read it: the same resolver and
    # constructor, four times faster on the built-in tables read at every start.
    fast = "&" not in text and hasattr(yaml, "CSafeLoader")
    loader = yaml.CSafeLoader(text) if fast else _CountingLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            nodes = _expanded_nodes(node)
            if nodes > MAX_YAML_NODES:
                raise InputError(
                    f"{what}: the document expands to {nodes:,} YAML nodes through its "
                    f"aliases; at most {MAX_YAML_NODES:,} are allowed"
                )
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise InputError(f"{what} is not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise InputError(f"{what}: the YAML document nests too deeply") from None
    finally:
        loader.dispose()
    if data is None and expect is not None:
        return expect()
    if expect is not None and not isinstance(data, expect):
        raise InputError(
            f"{what} must hold a YAML {_KINDS.get(expect, expect.__name__)} at the top level, "
            f"not a {_kind(data)} ({_preview(data)})"
        )
    return data


_KINDS = {dict: "mapping (key: value lines)", list: "list (- item lines)"}


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _preview(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_yaml(path: str | Path, what: str, expect: type | None = dict) -> Any:
    """Read and parse the YAML file ``path`` with :func:`read_text` and :func:`parse_yaml`."""
    return parse_yaml(read_text(path, what), f"{what} {path}", expect)


def load_json(path: str | Path, what: str, expect: type | None = dict) -> Any:
    """Read and parse the JSON file ``path``; check the top level is an ``expect``."""
    text = read_text(path, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if expect is not None and not isinstance(data, expect):
        raise InputError(
            f"{what} {path} must hold a JSON {'object' if expect is dict else expect.__name__} "
            f"at the top level, not a {_kind(data)}"
        )
    return data
