"""Where generated Verilog is cached: ``$SPARSA_CACHE_DIR/verilog``, else
``$XDG_CACHE_HOME/sparsa/verilog``, else ``~/.cache/sparsa/verilog``.

Its own module, without Amaranth, so that ``sparsa --help`` can name the folder without
importing the RTL (see :mod:`rtl.export` for what the cache holds).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_cache_dir"]


def default_cache_dir() -> Path:
    """Where generated Verilog is cached (see the module docstring)."""
    if os.environ.get("SPARSA_CACHE_DIR"):
        return Path(os.environ["SPARSA_CACHE_DIR"]) / "verilog"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sparsa" / "verilog"
