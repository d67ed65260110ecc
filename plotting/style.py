"""Shared drawing helpers: figures, colours, mean/min-max bands, titles, legends.

Figures are created as :class:`matplotlib.figure.Figure` objects without
pyplot, so the package never touches the global backend or figure registry.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase
from matplotlib.lines import Line2D

from plotting.groups import Band, RunGroup, format_field, varying_fields

EPOCH_LABEL = "Epoch"
MEAN_WIDTH = 2.0
EDGE_ALPHA = 0.2
BAND_ALPHA = 0.1
#: Characters of legend text that fit in one inch at the legend font size.
CHARS_PER_INCH = 12
#: Config fields summarised in figure subtitles when shared by all groups.
CONTEXT_FIELDS = ("nettype", "dataset", "activation", "p1", "batchsize")


def new_figure(width: float, height: float) -> Figure:
    """A constrained-layout figure (no pyplot involved)."""
    return Figure(figsize=(width, height), layout="constrained")


def colors(n: int) -> list[Any]:
    """``n`` distinguishable colours (tab10, then tab20, then a continuous map)."""
    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    return [colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]


def assign_colors(groups: Sequence[RunGroup]) -> None:
    """Give every group a fixed colour so it looks the same in all figures."""
    for group, color in zip(groups, colors(len(groups))):
        group.color = color


#: Runs with at most this many points (epoch 0 included) are drawn with markers; with
#: at most :data:`POINTS_ONLY` (a run of one epoch), as markers alone: a line from an
#: off-scale epoch 0 would read as a vertical stroke.
SHORT_RUN_POINTS = 3
POINTS_ONLY = 2
#: The marker that stands for a line style when only markers are drawn.
POINT_MARKERS = {"-": "o", "--": "s", ":": "^", "-.": "D"}


def draw_band(
    ax: Axes,
    band: Band,
    color: Any,
    label: str,
    column: int | None = None,
    linestyle: str = "-",
) -> Line2D:
    """Mean line (lw 2) with min and max lines (alpha 0.2) and a filled band.

    ``column`` selects one trailing index (e.g. a layer) of a 2-D band. The
    mean line carries ``label``; the min/max lines are named ``_min``/``_max``
    so legends skip them, and all artists get a ``gid`` of ``label``.
    """
    mean, low, high = band.mean, band.low, band.high
    if column is not None:
        mean, low, high = mean[:, column], low[:, column], high[:, column]
    valid = ~np.isnan(mean)
    epochs, mean, low, high = band.epochs[valid], mean[valid], low[valid], high[valid]
    points_only = len(epochs) <= POINTS_ONLY
    marker = None
    if len(epochs) <= SHORT_RUN_POINTS:  # markers alone keep the variants apart by shape
        marker = POINT_MARKERS.get(linestyle, "o") if points_only else "o"
    (line,) = ax.plot(
        epochs,
        mean,
        color=color,
        lw=MEAN_WIDTH,
        ls="none" if points_only else linestyle,
        label=label,
        marker=marker,
        gid=label,
    )
    for name, values in (("_min", low), ("_max", high)):
        ax.plot(epochs, values, color=color, alpha=EDGE_ALPHA, label=name, gid=label,
                ls="none" if points_only else "-", marker="_" if points_only else None)
    if points_only:  # the seeds' range as a vertical bar at each epoch
        fill = ax.vlines(epochs, low, high, color=color, alpha=EDGE_ALPHA, lw=MEAN_WIDTH)
    else:
        fill = ax.fill_between(epochs, low, high, color=color, alpha=BAND_ALPHA, lw=0)
    fill.set_gid(label)
    return line


def context_text(groups: Sequence[RunGroup]) -> str:
    """Shared configuration (e.g. "LeNet · mnist · relu") and run counts."""
    varying = set(varying_fields(groups))
    first = groups[0].config
    parts = [
        format_field(name, first[name])
        for name in CONTEXT_FIELDS
        if name in first and name not in varying
    ]
    runs = [run for group in groups for run in group.runs]
    configs = "configuration" if len(groups) == 1 else "configurations"
    text = f"{len(groups)} {configs}, {len(runs)} run{'' if len(runs) == 1 else 's'}"
    incomplete = sum(not run.complete for run in runs)
    parts.append(text + (f" ({incomplete} incomplete)" if incomplete else ""))
    return " · ".join(parts)


def set_title(fig: Figure, title: str, groups: Sequence[RunGroup] = ()) -> None:
    """Figure title plus a subtitle describing the shared configuration."""
    width = int(fig.get_figwidth() * 11)
    text = textwrap.fill(title, width)
    if groups:
        text += "\n" + textwrap.fill(context_text(groups), int(width * 1.2))
    fig.suptitle(text, fontsize="large")


def legend_columns(labels: Sequence[str], width_inches: float) -> int:
    """A first guess of how many legend columns fit in ``width_inches``."""
    longest = max((len(line) for label in labels for line in label.split("\n")), default=1)
    fit = int(width_inches * CHARS_PER_INCH / (longest + 4))
    return max(1, min(len(labels), fit))


def wrap_label(label: str, width_inches: float) -> str:
    """``label`` broken into lines that fit a legend column ``width_inches`` wide."""
    return textwrap.fill(label, max(20, int(width_inches * CHARS_PER_INCH) - 6))


def outside_legend(
    where: FigureBase, handles: Sequence[Any], labels: Sequence[str], **kwargs: Any
) -> Any:
    """A legend below the axes of a figure or subfigure that fits inside it.

    Long labels are wrapped; columns are dropped until the legend's measured
    width fits the (sub)figure.
    """
    if not handles:
        return None
    width = where.bbox.width / where.figure.dpi
    labels = [wrap_label(label, width) for label in labels]
    for ncols in range(legend_columns(labels, width), 0, -1):
        box = where.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=ncols,
            fontsize="small",
            frameon=False,
            **kwargs,
        )
        if ncols == 1 or box.get_window_extent().width <= where.bbox.width:
            return box
        box.remove()
    return None  # not reached: one column always returns


def note_missing(ax: Axes, text: str) -> None:
    """Mark an axes whose quantity no run recorded."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
