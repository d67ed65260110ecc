"""Row views: the weight vectors LaPerm permutes independently.

A row holds all incoming weights of one output unit: Dense kernels (in, out)
give ``out`` rows of length ``in``; Conv2D kernels (kh, kw, cin, cout) give
``cout`` rows of length kh*kw*cin (flattened in kh, kw, cin order); a vector
(bias, BN gamma/beta) is one row.
"""

from __future__ import annotations

import tensorflow as tf


def row_shape(shape) -> tuple[int, int]:
    """(rows, row length) of a variable of this shape."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 1:
        return 1, shape[0]
    if len(shape) == 2:
        return shape[1], shape[0]
    if len(shape) == 4:
        kh, kw, cin, cout = shape
        return cout, kh * kw * cin
    raise ValueError(f"LaPerm supports variables of rank 1, 2 or 4, got shape {shape}")


def to_rows(value: tf.Tensor) -> tf.Tensor:
    """Variable value -> (rows, row length)."""
    rank = value.shape.rank
    if rank == 1:
        return tf.reshape(value, (1, -1))
    if rank == 2:
        return tf.transpose(value)
    if rank == 4:
        cout = value.shape[-1]
        return tf.reshape(tf.transpose(value, (3, 0, 1, 2)), (cout, -1))
    raise ValueError(f"LaPerm supports variables of rank 1, 2 or 4, got rank {rank}")


def from_rows(rows: tf.Tensor, shape) -> tf.Tensor:
    """Inverse of :func:`to_rows` for a variable of ``shape``."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 1:
        return tf.reshape(rows, shape)
    if len(shape) == 2:
        return tf.transpose(rows)
    kh, kw, cin, cout = shape
    return tf.transpose(tf.reshape(rows, (cout, kh, kw, cin)), (1, 2, 3, 0))


def sorted_rows(value: tf.Tensor) -> tf.Tensor:
    """Each row sorted ascending (the multiset a row may hold)."""
    return tf.sort(to_rows(value), axis=-1)


def reconnect(
    current: tf.Tensor, sorted_initial: tf.Tensor, tie_seed: tf.Tensor | None = None
) -> tf.Tensor:
    """Put the j-th smallest initial value where the current row has its j-th smallest.

    Returns a tensor of ``current``'s shape whose every row is a permutation of
    the matching row of ``sorted_initial``. Equal current values (common with
    weight-agnostic or pruned initial weights, whose rows are mostly ties) are
    ordered by position when ``tie_seed`` is None, otherwise in a random order
    drawn from ``tie_seed`` (a stateless seed pair): the original's unstable
    sort, made reproducible. Ordering ties by position would systematically
    hand the larger values to the last positions of every row.
    """
    rows = to_rows(current)
    if tie_seed is None:
        order = tf.argsort(rows, axis=-1, stable=True)  # order[r, j]: position of j-th smallest
    else:
        # A random order among equal values: sort a random permutation of each row
        # (stateless uniforms, so XLA can compile it), then map back.
        shuffle = tf.argsort(tf.random.stateless_uniform(tf.shape(rows), seed=tie_seed), axis=-1)
        shuffled = tf.gather(rows, shuffle, batch_dims=1)
        order = tf.gather(shuffle, tf.argsort(shuffled, axis=-1, stable=True), batch_dims=1)
    n_rows = tf.shape(rows)[0]
    row_index = tf.broadcast_to(tf.range(n_rows)[:, None], tf.shape(order))
    indices = tf.stack([row_index, order], axis=-1)
    permuted = tf.tensor_scatter_nd_update(tf.zeros_like(rows), indices, sorted_initial)
    return from_rows(permuted, current.shape)
