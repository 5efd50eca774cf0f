"""sparsa's RTL: Amaranth components built from an AcceleratorConfig, exported to Verilog.

:class:`RtlParams` takes what the hardware needs from a config (refusing what the RTL
does not implement); :class:`TileEngine` is the systolic array (dense or N:M), its
codebook decoders and its tile controller; :func:`write_outputs` writes the Verilog,
``params.json`` and ``params.h``; :class:`GemmRun` drives a whole GEMM through the
engine fold by fold (tiled by :class:`GemmTiling` as the timing model tiles it), from
integer weights or a compressed layer (:func:`weight_operand`, :func:`codebook_operand`),
:func:`reference_matmul` / :func:`reference_layer` give the integers it must produce
(compress's integer model) and :func:`model_timing` the cycles (the simulator's model).

The names below are imported from their modules on first use (:mod:`compress.lazy`),
so that importing one module of the package does not import them all.
"""

from compress.lazy import lazy_exports

__all__ = lazy_exports(
    __name__,
    {
        "rtl.driver": ("GemmRun",),
        "rtl.engine": ("TileEngine",),
        "rtl.export": ("generate_verilog", "write_outputs"),
        "rtl.model": ("ModelTiming", "model_timing"),
        "rtl.operands": ("CodebookOperand", "WeightOperand", "codebook_operand", "weight_operand"),
        "rtl.params": ("RtlParams",),
        "rtl.reference": ("reference_layer", "reference_matmul"),
        "rtl.tiling": ("GemmTiling",),
    },
)
