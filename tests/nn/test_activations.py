"""masktrainer.nn.activations: the activations by name, the original's selu quirk, errors."""

import numpy as np
import pytest
import tensorflow as tf

from masktrainer.nn.activations import ACTIVATION_NAMES, apply_activation, validate_activation

X = tf.constant([-2.0, -1.0, 0.0, 1.5])


def test_names_are_validated():
    assert validate_activation("relu") == "relu" and validate_activation(None) is None
    assert set(ACTIVATION_NAMES) >= {"relu", "swish", "sigmoid", "elu", "selu", "linear"}
    with pytest.raises(ValueError, match="unknown activation 'tanh'"):
        validate_activation("tanh")
    with pytest.raises(ValueError, match="unknown activation"):
        apply_activation(X, "tanh")


def test_each_activation_computes_its_function():
    x = X.numpy()
    np.testing.assert_array_equal(apply_activation(X, None).numpy(), x)
    np.testing.assert_array_equal(apply_activation(X, "linear").numpy(), x)
    np.testing.assert_array_equal(apply_activation(X, "relu").numpy(), np.maximum(x, 0))
    sigmoid = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(apply_activation(X, "sigmoid").numpy(), sigmoid, rtol=1e-6)
    np.testing.assert_allclose(apply_activation(X, "swish").numpy(), x * sigmoid, rtol=1e-6)
    elu = np.where(x > 0, x, np.expm1(x))
    np.testing.assert_allclose(apply_activation(X, "elu").numpy(), elu, rtol=1e-6)


def test_selu_is_a_real_selu_unless_the_originals_quirk_is_asked_for():
    selu = apply_activation(X, "selu").numpy()
    np.testing.assert_allclose(selu, tf.nn.selu(X).numpy())
    assert selu[0] < -1.5  # a real SELU scales the negative branch by about 1.76
    quirk = apply_activation(X, "selu", selu_is_elu=True).numpy()
    np.testing.assert_allclose(quirk, apply_activation(X, "elu").numpy())


def test_softmax_is_computed_in_float32_for_half_precision_inputs():
    out = apply_activation(tf.constant([[1.0, 2.0, 3.0]], tf.bfloat16), "softmax")
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy().sum(), 1.0, rtol=1e-6)
