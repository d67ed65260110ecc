"""laperm.rows: the row view of a weight (rows are output units)."""

import numpy as np
import pytest
import tensorflow as tf

from laperm.rows import from_rows, to_rows


@pytest.mark.parametrize("shape", [(7,), (5, 3), (3, 2, 4, 6)])
def test_row_view_round_trip_and_rows_are_output_units(shape):
    value = tf.random.stateless_normal(shape, seed=(1, 2))
    rows = to_rows(value)
    np.testing.assert_array_equal(from_rows(rows, shape).numpy(), value.numpy())
    if len(shape) == 2:  # dense: a row is one output column
        np.testing.assert_array_equal(rows.numpy()[1], value.numpy()[:, 1])
    if len(shape) == 4:  # conv: a row is one filter over (kh, kw, cin)
        np.testing.assert_array_equal(rows.numpy()[5], value.numpy()[..., 5].ravel())
