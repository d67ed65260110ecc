"""Weight profiles and permutation bookkeeping: the data; :func:`plotting.profiles.plot_profiles`
draws them.

A *profile* is a variable's row view (see :mod:`laperm.layout`: one row per
output unit) with every row sorted ascending. LaPerm never changes a profile
at a sync: it only rearranges values within rows. :func:`permutation_map`
(from :mod:`laperm.layout`) recovers that rearrangement from the initial and
current weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np

from laperm.layout import SUPPORTED_RANKS, permutation_map, to_rows

if TYPE_CHECKING:
    import keras

__all__ = ["changed_positions", "is_row_permutation", "permutation_map", "weight_profiles"]


def _numpy(value) -> np.ndarray:
    """Keras variables, TF tensors and array-likes as a numpy array."""
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _row_view(value) -> np.ndarray:
    return to_rows(_numpy(value))


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
