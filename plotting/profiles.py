"""Weight-profile figure for LaPerm runs: each unit's sorted incoming weights.

A LaPerm sync only rearranges values inside each output unit's weight vector,
so a unit's *profile* (its weights sorted ascending) is the same before and
after training: the figure draws the initial profiles in grey and the final
ones in the group's colour on top, and says in each panel whether every
final unit is a permutation of its initial one. Data: the initial and final
weights a run saves (:mod:`masktrainer.layout`; read with
``allow_pickle=False``), one block of panels per LaPerm configuration (its
lowest-seed run whose files load), one panel per kernel.
"""

from __future__ import annotations

import math
import textwrap
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from laperm.layout import to_rows
from masktrainer import safe_io
from masktrainer.errors import RunStateError
from masktrainer.layout import FINAL_WEIGHTS_FILE, INITIAL_WEIGHTS_FILE
from masktrainer.methods import figures_of
from masktrainer.safe_io import check_regular
from plotting.groups import RunGroup
from plotting.runs import Run, warn
from plotting.style import new_figure, set_title

INITIAL_FILE, FINAL_FILE = INITIAL_WEIGHTS_FILE, FINAL_WEIGHTS_FILE
#: Units drawn per panel (evenly spaced): more lines only blur the picture.
MAX_UNITS = 48
MAX_PANELS = 8
MAX_COLUMNS = 4
#: Inches of one panel, of a configuration's title, and the least figure width.
PANEL_SIZE = (3.0, 2.6)
BLOCK_TITLE_HEIGHT = 0.4
MIN_WIDTH = 7.0
PERMUTED = "every unit a permutation\nof its initial weights"
CHANGED = "profiles changed"


def load_weights(path: Path) -> dict[str, np.ndarray] | None:
    try:
        check_regular(path)  # np.load would block on a FIFO
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, RunStateError) as error:
        warn(f"{path}: cannot read ({error}); no weight profile for this run")
        return None


def profile_runs(group: RunGroup) -> list[Run]:
    """The group's runs with both weight files, lowest seed first (only groups of a method
    whose weight profiles mean something: LaPerm's)."""
    if not figures_of(group.config).weight_profiles:
        return []
    return [run for run in group.runs
            if (run.path / INITIAL_FILE).is_file() and (run.path / FINAL_FILE).is_file()]


def kernel_names(initial: dict, final: dict) -> list[str]:
    names = [n for n in initial if n in final and initial[n].ndim in (2, 4)]
    return [n for n in names if initial[n].shape == final[n].shape][:MAX_PANELS]


def weight_profile_figure(groups: Sequence[RunGroup]) -> Figure | None:
    """Initial (grey) and final (colour) sorted weight profiles of LaPerm runs.

    One block of panels per configuration, titled with its name and the seed
    drawn; at most :data:`MAX_COLUMNS` kernels to a row.
    """
    rows = []
    for group in groups:
        for run in profile_runs(group):  # the first run whose files load
            initial, final = load_weights(run.path / INITIAL_FILE), load_weights(run.path / FINAL_FILE)
            names = kernel_names(initial, final) if initial is not None and final is not None else []
            if names:
                rows.append((group, run, initial, final, names))
                break
    if not rows:
        return None
    columns = min(MAX_COLUMNS, max(len(names) for *_, names in rows))
    panel_rows = [math.ceil(len(names) / columns) for *_, names in rows]
    width, height = PANEL_SIZE
    heights = [height * n + BLOCK_TITLE_HEIGHT for n in panel_rows]
    fig = new_figure(max(MIN_WIDTH, width * columns + 0.6), sum(heights) + 1.0)
    subfigs = fig.subfigures(len(rows), 1, squeeze=False, height_ratios=heights)[:, 0]
    for subfig, n_rows, (group, run, initial, final, names) in zip(subfigs, panel_rows, rows):
        subfig.suptitle(f"{group.name} ({run.seed_text})", fontsize="medium")
        axes = subfig.subplots(n_rows, columns, squeeze=False)
        for ax, name in zip(axes.ravel(), names):
            _draw_panel(ax, name, to_rows(initial[name]), to_rows(final[name]), group.color)
        for ax in axes.ravel()[len(names):]:
            ax.set_axis_off()
        for ax in axes[:, 0]:
            ax.set_ylabel("weight")
    set_title(fig, "LaPerm weight profiles: each unit's weights sorted ascending "
                   "(grey: initial, colour: final)", [group for group, *_ in rows])
    return fig


def _draw_panel(ax, name: str, initial: np.ndarray, final: np.ndarray, color) -> None:
    initial_sorted, final_sorted = np.sort(initial, axis=-1), np.sort(final, axis=-1)
    units = np.unique(np.linspace(0, len(initial) - 1, MAX_UNITS).round().astype(int))
    position = np.linspace(0.0, 1.0, initial.shape[1])
    ax.plot(position, initial_sorted[units].T, color="0.65", linewidth=2.0)
    ax.plot(position, final_sorted[units].T, color=color or "C0", linewidth=0.7)
    same = bool(np.array_equal(initial_sorted, final_sorted))
    moved = float(np.mean(initial != final)) * 100
    ax.set_title(f"{textwrap.fill(name, 30)}\n{initial.shape[0]} units × {initial.shape[1]},"
                 f" {moved:.1f} % moved", fontsize="small")
    # Sorted profiles rise from lower left to upper right: the upper left is free.
    verdict = PERMUTED if same else CHANGED
    ax.text(0.03, 0.97, verdict, transform=ax.transAxes, ha="left", va="top",
            fontsize="small", color="0.25" if same else "tab:red")
    ax.set_xlabel("rank within unit (fraction)")


def plot_profiles(
    profiles: Mapping[str, np.ndarray], path: str | None = None, ncols: int | None = None
):
    """One subplot per profile (:func:`laperm.profiles.weight_profiles`), every unit's sorted
    weights drawn as a thin line.

    The grid has ``ncols`` columns (default ``ceil(sqrt(n))``). Returns the
    ``matplotlib.figure.Figure`` (Agg canvas, no pyplot state); saves a PNG
    to ``path`` when given.
    """
    if not profiles:
        raise ValueError("no profiles to plot")
    count = len(profiles)
    ncols = ncols or math.ceil(math.sqrt(count))
    nrows = math.ceil(count / ncols)
    figure = Figure(figsize=(ncols * 4.5, nrows * 3))
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (name, profile) in zip(axes, profiles.items()):
        profile = np.atleast_2d(np.asarray(profile))
        ax.plot(profile.T, linewidth=0.5)
        ax.set_title("\n".join(textwrap.wrap(f"{name} {profile.shape}", 30)), fontsize=9)
        ax.set_xlabel("rank within unit")
        ax.set_ylabel("weight")
    for ax in axes[count:]:
        ax.set_axis_off()
    figure.tight_layout()
    if path is not None:  # never through a link, never half-written
        safe_io.atomic_write(path, lambda handle: figure.savefig(handle, format="png"))
    return figure
