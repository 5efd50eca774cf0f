"""Renderings of a :class:`~simulator.results.SimResult`: ``report.md``, the terminal tables
and the plots. Nothing here runs the model."""

from simulator.reports.markdown import render_markdown, write_report
from simulator.reports.plots import write_plots
from simulator.reports.text import layer_table, summary_lines

__all__ = ["layer_table", "render_markdown", "summary_lines", "write_plots", "write_report"]
