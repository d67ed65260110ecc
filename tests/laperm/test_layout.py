"""The one row-view definition (laperm.layout): NumPy and TensorFlow agree, and permutation maps."""

import numpy as np
import pytest
import tensorflow as tf

from laperm import layout
from laperm.rows import from_rows, to_rows


def test_numpy_and_tensorflow_row_views_agree_and_round_trip():
    rng = np.random.RandomState(1)
    for shape in [(7,), (5, 3), (3, 2, 4, 6)]:
        value = rng.randn(*shape).astype(np.float32)
        rows = layout.to_rows(value)
        np.testing.assert_array_equal(rows, to_rows(tf.constant(value)).numpy())
        assert rows.shape == layout.row_shape(shape)
        np.testing.assert_array_equal(layout.from_rows(rows, shape), value)
        np.testing.assert_array_equal(from_rows(tf.constant(rows), shape).numpy(), value)
    with pytest.raises(ValueError, match="row view"):
        layout.to_rows(np.zeros((2, 2, 2)))


def test_a_row_is_one_output_unit():
    dense = np.arange(6.0).reshape(3, 2)  # (in, out): unit j's weights are column j
    np.testing.assert_array_equal(layout.to_rows(dense), [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]])
    conv = np.arange(2 * 2 * 3 * 4, dtype=np.float64).reshape(2, 2, 3, 4)
    np.testing.assert_array_equal(layout.to_rows(conv)[1], conv[..., 1].ravel())


def test_permutation_map_is_bitwise_and_applies_back():
    initial = np.array([[0.0, -0.0, 1.0], [2.0, 2.0, 3.0]], np.float32).T  # 2 units of 3
    current = initial[[2, 0, 1]].copy()
    source = layout.permutation_map(initial, current)
    np.testing.assert_array_equal(layout.apply_permutation_map(initial, source), current)
    assert layout.apply_permutation_map(initial, source).view(np.int32).tolist() == \
        current.view(np.int32).tolist()
    # -0.0 == 0.0 as values, but a reconnection moves values bit for bit: not a permutation
    with pytest.raises(ValueError, match="not permutations"):
        layout.permutation_map(np.array([[0.0], [0.5]], np.float32),
                               np.array([[-0.0], [0.5]], np.float32))
