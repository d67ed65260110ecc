"""The head-to-head figure of ``python -m experiments.compare``: test accuracy against the
fraction of connections each method changed, one marker per method (mean, with the seeds'
min–max as error bars on both axes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure

from plotting.style import colors, new_figure, outside_legend


@dataclass(frozen=True)
class MethodPoint:
    """One method of a suite: its per-seed accuracies (%) and changed fractions (0..1)."""

    label: str
    accuracies: Sequence[float]
    changed: Sequence[float]


def _span(values: Sequence[float]) -> tuple[float, float, float]:
    mean = sum(values) / len(values)
    return mean, mean - min(values), max(values) - mean


def accuracy_vs_changed_figure(points: Sequence[MethodPoint], title: str) -> Figure:
    fig = new_figure(7.0, 5.2)
    ax = fig.add_subplot()
    handles, labels = [], []
    for point, color in zip(points, colors(len(points))):
        if not point.accuracies:
            continue
        acc, acc_low, acc_high = _span(point.accuracies)
        shown = point.changed or [float("nan")]
        changed, ch_low, ch_high = _span([100.0 * c for c in shown])
        handle = ax.errorbar([changed], [acc], yerr=[[acc_low], [acc_high]],
                             xerr=[[ch_low], [ch_high]], fmt="o", color=color, capsize=3,
                             markersize=7)
        handles.append(handle)
        labels.append(f"{point.label} ({acc:.2f} %)")
    ax.set_xlabel("connections changed from the random network (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xlim(-3, 103)
    ax.grid(alpha=0.3)
    fig.suptitle(title)
    outside_legend(fig, handles, labels)
    return fig
