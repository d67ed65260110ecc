"""Final per-layer composition of masks and masked weights as stacked bars."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from plotting import quantities as q
from plotting.groups import RunGroup
from plotting.style import new_figure, outside_legend, set_title

SIGNS = ("Negative", "Zero", "Positive")
SIGN_COLORS = ("#d6604d", "#bababa", "#4393c3")
PANELS = (("Masks M", 0), ("Masked weights M × W", 3))
#: Segments at least this tall (in percent) get their value written inside.
LABEL_MIN_PCT = 8.0
#: Up to this many configurations are stacked in one column, more in two.
SINGLE_COLUMN_MAX = 3
TITLE_CHARS = 90
#: Inches of one configuration's pair of panels.
COLUMN_WIDTH, ROW_HEIGHT = 6.5, 3.2


def final_composition(group: RunGroup) -> tuple[np.ndarray, int, int] | None:
    """Mean composition (layers x 6, percent) at the group's last epoch.

    Returns the means, the epoch and the number of runs that reached it.
    """
    final = group.final(q.composition_pct)
    if final is None:
        return None
    values, epoch = final
    return values.mean(axis=0), epoch, len(values)


def _stacked_bars(ax: Axes, layers: Sequence[str], shares: np.ndarray) -> list:
    """Stack negative/zero/positive shares per layer; returns the bar containers."""
    x = np.arange(len(layers))
    bottom = np.zeros(len(layers))
    containers = []
    for sign, color, values in zip(SIGNS, SIGN_COLORS, shares.T):
        bars = ax.bar(x, values, 0.6, bottom=bottom, color=color, label=sign)
        labels = [f"{v:.1f}" if v >= LABEL_MIN_PCT else "" for v in values]
        ax.bar_label(bars, labels=labels, label_type="center", fontsize="x-small")
        bottom = bottom + values
        containers.append(bars)
    ax.set_xticks(x, layers)
    ax.set_xlabel("Layer")
    ax.set_ylabel("Share of layer weights (%)")
    ax.set_ylim(0, 100)
    return containers


def composition_figure(groups: Sequence[RunGroup]) -> Figure | None:
    """One row per configuration: sign shares of masks and of masked weights."""
    rows = [(g, final_composition(g)) for g in groups]
    rows = [(group, found) for group, found in rows if found is not None]
    if not rows:
        return None
    columns = 1 if len(rows) <= SINGLE_COLUMN_MAX else 2
    grid_rows = math.ceil(len(rows) / columns)
    fig = new_figure(COLUMN_WIDTH * columns, ROW_HEIGHT * grid_rows + 1.6)
    subfigs = fig.subfigures(grid_rows, columns, squeeze=False).ravel()
    for subfig in subfigs[len(rows) :]:
        subfig.set_visible(False)
    containers: list = []
    for subfig, (group, (shares, epoch, n_final)) in zip(subfigs, rows):
        layers = group.runs[0].layer_names
        reached = "" if n_final == group.n else f", {n_final} of them reached it"
        title = textwrap.fill(f"{group.label} — epoch {epoch}{reached}", TITLE_CHARS)
        subfig.suptitle(title, fontsize="medium")
        for ax, (title, offset) in zip(subfig.subplots(1, 2), PANELS):
            containers = _stacked_bars(ax, layers, shares[:, offset : offset + 3])
            ax.set_title(title, fontsize="medium")
    set_title(
        fig,
        "Final per-layer composition of masks and masked weights (mean over seeds)",
        [group for group, _ in rows],
    )
    outside_legend(fig, containers, list(SIGNS))
    return fig
