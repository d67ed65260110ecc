"""Row views and permutation maps: the one definition of "a unit's weights" in this repository.

A row holds all incoming weights of one output unit: Dense kernels (in, out)
give ``out`` rows of length ``in``; Conv2D kernels (kh, kw, cin, cout) give
``cout`` rows of length kh*kw*cin (flattened in kh, kw, cin order); a vector
(bias, BN gamma/beta) is one row. :func:`to_rows` / :func:`from_rows` work on
NumPy arrays and, with ``ops=tf``, on TensorFlow tensors (inside graphs and
XLA). This module imports only NumPy, so the plotter can use it.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

# Axis order that puts the output unit first, per supported rank.
_ROW_AXES = {1: (0,), 2: (1, 0), 4: (3, 0, 1, 2)}
SUPPORTED_RANKS = tuple(_ROW_AXES)


def _axes(rank: int) -> tuple[int, ...]:
    try:
        return _ROW_AXES[rank]
    except KeyError:
        raise ValueError(
            f"row views exist for ranks {SUPPORTED_RANKS}, got a variable of rank {rank}"
        ) from None


def row_shape(shape: Sequence[int]) -> tuple[int, int]:
    """(rows, row length) of a variable of this shape."""
    shape = tuple(int(d) for d in shape)
    units = shape[_axes(len(shape))[0]] if len(shape) > 1 else 1
    return units, int(np.prod(shape)) // units


def to_rows(value: Any, ops: Any = np) -> Any:
    """Variable value -> (rows, row length); ``ops`` is ``numpy`` or ``tensorflow``."""
    shape = tuple(int(d) for d in value.shape)
    return ops.reshape(ops.transpose(value, _axes(len(shape))), row_shape(shape))


def from_rows(rows: Any, shape: Sequence[int], ops: Any = np) -> Any:
    """Inverse of :func:`to_rows` for a variable of ``shape``."""
    shape = tuple(int(d) for d in shape)
    axes = _axes(len(shape))
    transposed = ops.reshape(rows, tuple(shape[a] for a in axes))
    return ops.transpose(transposed, tuple(int(i) for i in np.argsort(axes)))


def _order_key(rows: np.ndarray) -> np.ndarray:
    """Integers that sort like the values, bit pattern by bit pattern (-0.0 before +0.0)."""
    if rows.dtype == np.float64:
        bits = rows.view(np.int64)
        return bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
    bits = rows.astype(np.float32).view(np.int32)
    return bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))


def permutation_map(initial: Any, current: Any) -> np.ndarray:
    """Where each value of ``current`` came from, in the row view.

    Returns an int array ``source`` of the row-view shape with
    ``current_rows[r, c] == initial_rows[r, source[r, c]]`` bit for bit, i.e.
    ``np.take_along_axis(initial_rows, source, axis=-1)`` rebuilds
    ``current_rows``. Equal values are matched in position order (the k-th
    occurrence in a ``current`` row came from the k-th occurrence in the
    ``initial`` row), so ties resolve deterministically.

    Raises:
        ValueError: the shapes differ, the rank has no row view, or some row of
            ``current`` is not a permutation of the same row of ``initial``.
    """
    initial, current = np.asarray(initial), np.asarray(current)
    if initial.shape != current.shape:
        raise ValueError(f"shapes differ: {initial.shape} vs {current.shape}")
    if initial.dtype != current.dtype or initial.dtype.kind != "f":
        raise ValueError(f"permutations are found between float arrays of one dtype "
                         f"(got {initial.dtype} and {current.dtype})")
    initial_rows, current_rows = to_rows(initial), to_rows(current)
    initial_order = np.argsort(_order_key(initial_rows), axis=-1, kind="stable")
    current_order = np.argsort(_order_key(current_rows), axis=-1, kind="stable")
    source = np.empty_like(current_order)
    # The j-th smallest of current sits at current_order[:, j] and came from
    # the j-th smallest of initial, at initial_order[:, j].
    np.put_along_axis(source, current_order, initial_order, axis=-1)
    rebuilt = np.take_along_axis(initial_rows, source, axis=-1)
    mismatched = np.any(_order_key(rebuilt) != _order_key(current_rows), axis=-1)
    if mismatched.any():
        rows = np.flatnonzero(mismatched)
        raise ValueError(
            f"{rows.size} row(s) of current are not permutations of initial (first: row {rows[0]})"
        )
    return source


def apply_permutation_map(initial: Any, source: np.ndarray) -> np.ndarray:
    """Inverse of :func:`permutation_map`: the permuted array."""
    initial = np.asarray(initial)
    rows = np.take_along_axis(to_rows(initial), np.asarray(source, np.int64), axis=-1)
    return from_rows(rows, initial.shape)
