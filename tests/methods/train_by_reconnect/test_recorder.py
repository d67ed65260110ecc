"""What LaPerm runs record (masktrainer.methods.train_by_reconnect.recorder): sync statistics,
evaluation on the reconnected weights (restored afterwards) and the saved arrays."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from laperm import LaPerm
from masktrainer import layout
from masktrainer.methods.train_by_reconnect.recorder import LaPermRecorder


def _model() -> keras.Model:
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(5, activation="relu", name="d1")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="d2")(hidden))


def _fit(model: keras.Model, steps: int) -> None:
    rng = np.random.RandomState(0)
    x = rng.randn(8 * steps, 6).astype("float32")
    y = np.eye(3, dtype="float32")[np.arange(8 * steps) % 3]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)


@pytest.fixture()
def model() -> keras.Model:
    keras.utils.set_random_seed(1)
    model = _model()
    model.compile(optimizer=LaPerm(keras.optimizers.Adam(0.05), sync_period=3),
                  loss="categorical_crossentropy")
    return model


def test_before_training_the_initial_weights_are_recorded(model):
    recorder = LaPermRecorder(model)
    assert recorder.layer_names == ["d1.kernel", "d2.kernel"]
    assert recorder.layer_sizes == [30, 15]
    values = recorder.measure(model)
    assert values == {"syncCount": 0, "syncChangedPositions": 0, "permutationIntact": 1,
                      "changedFromInitial": 0.0}
    assert recorder.describe(values) == (" | syncs 0, last moved 0 | moved from init 0.00%, "
                                         "permutation yes")
    (initial,) = recorder.initial_arrays(model).values()
    assert sorted(initial) == ["d1.bias", "d1.kernel", "d2.bias", "d2.kernel"]
    np.testing.assert_array_equal(initial["d1.kernel"], model.get_layer("d1").kernel.numpy())
    recorder.prepare_evaluation(model)  # nothing to reconnect before the optimizer starts
    recorder.finish_evaluation(model)


def test_after_syncs_the_kernels_are_permutations_of_the_initial_ones(model):
    recorder = LaPermRecorder(model)
    initial = {name: array.copy() for name, array in
               recorder.initial_arrays(model)[layout.INITIAL_WEIGHTS_FILE].items()}
    _fit(model, 6)  # two syncs
    values = recorder.measure(model)
    assert values["syncCount"] == 2 and values["permutationIntact"] == 1
    assert 0.0 < values["changedFromInitial"] <= 1.0
    kernel = model.get_layer("d1").kernel.numpy()
    np.testing.assert_array_equal(np.sort(kernel, axis=0), np.sort(initial["d1.kernel"], axis=0))
    assert recorder.summary({"syncCount": [0, 2], "changedFromInitial": [0.0, 0.25]}) == (
        ", 2 syncs, 25.00% of positions moved")


def test_evaluation_sees_reconnected_weights_and_training_resumes_from_its_own(model):
    recorder = LaPermRecorder(model)
    initial = recorder.initial_arrays(model)[layout.INITIAL_WEIGHTS_FILE]["d1.kernel"].copy()
    _fit(model, 4)  # one sync, then a free step: not a permutation any more
    layer = model.get_layer("d1")
    free = layer.kernel.numpy().copy()
    assert not np.array_equal(np.sort(free, axis=0), np.sort(initial, axis=0))
    recorder.prepare_evaluation(model)
    np.testing.assert_array_equal(np.sort(layer.kernel.numpy(), axis=0), np.sort(initial, axis=0))
    recorder.finish_evaluation(model)
    np.testing.assert_array_equal(layer.kernel.numpy(), free)
    recorder.finalize(model)  # keeps the reconnected weights for the saved model
    np.testing.assert_array_equal(np.sort(layer.kernel.numpy(), axis=0), np.sort(initial, axis=0))
    final = recorder.final_arrays(model)[layout.FINAL_WEIGHTS_FILE]
    np.testing.assert_array_equal(final["d1.kernel"], layer.kernel.numpy())
