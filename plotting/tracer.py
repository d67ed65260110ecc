"""The LaPerm permutation tracer: where the initial weights of a few units went.

Like the original ``viz_utils.PermutationTracer(A, B)``: the initial weights ``A`` and the
final ones ``B`` of a patch of a kernel's row view (a few units, a window of each unit's
positions) are drawn side by side, and an arrow joins each initial value to the position
that holds it at the end (only values that moved, and whose new position is inside the
window; each panel title counts the rest). LaPerm only moves values within a unit, so every
arrow stays in its row. Data: the lowest-seed run of each LaPerm configuration whose initial
and final weights load; the kernel with the shortest rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch

from laperm.layout import permutation_map, to_rows
from plotting.groups import RunGroup
from plotting.profiles import (
    FINAL_FILE,
    INITIAL_FILE,
    kernel_names,
    load_weights,
    profile_runs,
)
from plotting.style import new_figure, set_title

MAX_UNITS = 6
MAX_POSITIONS = 12
COLOURS = ("darkturquoise", "darkorange")  # the original's two arrow colours


def _patch(initial: dict, final: dict) -> tuple[str, np.ndarray, np.ndarray, np.ndarray] | None:
    """(kernel, initial patch, final patch, destination of every initial patch position)."""
    names = kernel_names(initial, final)
    if not names:
        return None
    name = min(names, key=lambda n: to_rows(initial[n]).shape[1])
    rows_initial, rows_final = to_rows(initial[name]), to_rows(final[name])
    try:
        source = permutation_map(initial[name], final[name])
    except ValueError:  # not a permutation (e.g. a run stopped between two syncs)
        return None
    units, width = min(MAX_UNITS, len(rows_initial)), min(MAX_POSITIONS, rows_initial.shape[1])
    destination = np.argsort(source, axis=-1)  # initial position -> final position
    return (name, rows_initial[:units, :width], rows_final[:units, :width],
            destination[:units, :width])


def permutation_tracer_figure(groups: Sequence[RunGroup]) -> Figure | None:
    """Initial and final weights of a patch of units, an arrow for every value that moved."""
    rows = []
    for group in groups:
        for run in profile_runs(group):
            initial, final = load_weights(run.path / INITIAL_FILE), load_weights(run.path / FINAL_FILE)
            patch = None if initial is None or final is None else _patch(initial, final)
            if patch is not None:
                rows.append((group, run, *patch))
                break
    if not rows:
        return None
    fig = new_figure(9.0, 2.9 * len(rows) + 1.2)
    subfigs = fig.subfigures(len(rows), 1, squeeze=False)[:, 0]
    rng = np.random.RandomState(0)
    for subfig, (group, run, name, before, after, destination) in zip(subfigs, rows):
        left, right = subfig.subplots(1, 2)
        low, high = min(before.min(), after.min()), max(before.max(), after.max())
        for ax, values, label in ((left, before, "initial"), (right, after, "final")):
            ax.matshow(values, cmap="viridis", vmin=low, vmax=high)
            ax.set_xticks([])
            ax.set_yticks(range(len(values)), [f"unit {u}" for u in range(len(values))],
                          fontsize="x-small")
            ax.set_title(label, fontsize="small")
        moved = inside = 0
        for unit, targets in enumerate(destination):
            for position, target in enumerate(targets):
                if target == position:
                    continue
                moved += 1
                if target >= before.shape[1]:
                    continue
                inside += 1
                subfig.add_artist(ConnectionPatch(
                    xyA=(position, unit), coordsA=left.transData, xyB=(target, unit),
                    coordsB=right.transData, arrowstyle="->", linewidth=0.8, alpha=0.8,
                    color=COLOURS[rng.randint(2)],
                    connectionstyle=f"arc3,rad={rng.uniform(-0.2, 0.2):.2f}"))
        total = before.size
        subfig.suptitle(f"{group.name} ({run.seed_text}): {name}, {before.shape[0]} units x "
                        f"{before.shape[1]} positions; {moved} of {total} moved, {inside} within "
                        "the window (arrows)", fontsize="small")
    set_title(fig, "LaPerm permutation tracer: where each unit's initial weights went",
              [group for group, *_ in rows])
    return fig
