"""Side-by-side comparison of configurations that differ in one config field.

Groups are coloured by their value of the compared field. Other fields that
vary within one value (e.g. several learning rates of FreePruning) split the
figure into facets, so only like is compared with like; a value represented
by a single configuration (e.g. one Baseline) is drawn in every facet as a
reference.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from plotting import quantities as q
from plotting.groups import (
    RunGroup,
    format_field,
    order_fields,
    seeds_text,
    sort_value,
    varying_fields,
)
from plotting.ranges import ACCURACY, SPARSITY, AxisRanges, finish_epoch_axes
from plotting.style import (
    colors,
    draw_band,
    new_figure,
    note_missing,
    set_title,
)

LINESTYLES = ("-", "--", ":", "-.")


def compare_facets(
    groups: Sequence[RunGroup], field: str
) -> list[tuple[str, list[RunGroup]]]:
    """Split groups into facets (title, members) for comparing ``field``."""
    by_value: dict[Any, list[RunGroup]] = {}
    for group in groups:
        by_value.setdefault(group.config.get(field), []).append(group)
    multi = [members for members in by_value.values() if len(members) > 1]
    if not multi:
        return [("", list(groups))]
    context = order_fields(
        {name for members in multi for name in varying_fields(members)} - {field}
    )
    references = [m[0] for m in by_value.values() if len(m) == 1]
    facets: dict[tuple, list[RunGroup]] = {}
    for members in multi:
        for group in members:
            key = tuple(repr(group.config.get(name)) for name in context)
            facets.setdefault(key, []).append(group)
    result = []
    for members in facets.values():
        config = members[0].config
        title = " · ".join(format_field(n, config.get(n), True) for n in context)
        result.append((title, members + references))
    return result


def compare_figure(
    groups: Sequence[RunGroup], field: str, ranges: AxisRanges | None = None
) -> Figure:
    """Test accuracy and sparsity per epoch, one colour per value of ``field``."""
    values = sorted({g.config.get(field) for g in groups}, key=sort_value)
    palette = dict(zip(map(repr, values), colors(len(values))))
    facets = compare_facets(groups, field)
    has_sparsity = any(g.band(q.sparsity_pct) for g in groups)
    rows = 2 if has_sparsity else 1
    n_facets = len(facets)  # a row of up to three, else a near-square grid
    columns = n_facets if n_facets <= 3 else min(3, math.ceil(math.sqrt(n_facets)))
    grid_rows = math.ceil(len(facets) / columns)
    fig = new_figure(5.5 * columns + 0.5, (3.4 * rows + 1.4) * grid_rows + 1.2)
    subfigs = np.atleast_1d(fig.subfigures(grid_rows, columns, squeeze=False)).ravel()
    for subfig in subfigs[len(facets) :]:
        subfig.set_visible(False)
    for subfig, (title, members) in zip(subfigs, facets):
        if title:
            width = int(fig.get_figwidth() / columns * 12)
            subfig.suptitle(textwrap.fill(title, width), fontsize="medium")
        axes = subfig.subplots(rows, 1, squeeze=False)[:, 0]
        _draw_facet(axes, members, field, palette, ranges)
    values_text = ", ".join(format_field(field, v) for v in values)
    set_title(
        fig,
        f"Comparison by {field} ({values_text}): mean over seeds, band = min-max",
        groups,
    )
    return fig


def _draw_facet(
    axes: Sequence[Any],
    members: Sequence[RunGroup],
    field: str,
    palette: dict[str, Any],
    ranges: AxisRanges | None = None,
) -> None:
    used: dict[str, int] = {}
    acc_ax = axes[0]
    drawn_acc = drawn_sparsity = False
    kinds = set()
    for group in sorted(members, key=lambda g: sort_value(g.config.get(field))):
        value = group.config.get(field)
        key = repr(value)
        style = LINESTYLES[used.get(key, 0) % len(LINESTYLES)]
        used[key] = used.get(key, 0) + 1
        label = f"{format_field(field, value)} ({seeds_text(group.n)})"
        accuracy = group.band(q.series("testAccuracy"))
        if accuracy is not None:
            draw_band(acc_ax, accuracy, palette[key], label, linestyle=style)
            drawn_acc = True
        sparsity = group.band(q.sparsity_pct) if len(axes) > 1 else None
        if sparsity is not None:
            kind = q.sparsity_kind(group.config)
            kinds.add(kind)
            dashed = "--" if kind == q.FLIPPED else style
            draw_band(axes[1], sparsity, palette[key], label, linestyle=dashed)
            drawn_sparsity = True
    acc_ax.set_ylabel("Test accuracy (%)")
    finish_epoch_axes([acc_ax], ACCURACY, ranges)
    if drawn_acc:
        acc_ax.legend(fontsize="small", title=field, title_fontsize="small")
    else:
        note_missing(acc_ax, "test accuracy not recorded")
    if len(axes) > 1:
        ax = axes[1]
        if len(kinds) == 1:
            ax.set_ylabel(q.SPARSITY_LABELS[kinds.pop()])
        else:
            ax.set_ylabel("Remaining weights, flipped signs (dashed) (%)")
        finish_epoch_axes([ax], SPARSITY, ranges)
        if not drawn_sparsity:
            note_missing(ax, "not recorded")
