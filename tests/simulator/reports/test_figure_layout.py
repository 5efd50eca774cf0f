"""The fixed layout keeps every text of every figure inside the figure, clear of the axes'
other side, for a one-layer GEMM and for the widest zoo networks."""

from __future__ import annotations

import pytest

from simulator import load_config, simulate, zoo_workload
from simulator.reports import plots
from simulator.workloads.binding import bind_recipe
from tests.conftest import ROOT

FIGURES = ("roofline_figure", "energy_figure", "cycles_figure", "compression_figure")


@pytest.fixture(scope="module", params=["resnet18-nm", "resnet50-tpu", "llama-decode"])
def result(request):
    config, workload, recipe = {
        "resnet18-nm": ("edge-32x32-nm", "resnet18", "prune 2:4 -> int8 per-channel"),
        "resnet50-tpu": ("tpuv1-256x256", "resnet50", "int8 per-channel"),
        "llama-decode": ("edge-32x32", "llama7b-decode", "prune 2:4"),
    }[request.param]
    bound = bind_recipe(zoo_workload(workload), recipe).workload
    return simulate(bound, load_config(ROOT / "configs" / f"{config}.yaml"))


def _drawn_tick_labels(axis):
    """The tick labels matplotlib draws: those of ticks inside the view."""
    low, high = sorted(axis.get_view_interval())
    ticks = [*axis.get_major_ticks(), *axis.get_minor_ticks()]
    inside = [t for t in ticks if low * (1 - 1e-9) <= t.get_loc() <= high * (1 + 1e-9)]
    return [label for t in inside for label in (t.label1, t.label2) if label.get_visible()]


def _texts(fig):
    """Every drawn, non-empty text of the figure: titles, labels, ticks, legends."""
    texts = [*fig.texts, *(text for legend in fig.legends for text in legend.get_texts())]
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
        texts += [text for legend in [ax.get_legend()] if legend for text in legend.get_texts()]
        texts += [*_drawn_tick_labels(ax.xaxis), *_drawn_tick_labels(ax.yaxis)]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("name", FIGURES)
def test_every_text_lies_inside_the_figure(result, name):
    fig = getattr(plots, name)(result)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    for text in _texts(fig):
        box = text.get_window_extent(renderer)
        assert box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1, text.get_text()
        assert box.y0 >= frame.y0 - 1 and box.y1 <= frame.y1 + 1, text.get_text()


@pytest.mark.parametrize("name", FIGURES[1:3])
def test_the_legend_overlaps_no_axes(result, name):
    fig = getattr(plots, name)(result)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        assert not legend.overlaps(ax.get_window_extent(renderer))
