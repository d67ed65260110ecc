"""laperm.augment: the notebooks' augmentation, identity at inference."""

import keras
import numpy as np
import pytest

from laperm.augment import augmentation
from laperm.models import build_laperm_model, default_input_shape


def test_no_augmentation_for_dense_models():
    assert augmentation("F1") is None and augmentation("F2") is None
    with pytest.raises(ValueError):
        augmentation("nope")


@pytest.mark.parametrize("name", ["Conv7", "Conv4", "ResNet50"])
def test_augmentation_is_identity_at_inference_only(name):
    shape = default_input_shape(name)
    x = np.random.RandomState(0).uniform(size=(4, *shape)).astype("float32")
    augment = augmentation(name, seed=5)
    np.testing.assert_array_equal(augment(x, training=False), x)
    trained = augment(x, training=True).numpy()
    assert trained.shape == x.shape and not np.allclose(trained, x)
    repeated = augmentation(name, seed=5)(x, training=True).numpy()
    np.testing.assert_allclose(repeated, trained)


def test_augmentation_in_front_of_a_model():
    model = build_laperm_model("Conv7", (28, 28, 1), seed=0)
    wrapped = keras.Sequential([keras.Input((28, 28, 1)), augmentation("Conv7", seed=0), model])
    x = np.random.RandomState(1).uniform(size=(8, 28, 28, 1)).astype("float32")
    y = np.arange(8) % 10
    np.testing.assert_allclose(wrapped.predict(x, verbose=0), model.predict(x, verbose=0))
    wrapped.compile("adam", "sparse_categorical_crossentropy")
    assert np.isfinite(wrapped.train_on_batch(x, y))
