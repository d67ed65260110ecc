"""Weight-profile figure for LaPerm runs: each unit's sorted incoming weights.

A LaPerm sync only rearranges values inside each output unit's weight vector,
so a unit's *profile* (its weights sorted ascending) is the same before and
after training: the figure draws the initial profiles in grey and the final
ones in the group's colour on top, and says in each panel title whether every
final unit is a permutation of its initial one. Data: ``initial_weights.npz``
and ``final_weights.npz`` of the run directory (read with
``allow_pickle=False``), one row of panels per LaPerm configuration (its
lowest-seed run whose files load), one panel per kernel.
"""

from __future__ import annotations

import textwrap
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from laperm.layout import to_rows
from masktrainer.errors import RunStateError
from masktrainer.run.safe_io import check_regular
from plotting.groups import RunGroup
from plotting.runs import Run, warn
from plotting.style import new_figure, set_title

INITIAL_FILE = "initial_weights.npz"
FINAL_FILE = "final_weights.npz"
#: Units drawn per panel (evenly spaced): more lines only blur the picture.
MAX_UNITS = 48
MAX_PANELS = 8


def _load(path: Path) -> dict[str, np.ndarray] | None:
    try:
        check_regular(path)  # np.load would block on a FIFO
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, RunStateError) as error:
        warn(f"{path}: cannot read ({error}); no weight profile for this run")
        return None


def _candidate_runs(group: RunGroup) -> list[Run]:
    """The group's runs with both weight files, lowest seed first (LaPerm groups only)."""
    if group.config.get("traintype") != "LaPerm":
        return []
    runs = sorted(group.runs, key=lambda run: (_seed_order(run), str(run.path)))
    return [run for run in runs
            if (run.path / INITIAL_FILE).is_file() and (run.path / FINAL_FILE).is_file()]


def _seed(run: Run):
    seed = run.config.get("seed")
    return run.config.get("resolved_seed") if seed is None else seed


def _seed_order(run: Run) -> tuple[int, float | str]:
    seed = _seed(run)
    if isinstance(seed, (int, float)) and not isinstance(seed, bool):
        return 0, seed
    return 1, str(seed)


def _kernels(initial: dict, final: dict) -> list[str]:
    names = [n for n in initial if n in final and initial[n].ndim in (2, 4)]
    return [n for n in names if initial[n].shape == final[n].shape][:MAX_PANELS]


def weight_profile_figure(groups: Sequence[RunGroup]) -> Figure | None:
    """Initial (grey) and final (colour) sorted weight profiles of LaPerm runs."""
    rows = []
    for group in groups:
        for run in _candidate_runs(group):  # the first run whose files load
            initial, final = _load(run.path / INITIAL_FILE), _load(run.path / FINAL_FILE)
            if initial is not None and final is not None and _kernels(initial, final):
                rows.append((group, run, initial, final))
                break
    if not rows:
        return None
    columns = max(len(_kernels(initial, final)) for _, _, initial, final in rows)
    fig = new_figure(3.4 * columns + 1, 2.9 * len(rows) + 1.4)
    axes = fig.subplots(len(rows), columns, squeeze=False)
    for axes_row, (group, run, initial, final) in zip(axes, rows):
        names = _kernels(initial, final)
        for ax, name in zip(axes_row, names):
            _draw_panel(ax, name, to_rows(initial[name]), to_rows(final[name]), group.color)
        for ax in axes_row[len(names):]:
            ax.set_axis_off()
        label = textwrap.fill(f"{group.name} (seed {_seed(run)})", 32)
        axes_row[0].set_ylabel(f"{label}\nweight", fontsize="small")
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
    verdict = "every unit a permutation of its initial weights" if same else "profiles changed"
    title = f"{name} ({initial.shape[0]} units x {initial.shape[1]})"
    ax.set_title(f"{textwrap.fill(title, 34)}\n{textwrap.fill(verdict, 34)}; "
                 f"{moved:.1f}% moved", fontsize="small")
    ax.set_xlabel("rank within unit (fraction)", fontsize="small")
