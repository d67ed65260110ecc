"""Per-epoch figures: accuracy/loss, sparsity (total and per layer), extras.

Each builder takes the run groups and returns a figure, or ``None`` when no
group recorded what the figure shows. Every group is drawn as its mean over
seeds with a min-max band (see :func:`plotting.style.draw_band`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from plotting import quantities as q
from plotting.groups import RunGroup
from plotting.ranges import ACCURACY, LOSS, SPARSITY, AxisRanges, finish_epoch_axes
from plotting.runs import warn
from plotting.style import (
    colors,
    draw_band,
    new_figure,
    note_missing,
    outside_legend,
    set_title,
)

SPLITS = (("train", "Train"), ("val", "Validation"), ("test", "Test"))
PANEL_COLUMNS = 3
#: Inches of one panel in the per-layer and other-metric figures.
PANEL_SIZE = (4.0, 3.0)


def _draw_groups(
    ax: Axes,
    groups: Sequence[RunGroup],
    quantity: q.Quantity,
    handles: dict[str, object],
    column_of: dict[int, int] | None = None,
) -> bool:
    """Draw every group that has ``quantity``; returns whether any was drawn."""
    drawn = False
    fallback = colors(len(groups))
    for index, group in enumerate(groups):
        if column_of is not None and index not in column_of:
            continue
        band = group.band(quantity)
        if band is None:
            continue
        column = None if column_of is None else column_of[index]
        dashed = q.sparsity_kind(group.config) == q.FLIPPED and quantity in (
            q.sparsity_pct,
            q.pruned_or_flipped_pct,
        )
        color = fallback[index] if group.color is None else group.color
        style = "--" if dashed else "-"
        line = draw_band(ax, band, color, group.label, column, style)
        handles.setdefault(group.label, line)
        drawn = True
    return drawn


def _grid_figure(n_panels: int) -> tuple[Figure, list[Axes]]:
    """A figure of ``n_panels`` panels, :data:`PANEL_COLUMNS` to a row."""
    columns = min(PANEL_COLUMNS, n_panels)
    rows = math.ceil(n_panels / columns)
    width, height = PANEL_SIZE
    fig = new_figure(width * columns + 0.6, height * rows + 1.6)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes[:n_panels])


def accuracy_loss_figure(
    groups: Sequence[RunGroup], ranges: AxisRanges | None = None
) -> Figure | None:
    """Train/validation/test accuracy (top row) and loss (bottom row) per epoch.

    Validation and test share a y-range; train (Keras' running mean over the
    epoch, lower than the end-of-epoch evaluations) has its own.
    """
    recorded = {key for group in groups for run in group.runs for key in run.series}
    rows = [
        (metric, unit, kind)
        for metric, unit, kind in (("Accuracy", " (%)", ACCURACY), ("Loss", "", LOSS))
        if any(f"{split}{metric}" in recorded for split, _ in SPLITS)
    ]
    if not rows:
        return None
    fig = new_figure(12, 3.2 * len(rows) + 1.6)
    axes = fig.subplots(len(rows), len(SPLITS), squeeze=False)
    handles: dict[str, object] = {}
    for row, (metric, unit, kind) in enumerate(rows):
        for column, (split, split_name) in enumerate(SPLITS):
            ax = axes[row, column]
            ax.set_title(f"{split_name} {metric.lower()}")
            ax.set_ylabel(f"{split_name} {metric.lower()}{unit}")
            if not _draw_groups(ax, groups, q.series(f"{split}{metric}"), handles):
                note_missing(ax, "not recorded")
        finish_epoch_axes(axes[row, :1], kind, ranges)
        finish_epoch_axes(axes[row, 1:], kind, ranges)
    set_title(
        fig, "Accuracy and loss per epoch (mean over seeds, band = min-max)", groups
    )
    outside_legend(fig, list(handles.values()), list(handles))
    return fig


def _all_flat(
    members: Sequence[RunGroup],
    kind: str,
    suffix: str = "",
    quantity: q.Quantity | None = None,
) -> bool:
    """Whether no run's share (per layer with ``layer_sparsity_pct``) ever changes, as
    edge-popup's fixed keep ratio; then the figure is skipped with a warning."""
    quantity = quantity or q.sparsity_pct
    for group in members:
        for run in group.runs:
            values = quantity(run)
            if values is not None and np.nanmax(values, axis=0).tolist() != \
                    np.nanmin(values, axis=0).tolist():
                return False
    warn(f"{kind}{suffix}.png not drawn: the share never changes in any run (e.g. "
         "edge-popup keeps a fixed share); summary.md gives its value")
    return True


def sparsity_figure(
    groups: Sequence[RunGroup], kind: str, ranges: AxisRanges | None = None
) -> Figure | None:
    """Remaining weights (or flipped signs) of all layers together per epoch."""
    members = [
        g for g in groups if q.sparsity_kind(g.config) == kind and g.band(q.sparsity_pct)
    ]
    if not members or _all_flat(members, kind):
        return None
    fig = new_figure(9, 6)
    ax = fig.subplots()
    handles: dict[str, object] = {}
    _draw_groups(ax, members, q.sparsity_pct, handles)
    ax.set_ylabel(q.SPARSITY_LABELS[kind])
    finish_epoch_axes([ax], SPARSITY, ranges)
    what = q.SPARSITY_LABELS[kind].removesuffix(" (%)")
    set_title(
        fig, f"{what} per epoch, all layers (mean over seeds, band = min-max)", members
    )
    outside_legend(fig, list(handles.values()), list(handles))
    return fig


def layer_sparsity_figure(
    groups: Sequence[RunGroup], kind: str, ranges: AxisRanges | None = None
) -> Figure | None:
    """Remaining weights (or flipped signs) per epoch, one panel per layer."""
    members = [
        g
        for g in groups
        if q.sparsity_kind(g.config) == kind and g.band(q.layer_sparsity_pct)
    ]
    if not members or _all_flat(members, kind, "_per_layer", q.layer_sparsity_pct):
        return None
    layers: dict[str, int] = {}  # layer name -> size (first seen)
    for group in members:
        run = group.runs[0]
        for name, size in zip(run.layer_names, run.layer_sizes):
            layers.setdefault(name, int(size))
    fig, axes = _grid_figure(len(layers))
    handles: dict[str, object] = {}
    for ax, (layer, size) in zip(axes, layers.items()):
        column_of = {
            index: group.runs[0].layer_names.index(layer)
            for index, group in enumerate(members)
            if layer in group.runs[0].layer_names
        }
        _draw_groups(ax, members, q.layer_sparsity_pct, handles, column_of)
        ax.set_title(f"{layer} ({size:,} weights)")
        ax.set_ylabel(q.SPARSITY_LABELS[kind])
        finish_epoch_axes([ax], SPARSITY, ranges)
    what = q.SPARSITY_LABELS[kind].removesuffix(" (%)")
    set_title(
        fig, f"{what} per layer and epoch (mean over seeds, band = min-max)", members
    )
    outside_legend(fig, list(handles.values()), list(handles))
    return fig


def accuracy_sparsity_figure(
    groups: Sequence[RunGroup], ranges: AxisRanges | None = None
) -> Figure | None:
    """The original two-panel figure: test accuracy over pruned/flipped weights."""
    has_accuracy = any(g.band(q.series("testAccuracy")) for g in groups)
    kinds = {q.sparsity_kind(g.config) for g in groups if g.band(q.sparsity_pct)}
    if not has_accuracy and not kinds:
        return None
    fig = new_figure(10, 8 if kinds and has_accuracy else 5)
    panels = int(has_accuracy) + int(bool(kinds))
    axes = list(fig.subplots(panels, 1, squeeze=False)[:, 0])
    handles: dict[str, object] = {}
    if has_accuracy:
        ax = axes.pop(0)
        _draw_groups(ax, groups, q.series("testAccuracy"), handles)
        ax.set_ylabel("Test accuracy (%)")
        ax.set_title("Test accuracy")
        finish_epoch_axes([ax], ACCURACY, ranges)
    if kinds:
        ax = axes.pop(0)
        _draw_groups(ax, groups, q.pruned_or_flipped_pct, handles)
        if kinds == {q.FLIPPED}:
            label = "Flipped signs (%)"
        elif kinds == {q.REMAINING}:
            label = "Pruned weights (%)"
        else:
            label = "Pruned weights, flipped signs (dashed) (%)"
        ax.set_ylabel(label)
        ax.set_title(label.removesuffix(" (%)"))
        finish_epoch_axes([ax], SPARSITY, ranges)
    set_title(
        fig,
        "Test accuracy and sparsity per epoch (mean over seeds, band = min-max)",
        groups,
    )
    outside_legend(fig, list(handles.values()), list(handles))
    return fig


def extra_metrics_figure(
    groups: Sequence[RunGroup], ranges: AxisRanges | None = None
) -> Figure | None:
    """Any other per-epoch series the runs recorded, one panel per metric."""
    keys = q.generic_series_keys([run for g in groups for run in g.runs])
    if not keys:
        return None
    groups = [g for g in groups if q.generic_series_keys(g.runs)]
    fig, axes = _grid_figure(len(keys))
    handles: dict[str, object] = {}
    for ax, key in zip(axes, keys):
        _draw_groups(ax, groups, q.series(key), handles)
        label = q.series_label(key)
        ax.set_title(label, fontsize="medium")
        ax.set_ylabel(label)
        # Accuracies (top-5) are ranged on the trained epochs like every accuracy axis.
        finish_epoch_axes([ax], ACCURACY if key.endswith("Accuracy") else None, ranges)
        if key in q.YES_NO_SERIES:
            ax.set_ylim(-0.1, 1.1)
            ax.set_yticks([0, 1], ["no", "yes"])
    set_title(
        fig,
        "Other recorded metrics per epoch (mean over seeds, band = min-max)",
        groups,
    )
    outside_legend(fig, list(handles.values()), list(handles))
    return fig
