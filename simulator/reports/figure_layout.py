"""How sparsa's figures are made: one style, the Agg canvas, plain log labels, and a fixed
layout whose margins are measured once from the figure's texts.

:data:`STYLE` holds the matplotlib settings every figure shares, in force while a figure
is built (:func:`styled`); :func:`new_figure` puts it on the Agg canvas; :func:`log_axes`
labels log axes as plain text (matplotlib's default typesets each label as mathtext,
which took a fifth of the roofline's time).

matplotlib's constrained layout finds margins by laying every axes out repeatedly (when
asked, and again each time the figure is drawn); for sparsa's small figures that was
about half of their time. Each sparsa figure is a grid of axes with tick labels, axis
labels, titles and at most one legend beside the grid, so its margins follow from the
extents of those texts: :func:`axis_reach` and :func:`text_height` measure them with the
renderer that then draws the figure, :func:`figure_legend` puts the legend at an edge and
:func:`fix_layout` places the grid. Sizes are in inches, as the figure's size is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend
    from matplotlib.text import Text

__all__ = [
    "EDGE_IN",
    "GAP_IN",
    "STYLE",
    "axis_reach",
    "figure_legend",
    "fix_layout",
    "legend_size",
    "log_axes",
    "new_figure",
    "styled",
    "text_height",
    "text_width",
    "tick_overhang",
]

STYLE = {
    "axes.titlesize": 10,
    "figure.titlesize": 10,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "legend.frameon": False,
}
"""The matplotlib settings of every figure (read when its artists are made)."""

_POINT_IN = 1 / 72
EDGE_IN = 4 * _POINT_IN
"""Between the outermost text and the figure's edge."""
GAP_IN = 8 * _POINT_IN
"""Between a legend or a title and the axes it borders."""


_Input = TypeVar("_Input")


def styled(build: Callable[[_Input], Figure]) -> Callable[[_Input], Figure]:
    """``build`` with :data:`STYLE` in force while it makes its figure."""

    @functools.wraps(build)
    def build_styled(data: _Input) -> Figure:
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return build(data)

    return build_styled


def log_axes(ax: Axes) -> None:
    """Log scales on both axes of ``ax``, labelled as plain text (``1e-06``, ``0.1``,
    ``200``, ``1e+05``) rather than mathtext."""
    from matplotlib.ticker import LogFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(LogFormatter())
        axis.set_minor_formatter(LogFormatter())


def new_figure(width_in: float, height_in: float, dpi: float) -> Figure:
    """An empty figure on the Agg canvas (no pyplot, whatever the default backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _size_in(fig: Figure, text: Text) -> tuple[float, float]:
    """Width and height of ``text`` as drawn (rotation included), in inches."""
    box = text.get_window_extent(fig.canvas.get_renderer())
    return box.width / fig.dpi, box.height / fig.dpi


def text_height(fig: Figure, text: Text | None) -> float:
    """Height of ``text`` in inches; 0 for none or an empty one."""
    return _size_in(fig, text)[1] if text is not None and text.get_text() else 0.0


def text_width(fig: Figure, text: Text | None) -> float:
    """Width of ``text`` in inches; 0 for none or an empty one."""
    return _size_in(fig, text)[0] if text is not None and text.get_text() else 0.0


def axis_reach(fig: Figure, axis: Axis) -> float:
    """How far ``axis``'s ticks, tick labels and axis label reach out of the axes (inches):
    across the axes' edge, widths for a y axis and heights for an x axis."""
    across = 0 if axis.axis_name == "y" else 1
    labels = [t for t in axis.get_ticklabels(which="both") if t.get_visible() and t.get_text()]
    reach = max((_size_in(fig, t)[across] for t in labels), default=0.0)
    ticks = axis.get_major_ticks()
    if ticks:
        reach += (ticks[0].get_tick_padding() + ticks[0].get_pad()) * _POINT_IN
    if axis.label.get_visible() and axis.label.get_text():
        reach += _size_in(fig, axis.label)[across] + axis.labelpad * _POINT_IN
    return reach


def tick_overhang(fig: Figure, axis: Axis) -> float:
    """Half the widest tick label of an x axis: how far a label at the axes' end can
    reach past it (inches)."""
    labels = [t for t in axis.get_ticklabels(which="both") if t.get_visible() and t.get_text()]
    return max((_size_in(fig, t)[0] / 2 for t in labels), default=0.0)


def figure_legend(fig: Figure, side: str, **kwargs) -> Legend | None:
    """A legend of every labelled artist of the figure, against its ``"bottom"`` or
    ``"right"`` edge; none (and no matplotlib warning) when nothing is labelled."""
    handles, labels = [], []
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.append(handle)
            labels.append(label)
    if not handles:
        return None
    width, height = fig.get_size_inches()
    place = {
        "bottom": ("lower center", (0.5, EDGE_IN / height)),
        "right": ("center right", (1 - EDGE_IN / width, 0.5)),
    }[side]
    return fig.legend(
        handles, labels, loc=place[0], bbox_to_anchor=place[1], borderaxespad=0, **kwargs
    )


def legend_size(fig: Figure, legend: Legend | None) -> tuple[float, float]:
    """Width and height of ``legend`` in inches (0 for none)."""
    if legend is None:
        return 0.0, 0.0
    box = legend.get_window_extent(fig.canvas.get_renderer())
    return box.width / fig.dpi, box.height / fig.dpi


def fix_layout(
    fig: Figure,
    left: float,
    right: float,
    bottom: float,
    top: float,
    hgap: float = 0.0,
    wgap: float = 0.0,
) -> None:
    """Place the figure's grid of axes ``left``, ``right``, ``bottom`` and ``top`` inches
    from its edges, ``hgap`` and ``wgap`` inches apart."""
    width, height = fig.get_size_inches()
    rows, cols = fig.axes[0].get_subplotspec().get_gridspec().get_geometry()
    axes_height = (height - top - bottom - hgap * (rows - 1)) / rows
    axes_width = (width - left - right - wgap * (cols - 1)) / cols
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        hspace=hgap / axes_height,
        wspace=wgap / axes_width,
    )
