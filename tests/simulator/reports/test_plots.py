"""Plot smoke tests: both ridge points inside the roofline's axes, titles inside the
figure, bars inside the frame, one energy unit and no tick offsets."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from simulator import load_config, simulate, zoo_workload
from simulator.reports.plots import cycles_figure, energy_figure, ridge_points, roofline_figure
from tests.conftest import ROOT


@pytest.fixture(scope="module", params=["edge-resnet18", "tpuv1-llama-decode", "eyeriss-alexnet"])
def result(request):
    config, workload, batch = {
        "edge-resnet18": ("edge-32x32", "resnet18", 1),
        "tpuv1-llama-decode": ("tpuv1-256x256", "llama7b-decode", 8),
        "eyeriss-alexnet": ("eyeriss-12x14", "alexnet", 4),
    }[request.param]
    return simulate(zoo_workload(workload, batch), load_config(ROOT / "configs" / f"{config}.yaml"))


def _draw(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _inside_figure(fig, renderer, text) -> bool:
    box = text.get_window_extent(renderer)
    frame = fig.bbox
    return box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1 and box.y1 <= frame.y1 + 1


def test_both_ridge_points_lie_inside_the_roofline_axes(result):
    fig = roofline_figure(result)
    renderer = _draw(fig)
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    peak = result.roofs.peak_macs_per_s * 1e-9
    for ridge in ridge_points(result.roofs).values():
        assert x0 < ridge < x1
    assert y0 < peak < y1
    assert _inside_figure(fig, renderer, ax.title)
    ridge_notes = [t.get_text() for t in ax.texts if "ridge" in t.get_text()]
    assert len(ridge_notes) == 2


def test_cycles_bars_fit_the_frame_and_a_small_utilization_gets_its_own_scale(result):
    fig = cycles_figure(result)
    renderer = _draw(fig)
    ax, util_ax = fig.axes
    tallest = max(layer.cycles.total for layer in result.layers)
    scale = 1e6 if tallest >= 1e6 else 1e3
    assert ax.get_ylim()[1] >= tallest / scale
    assert ax.get_xlim()[0] < 0 and ax.get_xlim()[1] > len(result.layers) - 1
    top = max(layer.utilization for layer in result.layers) * 100
    assert util_ax.get_ylim()[1] >= top
    if top < 20:  # a line near zero gets the axis to itself
        assert util_ax.get_ylim()[1] < 30
    assert _inside_figure(fig, renderer, ax.title)


def test_energy_uses_one_unit_and_no_offset(result):
    fig = energy_figure(result)
    renderer = _draw(fig)
    top = fig.axes[0]
    unit = top.get_ylabel().split("(")[1].rstrip(")")
    assert unit in fig._suptitle.get_text()  # the total in the axis' unit
    assert top.yaxis.get_offset_text().get_text() == ""
    assert max(top.get_yticks()) < 1e4
    assert _inside_figure(fig, renderer, fig._suptitle)
