"""Weight profiles and permutation bookkeeping (data for plots; matplotlib loads lazily).

A *profile* is a variable's row view (see :mod:`laperm.rows`: one row per
output unit) with every row sorted ascending. LaPerm never changes a profile
at a sync: it only rearranges values within rows. :func:`permutation_map`
recovers that rearrangement from the initial and current weights.
"""

from __future__ import annotations

import math
import textwrap
from typing import Mapping

import keras
import numpy as np
import tensorflow as tf

from laperm.rows import to_rows

SUPPORTED_RANKS = (1, 2, 4)  # the ranks laperm.rows has a row view for


def _numpy(value) -> np.ndarray:
    """Keras variables, TF tensors and array-likes as a numpy array."""
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _row_view(value) -> np.ndarray:
    array = _numpy(value)
    if array.ndim not in SUPPORTED_RANKS:
        raise ValueError(f"row views exist for ranks {SUPPORTED_RANKS}, got shape {array.shape}")
    return _numpy(to_rows(tf.convert_to_tensor(array)))


def weight_profiles(
    model_or_weights: keras.Model | Mapping[str, np.ndarray], skip_1d: bool = True
) -> dict[str, np.ndarray]:
    """``{name: (units, row_length) array}``: each unit's incoming weights sorted ascending.

    ``model_or_weights`` is a model (its trainable variables, keyed by
    ``variable.path``) or a mapping of name -> array. Kernels of rank 2 and 4
    are profiled; rank-1 variables (biases, BN gamma/beta, one row each) only
    when ``skip_1d`` is False; other ranks are left out.
    """
    if isinstance(model_or_weights, Mapping):
        items = list(model_or_weights.items())
    else:
        items = [(v.path, v) for v in model_or_weights.trainable_variables]
    profiles: dict[str, np.ndarray] = {}
    for name, value in items:
        array = _numpy(value)
        if array.ndim not in SUPPORTED_RANKS or (skip_1d and array.ndim == 1):
            continue
        profiles[name] = np.sort(_row_view(array), axis=-1)
    return profiles


def changed_positions(before: np.ndarray, after: np.ndarray) -> int:
    """Number of entries whose value differs between two same-shaped arrays."""
    before, after = _numpy(before), _numpy(after)
    if before.shape != after.shape:
        raise ValueError(f"shapes differ: {before.shape} vs {after.shape}")
    return int(np.count_nonzero(before != after))


def _row_views_of_same_shape(initial, current) -> tuple[np.ndarray, np.ndarray]:
    initial, current = _numpy(initial), _numpy(current)
    if initial.shape != current.shape:
        raise ValueError(f"shapes differ: {initial.shape} vs {current.shape}")
    return _row_view(initial), _row_view(current)


def is_row_permutation(initial, current) -> bool:
    """True when every row of ``current`` holds exactly the values of the same row of ``initial``."""
    try:
        initial_rows, current_rows = _row_views_of_same_shape(initial, current)
    except ValueError:
        return False
    return bool(np.array_equal(np.sort(initial_rows, axis=-1), np.sort(current_rows, axis=-1)))


def permutation_map(initial: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Where each value of ``current`` came from, in the row view of :mod:`laperm.rows`.

    Returns an int array ``source`` of the row-view shape with
    ``current_rows[r, c] == initial_rows[r, source[r, c]]``, i.e.
    ``np.take_along_axis(initial_rows, source, axis=-1)`` rebuilds
    ``current_rows``. Equal values are matched in position order (the k-th
    occurrence in a ``current`` row came from the k-th occurrence in the
    ``initial`` row), so ties resolve deterministically.

    Raises:
        ValueError: the shapes differ, the rank has no row view, or some row of
            ``current`` is not a permutation of the same row of ``initial``.
    """
    initial_rows, current_rows = _row_views_of_same_shape(initial, current)
    initial_order = np.argsort(initial_rows, axis=-1, kind="stable")
    current_order = np.argsort(current_rows, axis=-1, kind="stable")
    initial_sorted = np.take_along_axis(initial_rows, initial_order, axis=-1)
    current_sorted = np.take_along_axis(current_rows, current_order, axis=-1)
    mismatched = ~np.all(initial_sorted == current_sorted, axis=-1)
    if mismatched.any():
        rows = np.flatnonzero(mismatched)
        raise ValueError(
            f"{rows.size} row(s) of current are not permutations of initial (first: row {rows[0]})"
        )
    source = np.empty_like(current_order)
    # The j-th smallest of current sits at current_order[:, j] and came from
    # the j-th smallest of initial, at initial_order[:, j].
    np.put_along_axis(source, current_order, initial_order, axis=-1)
    return source


def plot_profiles(
    profiles: Mapping[str, np.ndarray], path: str | None = None, ncols: int | None = None
):
    """One subplot per profile, every unit's sorted weights drawn as a thin line.

    The grid has ``ncols`` columns (default ``ceil(sqrt(n))``). Returns the
    ``matplotlib.figure.Figure`` (Agg canvas, no pyplot state); saves a PNG
    to ``path`` when given.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not profiles:
        raise ValueError("no profiles to plot")
    count = len(profiles)
    ncols = ncols or math.ceil(math.sqrt(count))
    nrows = math.ceil(count / ncols)
    figure = Figure(figsize=(ncols * 4.5, nrows * 3))
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (name, profile) in zip(axes, profiles.items()):
        profile = np.atleast_2d(_numpy(profile))
        ax.plot(profile.T, linewidth=0.5)
        ax.set_title("\n".join(textwrap.wrap(f"{name} {profile.shape}", 30)), fontsize=9)
        ax.set_xlabel("rank within unit")
        ax.set_ylabel("weight")
    for ax in axes[count:]:
        ax.set_axis_off()
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, format="png")
    return figure
