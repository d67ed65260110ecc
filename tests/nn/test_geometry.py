"""masktrainer.nn.geometry: the bias-free dense and conv arithmetic every method layer shares,
its argument checks, declared output shapes and config."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from masktrainer.nn.geometry import ConvGeometry, DenseGeometry


class _Layer(keras.layers.Layer):
    """The smallest method layer: a plain kernel through the shared geometry."""

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=self._kernel_shape(input_shape),
                                      initializer=keras.initializers.GlorotUniform(seed=1))

    def call(self, inputs):
        return self._apply(inputs, self.kernel)


class _Dense(DenseGeometry, _Layer):
    pass


class _Conv(ConvGeometry, _Layer):
    pass


def test_dense_is_a_bias_free_matmul():
    layer = _Dense(3)
    x = np.random.RandomState(0).randn(2, 5).astype("float32")
    out = layer(x)
    assert layer.kernel.shape == (5, 3) and layer.compute_output_shape((2, 5)) == (2, 3)
    np.testing.assert_allclose(out.numpy(), x @ layer.kernel.numpy(), rtol=1e-5, atol=1e-6)
    assert layer.get_config()["units"] == 3 and layer.supports_masking
    with pytest.raises(ValueError, match="units must be >= 1"):
        _Dense(0)


@pytest.mark.parametrize("padding,strides", [("same", 1), ("same", 2), ("valid", 1),
                                             ("valid", 2)])
def test_conv_declares_the_shape_it_computes(padding, strides):
    layer = _Conv(4, 3, strides=strides, padding=padding)
    x = np.random.RandomState(1).randn(2, 9, 7, 2).astype("float32")
    out = layer(x)
    assert layer.kernel.shape == (3, 3, 2, 4)
    assert tuple(out.shape) == layer.compute_output_shape((2, 9, 7, 2))
    expected = tf.nn.conv2d(x, layer.kernel, strides=strides, padding=padding.upper())
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    config = layer.get_config()
    assert (config["filters"], config["kernel_size"], config["strides"], config["padding"]) == \
        (4, [3, 3], strides, padding)


def test_conv_arguments_are_checked():
    with pytest.raises(ValueError, match="padding must be"):
        _Conv(4, 3, padding="full")
    with pytest.raises(ValueError, match=">= 1"):
        _Conv(0, 3)
    with pytest.raises(ValueError, match=">= 1"):
        _Conv(4, 3, strides=0)
    assert _Conv(4, 3).compute_output_shape((None, None, 5, 1)) == (None, None, 5, 4)
