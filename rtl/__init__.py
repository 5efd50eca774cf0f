"""sparsa's RTL: Amaranth components built from an AcceleratorConfig, exported to Verilog."""

__all__: list[str] = []
