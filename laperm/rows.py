"""Reconnecting rows in TensorFlow: each output unit's weights, permuted independently.

The row view itself (what a unit's weights are) is defined once, in
:mod:`laperm.layout`; this module applies it to tensors and implements the
rank-order reconnection LaPerm performs at every sync.
"""

from __future__ import annotations

import tensorflow as tf

from laperm import layout


def to_rows(value: tf.Tensor) -> tf.Tensor:
    """Variable value -> (rows, row length) (see :mod:`laperm.layout`)."""
    return layout.to_rows(value, ops=tf)


def from_rows(rows: tf.Tensor, shape) -> tf.Tensor:
    """Inverse of :func:`to_rows` for a variable of ``shape``."""
    return layout.from_rows(rows, shape, ops=tf)


def sorted_rows(value: tf.Tensor) -> tf.Tensor:
    """Each row sorted ascending (the multiset a row may hold)."""
    return tf.sort(to_rows(value), axis=-1)


def _order_preserving_int(values: tf.Tensor) -> tf.Tensor:
    """int32 keys that sort like float32 ``values``, computed from the bits alone.

    A negative float's key is minus its magnitude bits, so -0.0 and 0.0 share key
    0 and denormals keep their order (no float compare, so no flush-to-zero).
    """
    bits = tf.bitcast(values, tf.int32)
    magnitude = tf.bitwise.bitwise_and(bits, tf.constant(0x7FFFFFFF))
    return tf.where(bits < 0, -magnitude, bits)


def _keys_with_random_ties(rows: tf.Tensor, tie_seed: tf.Tensor) -> tf.Tensor:
    """int64 keys: the value's order in the high 32 bits, a random tie order in the low 32.

    One sort of these keys orders by value and shuffles equal values, at the cost
    of a single sort (a shuffle-then-stable-sort needs two).
    """
    high = tf.cast(_order_preserving_int(rows), tf.int64) * (1 << 32)
    low = tf.random.stateless_uniform(
        tf.shape(rows), seed=tie_seed, minval=0, maxval=1 << 32, dtype=tf.int64
    )
    return high + low


def reconnect(
    current: tf.Tensor, sorted_initial: tf.Tensor, tie_seed: tf.Tensor | None = None
) -> tf.Tensor:
    """Put the j-th smallest initial value where the current row has its j-th smallest.

    Returns a tensor of ``current``'s shape whose every row is a permutation of
    the matching row of ``sorted_initial``. Equal current values (common with
    weight-agnostic or pruned initial weights, whose rows are mostly ties) are
    ordered by position when ``tie_seed`` is None, otherwise in a random order
    drawn from ``tie_seed`` (a stateless seed pair; XLA-compilable): the
    original's unstable sort, made reproducible. Ordering ties by position would
    systematically hand the larger values to the last positions of every row.
    """
    rows = to_rows(current)
    if tie_seed is None:
        order = tf.argsort(rows, axis=-1, stable=True)  # order[r, j]: position of j-th smallest
    elif rows.dtype == tf.float64:  # no 32-bit key: shuffle, then a stable sort (two sorts)
        shuffle = tf.argsort(tf.random.stateless_uniform(tf.shape(rows), seed=tie_seed), axis=-1)
        shuffled = tf.gather(rows, shuffle, batch_dims=1)
        order = tf.gather(shuffle, tf.argsort(shuffled, axis=-1, stable=True), batch_dims=1)
    else:  # float32, or float16/bfloat16 widened exactly
        order = tf.argsort(_keys_with_random_ties(tf.cast(rows, tf.float32), tie_seed), axis=-1)
    n_rows = tf.shape(rows)[0]
    row_index = tf.broadcast_to(tf.range(n_rows)[:, None], tf.shape(order))
    indices = tf.stack([row_index, order], axis=-1)
    permuted = tf.tensor_scatter_nd_update(tf.zeros_like(rows), indices, sorted_initial)
    return from_rows(permuted, current.shape)
