"""laperm.profiles: weight profiles, permutation maps and changed positions."""

import numpy as np
import pytest
import tensorflow as tf

from laperm.models import build_laperm_model
from laperm.profiles import changed_positions, is_row_permutation, permutation_map, weight_profiles
from laperm.rows import from_rows, to_rows


def test_weight_profiles_shapes_and_sortedness():
    model = build_laperm_model("Conv7", (28, 28, 1), seed=0)
    profiles = weight_profiles(model)
    assert len(profiles) == 8
    first = model.trainable_variables[0]
    assert profiles[first.path].shape == (32, 9)
    assert profiles[model.trainable_variables[-2].path].shape == (10, 128)
    assert all(np.all(np.diff(p, axis=-1) >= 0) for p in profiles.values())
    with_biases = weight_profiles(model, skip_1d=False)
    assert len(with_biases) == 16
    assert with_biases[model.trainable_variables[1].path].shape == (1, 32)
    from_dict = weight_profiles({"k": np.array([[3.0, 1.0], [2.0, 0.0]])})
    np.testing.assert_array_equal(from_dict["k"], [[2.0, 3.0], [0.0, 1.0]])


def _permute_rows(value: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.RandomState(seed)
    rows = to_rows(tf.constant(value)).numpy()
    shuffled = np.stack([rng.permutation(row) for row in rows])
    return from_rows(tf.constant(shuffled), value.shape).numpy()


@pytest.mark.parametrize(
    "initial",
    [
        np.random.RandomState(0).normal(size=(3, 3, 4, 5)),
        np.random.RandomState(1).randint(0, 3, size=(20, 6)).astype("float64"),  # ties
    ],
)
def test_permutation_map_reconstructs_current(initial):
    current = _permute_rows(initial, seed=2)
    source = permutation_map(initial, current)
    initial_rows = to_rows(tf.constant(initial)).numpy()
    current_rows = to_rows(tf.constant(current)).numpy()
    assert source.shape == current_rows.shape and source.dtype.kind == "i"
    np.testing.assert_array_equal(np.take_along_axis(initial_rows, source, -1), current_rows)
    assert all(sorted(row) == list(range(row.size)) for row in source)
    assert is_row_permutation(initial, current)
    np.testing.assert_array_equal(permutation_map(initial, initial)[0], np.arange(len(source[0])))


def test_permutation_map_rejects_non_permutations():
    initial = np.arange(12.0).reshape(3, 4)
    moved_across_rows = initial[:, ::-1].copy()  # dense layout: a row is a column
    assert not is_row_permutation(initial, moved_across_rows)
    with pytest.raises(ValueError, match="not permutations"):
        permutation_map(initial, moved_across_rows)
    with pytest.raises(ValueError):
        permutation_map(initial, initial.T)
    assert not is_row_permutation(initial, initial.T)


def test_changed_positions():
    before = np.arange(10.0)
    after = before.copy()
    after[[1, 4, 7]] = -1.0
    assert changed_positions(before, after) == 3
    assert changed_positions(before, before) == 0
    with pytest.raises(ValueError):
        changed_positions(before, before[:5])


