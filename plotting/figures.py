"""Per-epoch figures: accuracy/loss, sparsity (total and per layer), extras.

Each builder takes the run groups and returns a figure, or ``None`` when no
group recorded what the figure shows. Every group is drawn as its mean over
seeds with a min-max band (see :func:`plotting.style.draw_band`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from plotting import quantities as q
from plotting.groups import RunGroup
from plotting.style import (
    colors,
    draw_band,
    epoch_axis,
    figure_legend,
    new_figure,
    note_missing,
    set_title,
)

SPLITS = (("train", "Train"), ("val", "Validation"), ("test", "Test"))
PANEL_COLUMNS = 3


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


def _grid(fig: Figure, n_panels: int) -> list[Axes]:
    columns = min(PANEL_COLUMNS, n_panels)
    rows = math.ceil(n_panels / columns)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return list(axes[:n_panels])


def accuracy_loss_figure(groups: Sequence[RunGroup]) -> Figure | None:
    """Train/validation/test accuracy (top row) and loss (bottom row) per epoch."""
    recorded = {key for group in groups for run in group.runs for key in run.series}
    rows = [
        (metric, unit)
        for metric, unit in (("Accuracy", " (%)"), ("Loss", ""))
        if any(f"{split}{metric}" in recorded for split, _ in SPLITS)
    ]
    if not rows:
        return None
    fig = new_figure(14, 3.6 * len(rows) + 1.4)
    axes = fig.subplots(len(rows), len(SPLITS), squeeze=False, sharey="row")
    handles: dict[str, object] = {}
    for row, (metric, unit) in enumerate(rows):
        for column, (split, split_name) in enumerate(SPLITS):
            ax = axes[row, column]
            ax.set_title(f"{split_name} {metric.lower()}")
            ax.set_ylabel(f"{split_name} {metric.lower()}{unit}")
            ax.yaxis.set_tick_params(labelleft=True)
            epoch_axis(ax)
            if not _draw_groups(ax, groups, q.series(f"{split}{metric}"), handles):
                note_missing(ax, "not recorded")
    set_title(
        fig, "Accuracy and loss per epoch (mean over seeds, band = min-max)", groups
    )
    figure_legend(fig, list(handles.values()), list(handles))
    return fig


def sparsity_figure(groups: Sequence[RunGroup], kind: str) -> Figure | None:
    """Remaining weights (or flipped signs) of all layers together per epoch."""
    members = [g for g in groups if q.sparsity_kind(g.config) == kind]
    if not any(g.band(q.sparsity_pct) for g in members):
        return None
    fig = new_figure(9, 6)
    ax = fig.subplots()
    handles: dict[str, object] = {}
    _draw_groups(ax, members, q.sparsity_pct, handles)
    ax.set_ylabel(q.SPARSITY_LABELS[kind])
    epoch_axis(ax)
    what = q.SPARSITY_LABELS[kind].removesuffix(" (%)")
    set_title(
        fig, f"{what} per epoch, all layers (mean over seeds, band = min-max)", members
    )
    figure_legend(fig, list(handles.values()), list(handles))
    return fig


def layer_sparsity_figure(groups: Sequence[RunGroup], kind: str) -> Figure | None:
    """Remaining weights (or flipped signs) per epoch, one panel per layer."""
    members = [
        g
        for g in groups
        if q.sparsity_kind(g.config) == kind and g.band(q.layer_sparsity_pct)
    ]
    if not members:
        return None
    layers: dict[str, int] = {}  # layer name -> size (first seen)
    for group in members:
        run = group.runs[0]
        for name, size in zip(run.layer_names, run.layer_sizes):
            layers.setdefault(name, int(size))
    rows = math.ceil(len(layers) / PANEL_COLUMNS)
    fig = new_figure(5 * min(PANEL_COLUMNS, len(layers)) + 1, 3.6 * rows + 1.6)
    handles: dict[str, object] = {}
    for ax, (layer, size) in zip(_grid(fig, len(layers)), layers.items()):
        column_of = {
            index: group.runs[0].layer_names.index(layer)
            for index, group in enumerate(members)
            if layer in group.runs[0].layer_names
        }
        _draw_groups(ax, members, q.layer_sparsity_pct, handles, column_of)
        ax.set_title(f"{layer} ({size:,} weights)")
        ax.set_ylabel(q.SPARSITY_LABELS[kind])
        epoch_axis(ax)
    what = q.SPARSITY_LABELS[kind].removesuffix(" (%)")
    set_title(
        fig, f"{what} per layer and epoch (mean over seeds, band = min-max)", members
    )
    figure_legend(fig, list(handles.values()), list(handles))
    return fig


def accuracy_sparsity_figure(groups: Sequence[RunGroup]) -> Figure | None:
    """The original two-panel figure: test accuracy over pruned/flipped weights."""
    has_accuracy = any(g.band(q.series("testAccuracy")) for g in groups)
    kinds = {q.sparsity_kind(g.config) for g in groups if g.band(q.sparsity_pct)}
    if not has_accuracy and not kinds:
        return None
    fig = new_figure(10, 8 if kinds and has_accuracy else 5)
    panels = int(has_accuracy) + int(bool(kinds))
    axes = list(fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0])
    handles: dict[str, object] = {}
    if has_accuracy:
        ax = axes.pop(0)
        _draw_groups(ax, groups, q.series("testAccuracy"), handles)
        ax.set_ylabel("Test accuracy (%)")
        ax.set_title("Test accuracy")
        epoch_axis(ax)
        if kinds:
            ax.set_xlabel("")  # shared with the panel below
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
        epoch_axis(ax)
    set_title(
        fig,
        "Test accuracy and sparsity per epoch (mean over seeds, band = min-max)",
        groups,
    )
    figure_legend(fig, list(handles.values()), list(handles))
    return fig


def extra_metrics_figure(groups: Sequence[RunGroup]) -> Figure | None:
    """Any other per-epoch series the runs recorded, one panel per metric."""
    keys = q.generic_series_keys([run for g in groups for run in g.runs])
    if not keys:
        return None
    rows = math.ceil(len(keys) / PANEL_COLUMNS)
    fig = new_figure(5 * min(PANEL_COLUMNS, len(keys)) + 1, 3.6 * rows + 1.6)
    handles: dict[str, object] = {}
    for ax, key in zip(_grid(fig, len(keys)), keys):
        _draw_groups(ax, groups, q.series(key), handles)
        label = q.series_label(key)
        ax.set_title(label)
        ax.set_ylabel(label)
        epoch_axis(ax)
    set_title(
        fig,
        "Other recorded metrics per epoch (mean over seeds, band = min-max)",
        groups,
    )
    figure_legend(fig, list(handles.values()), list(handles))
    return fig
