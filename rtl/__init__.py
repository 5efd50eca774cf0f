"""sparsa's RTL: Amaranth components built from an AcceleratorConfig, exported to Verilog.

:class:`RtlParams` takes what the hardware needs from a config (refusing what the RTL
does not implement); :class:`TileEngine` is the systolic array and its tile controller;
:func:`write_outputs` writes the Verilog, ``params.json`` and ``params.h``;
:class:`GemmRun` drives a whole GEMM through the engine fold by fold, and
:func:`reference_matmul` gives the integers it must produce.
"""

from rtl.driver import GemmRun, GemmTiling
from rtl.engine import TileEngine
from rtl.export import generate_verilog, write_outputs
from rtl.params import RtlParams
from rtl.reference import reference_matmul

__all__ = [
    "GemmRun",
    "GemmTiling",
    "RtlParams",
    "TileEngine",
    "generate_verilog",
    "reference_matmul",
    "write_outputs",
]
