"""sparsa's RTL: Amaranth components built from an AcceleratorConfig, exported to Verilog.

:class:`RtlParams` takes what the hardware needs from a config (refusing what the RTL
does not implement); :class:`TileEngine` is the systolic array (dense or N:M), its
codebook decoders and its tile controller; :func:`write_outputs` writes the Verilog,
``params.json`` and ``params.h``; :class:`GemmRun` drives a whole GEMM through the
engine fold by fold (tiled by :class:`GemmTiling` as the timing model tiles it), from
integer weights or a compressed layer (:func:`weight_operand`, :func:`codebook_operand`),
:func:`reference_matmul` / :func:`reference_layer` give the integers it must produce
(compress's integer model) and :func:`model_timing` the cycles (the simulator's model).
"""

from rtl.driver import GemmRun
from rtl.engine import TileEngine
from rtl.export import generate_verilog, write_outputs
from rtl.model import ModelTiming, model_timing
from rtl.operands import CodebookOperand, WeightOperand, codebook_operand, weight_operand
from rtl.params import RtlParams
from rtl.reference import reference_layer, reference_matmul
from rtl.tiling import GemmTiling

__all__ = [
    "CodebookOperand",
    "GemmRun",
    "GemmTiling",
    "ModelTiming",
    "RtlParams",
    "TileEngine",
    "WeightOperand",
    "codebook_operand",
    "generate_verilog",
    "model_timing",
    "reference_layer",
    "reference_matmul",
    "weight_operand",
    "write_outputs",
]
