"""Side-by-side comparison of configurations that differ in one config field.

Only comparable runs share axes: groups are first split by data set and net
(:data:`~plotting.groups.COMPARABLE_FIELDS`, unless one of them is compared).
Comparing methods (``traintype``), each method brings its own recipe; a field
that varies *within* one method (e.g. two learning rates of FreePruning)
splits the block into panels, one per setting, and each panel also holds the
other methods' configurations that do not contradict it (a single EdgePopup
configuration appears next to each FreePruning learning rate). Comparing any
other field, a panel holds the groups that agree in everything else that tells
groups apart (comparing learning rates: a panel per method). Colours follow
the compared value, line styles the variants of one value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D

from plotting import quantities as q
from plotting.groups import (
    COMPARABLE_FIELDS,
    METHOD_FIELD,
    RunGroup,
    distinguishing_fields,
    format_field,
    order_fields,
    seeds_text,
    sort_value,
    varying_fields,
)
from plotting.ranges import ACCURACY, SPARSITY, AxisRanges, finish_epoch_axes
from plotting.runs import warn
from plotting.style import (
    colors,
    draw_band,
    new_figure,
    note_missing,
    outside_legend,
    set_title,
)

LINESTYLES = ("-", "--", ":", "-.")
MAX_COLUMNS = 3
#: Inches of one panel, of a panel title and of one legend row.
PANEL_SIZE = (4.6, 2.5)
TITLE_HEIGHT = 0.5
LEGEND_ROW_HEIGHT = 0.22
#: Inches; room for the figure title when there is a single panel.
MIN_WIDTH = 7.0
#: Why a configuration has no test-accuracy line (its legend entry and the title say it).
NO_TEST_ACCURACY = "no test accuracy recorded"

Setting = frozenset  # of (field, value) pairs


def comparable_blocks(groups: Sequence[RunGroup], field: str) -> list[list[RunGroup]]:
    """Groups split by data set and net (whichever of them is not ``field``)."""
    names = order_fields(set(COMPARABLE_FIELDS) - {field})
    blocks: dict[tuple, list[RunGroup]] = {}
    for group in groups:
        blocks.setdefault(tuple(repr(group.config.get(n)) for n in names), []).append(group)
    return sorted(
        blocks.values(), key=lambda b: [sort_value(b[0].config.get(n)) for n in names]
    )


def _panel_fields(members: Sequence[RunGroup], field: str) -> dict[str, set[str]]:
    """Per value of ``field`` (as repr), the fields that put its groups in panels.

    Comparing methods, each method's groups are told apart by their own
    settings (the recipes differ anyway); comparing any other field, by every
    field that tells apart the groups of the block.
    """
    by_value: dict[str, list[RunGroup]] = {}
    for group in members:
        by_value.setdefault(repr(group.config.get(field)), []).append(group)
    if field != METHOD_FIELD:
        shared = distinguishing_fields(members) - {field}
        return {value: shared for value in by_value}
    return {value: distinguishing_fields(gs) - {field} for value, gs in by_value.items()}


def _setting(group: RunGroup, names: set[str]) -> Setting:
    return Setting((n, group.config[n]) for n in names if group.config.get(n) is not None)


def _consistent(a: Setting, b: Setting) -> bool:
    values = dict(a)
    return all(values.get(name, value) == value for name, value in b)


def _split_block(
    members: Sequence[RunGroup], field: str
) -> list[tuple[Setting, list[RunGroup]]]:
    """Panels of one block: (the setting a panel stands for, its groups).

    One panel per setting no other setting extends; a group joins every panel
    it does not contradict (a field it lacks contradicts nothing). Panels whose
    groups all appear in the remaining panels are dropped.
    """
    fields = _panel_fields(members, field)
    settings = [_setting(g, fields[repr(g.config.get(field))]) for g in members]
    distinct = list(dict.fromkeys(settings))
    maximal = [s for s in distinct if not any(s < other for other in distinct)]
    panels = [
        (setting, [g for g, s in zip(members, settings) if _consistent(s, setting)])
        for setting in maximal
    ]
    for index in reversed(range(len(panels))):
        others = {id(g) for _, chosen in panels[:index] + panels[index + 1 :] for g in chosen}
        if len(panels) > 1 and {id(g) for g in panels[index][1]} <= others:
            del panels[index]
    return panels


def _differing(settings: Sequence[Setting]) -> set[str]:
    """Fields whose value (where set) is not the same in all settings."""
    values: dict[str, set[str]] = {}
    for setting in settings:
        for name, value in setting:
            values.setdefault(name, set()).add(repr(value))
    return {name for name, seen in values.items() if len(seen) > 1}


def compare_facets(
    groups: Sequence[RunGroup], field: str
) -> list[tuple[str, list[RunGroup]]]:
    """Panels (title, groups) for comparing ``field``; titles name what differs."""
    blocks = comparable_blocks(groups, field)
    block_fields = order_fields(
        set(varying_fields([b[0] for b in blocks])) & (set(COMPARABLE_FIELDS) - {field})
    )
    facets = []
    for block in blocks:
        head = [format_field(n, block[0].config.get(n)) for n in block_fields]
        panels = _split_block(block, field)
        shown = order_fields(_differing([setting for setting, _ in panels]))
        for setting, chosen in panels:
            values = dict(setting)
            parts = head + [format_field(n, values[n], True) for n in shown if n in values]
            facets.append((" · ".join(parts), chosen))
    return facets


def compare_figure(
    groups: Sequence[RunGroup], field: str, ranges: AxisRanges | None = None
) -> Figure:
    """Test accuracy and sparsity per epoch, one colour per value of ``field``."""
    values = sorted({g.config.get(field) for g in groups}, key=sort_value)
    palette = dict(zip(map(repr, values), colors(len(values))))
    facets = compare_facets(groups, field)
    has_sparsity = any(g.band(q.sparsity_pct) for g in groups)
    rows = 2 if has_sparsity else 1
    columns = min(MAX_COLUMNS, len(facets))
    grid_rows = math.ceil(len(facets) / columns)
    legend_rows = max(len(members) for _, members in facets)  # at worst one per row
    width, height = PANEL_SIZE
    facet_height = height * rows + TITLE_HEIGHT + LEGEND_ROW_HEIGHT * legend_rows
    fig = new_figure(max(MIN_WIDTH, width * columns + 0.3), facet_height * grid_rows + 1.0)
    subfigs = np.atleast_1d(fig.subfigures(grid_rows, columns, squeeze=False)).ravel()
    for subfig in subfigs[len(facets) :]:
        subfig.set_visible(False)
    for subfig, (title, members) in zip(subfigs, facets):
        if title:
            subfig.suptitle(title, fontsize="medium")
        _draw_facet(subfig, rows, members, field, palette, ranges)
    shown = "test accuracy and sparsity" if has_sparsity else "test accuracy"
    title = f"Comparison by {field}: {shown} per epoch (mean over seeds, band = min-max)"
    undrawn = [g for g in groups if g.band(q.series("testAccuracy")) is None]
    if undrawn:  # never dropped silently: the title and a warning name them
        names = ", ".join(g.name for g in undrawn)
        title += f"; no accuracy line for {len(undrawn)} of {len(groups)} configurations"
        title += f" ({NO_TEST_ACCURACY}, e.g. --eval_sets without test): {names}"
        warn(f"compare_{field}: {len(undrawn)} configuration(s) have no test-accuracy "
             f"line ({NO_TEST_ACCURACY}): {names}")
    set_title(fig, title, groups)
    return fig


def _variant_labels(members: Sequence[RunGroup], field: str) -> list[str]:
    """Legend labels: the compared value, plus what tells apart its variants."""
    fields = _panel_fields(members, field)
    labels = []
    for group in members:
        value = group.config.get(field)
        names = order_fields(fields[repr(value)])
        parts = [format_field(field, value)]
        parts += [format_field(n, group.config[n], True) for n in names if n in group.config]
        labels.append(f"{' · '.join(parts)} ({seeds_text(group.n)})")
    return labels


def _draw_facet(
    subfig: SubFigure,
    rows: int,
    members: Sequence[RunGroup],
    field: str,
    palette: dict[str, Any],
    ranges: AxisRanges | None,
) -> None:
    axes = subfig.subplots(rows, 1, squeeze=False)[:, 0]
    members = sorted(members, key=lambda g: sort_value(g.config.get(field)))
    used: dict[str, int] = {}
    handles, kinds = {}, set()
    for group, label in zip(members, _variant_labels(members, field)):
        key = repr(group.config.get(field))
        style = LINESTYLES[used.get(key, 0) % len(LINESTYLES)]
        used[key] = used.get(key, 0) + 1
        accuracy = group.band(q.series("testAccuracy"))
        if accuracy is not None:
            handles[label] = draw_band(axes[0], accuracy, palette[key], label, linestyle=style)
        else:  # listed in the legend all the same, with the reason
            label = f"{label}: {NO_TEST_ACCURACY}"
            handles[label] = Line2D([], [], color=palette[key], linestyle=style)
        sparsity = group.band(q.sparsity_pct) if rows > 1 else None
        if sparsity is not None:
            kind = q.sparsity_kind(group.config)
            kinds.add(kind)
            dashed = "--" if kind == q.FLIPPED else style
            line = draw_band(axes[1], sparsity, palette[key], label, linestyle=dashed)
            handles.setdefault(label, line)
    axes[0].set_ylabel("Test accuracy (%)")
    finish_epoch_axes(axes[:1], ACCURACY, ranges)
    if not axes[0].get_lines():
        note_missing(axes[0], "test accuracy not recorded")
    if rows > 1:
        if len(kinds) == 1:
            axes[1].set_ylabel(q.SPARSITY_LABELS[kinds.pop()])
        elif kinds:  # the two-kind label would not fit the panel's height
            axes[1].set_ylabel("Share of weights (%)")
            axes[1].set_title("Remaining weights; flipped signs dashed", fontsize="medium")
        finish_epoch_axes(axes[1:], SPARSITY, ranges)
        if not axes[1].get_lines():
            note_missing(axes[1], "no remaining weights or flipped signs recorded")
    outside_legend(subfig, list(handles.values()), list(handles))
