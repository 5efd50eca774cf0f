"""Pack vectors into stream payload bits and back, by the RTL's own Amaranth layouts.

A payload is an ``ArrayLayout`` of lanes (one vector), a plain shape (one number), or a
``StructLayout`` of such fields (named vectors and numbers, e.g. ``{a, psum}`` or
``{index, mask, pads}``). In Verilog it is one flat port, lane 0 of the first field in
the low bits. :class:`VectorPacker` reads the offsets and widths
from the layout once and then packs and unpacks with plain integer arithmetic (about
ten times faster than building an ``amaranth.lib.data.Const`` per beat, which matters
in a test bench that packs a payload every cycle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from amaranth import Shape
from amaranth.lib import data

__all__ = ["VectorField", "VectorPacker"]


@dataclass(frozen=True)
class VectorField:
    """One field of a payload: ``count`` lanes of ``width`` bits from bit ``offset``;
    a ``scalar`` field is one number (packed from and unpacked to an ``int``)."""

    name: str
    offset: int
    width: int
    count: int
    signed: bool
    scalar: bool = False


def _vector_field(name: str, offset: int, layout) -> VectorField:
    if isinstance(layout, data.ArrayLayout):
        shape = Shape.cast(layout.elem_shape)
        return VectorField(name, offset, shape.width, layout.length, shape.signed)
    if isinstance(layout, data.Layout):
        raise TypeError(f"payload field {name!r} must be an ArrayLayout or a shape, not {layout!r}")
    shape = Shape.cast(layout)
    return VectorField(name, offset, shape.width, 1, shape.signed, scalar=True)


@dataclass(frozen=True)
class VectorPacker:
    """Packs named vectors into a payload integer and unpacks them.

    Build with :meth:`from_layout`. A plain ``ArrayLayout`` (or shape) has one field
    named ``""`` and packs a sequence (or an ``int``); a ``StructLayout`` packs a mapping
    of field name to sequence (or ``int`` for a scalar field).
    """

    fields: tuple[VectorField, ...]
    width: int

    @classmethod
    def from_layout(cls, layout) -> VectorPacker:
        if isinstance(layout, data.StructLayout):
            fields = tuple(_vector_field(name, field.offset, field.shape) for name, field in layout)
            return cls(fields, layout.size)
        field = _vector_field("", 0, layout)
        return cls((field,), field.width * field.count)

    def pack(self, vectors: Mapping[str, Sequence[int]] | Sequence[int]) -> int:
        """The payload as an unsigned integer; lanes are wrapped to their width."""
        if not isinstance(vectors, Mapping):
            vectors = {"": vectors}
        if set(vectors) != {f.name for f in self.fields}:
            raise ValueError(
                f"payload needs vectors {[f.name for f in self.fields]}, got {sorted(vectors)}"
            )
        raw = 0
        for f in self.fields:
            values = [vectors[f.name]] if f.scalar else vectors[f.name]
            if len(values) != f.count:
                raise ValueError(f"vector {f.name!r} needs {f.count} lanes, got {len(values)}")
            mask = (1 << f.width) - 1
            for lane, value in enumerate(values):
                raw |= (int(value) & mask) << (f.offset + lane * f.width)
        return raw

    def unpack(self, raw: int) -> dict[str, np.ndarray | int] | np.ndarray | int:
        """Lanes as ``int64`` arrays (scalar fields as ``int``): one, or a dict of them
        for a struct payload."""
        out = {}
        for f in self.fields:
            mask = (1 << f.width) - 1
            sign = 1 << (f.width - 1)
            lanes = [(raw >> (f.offset + lane * f.width)) & mask for lane in range(f.count)]
            if f.signed:
                lanes = [v - (v & sign) * 2 for v in lanes]
            out[f.name] = int(lanes[0]) if f.scalar else np.array(lanes, dtype=np.int64)
        return out[""] if len(self.fields) == 1 and self.fields[0].name == "" else out
