"""LaPerm's layers (masktrainer.methods.train_by_reconnect.layers): plain bias-free Dense/Conv2D
with the notebooks' He uniform kernels, drawn from the layer's kernel seed."""

import keras
import numpy as np

from masktrainer.methods.train_by_reconnect.layers import HeUniformLayers
from masktrainer.nn.seeds import LayerSeeds


def _kernel(layer: keras.layers.Layer, input_shape: tuple) -> np.ndarray:
    layer.build(input_shape)
    return keras.ops.convert_to_numpy(layer.kernel)


def test_dense_and_conv_are_bias_free_with_he_uniform_kernels():
    factory = HeUniformLayers()
    dense = factory.dense(64, "relu", LayerSeeds(kernel=7, score=8), "d")
    conv = factory.conv(16, 3, "same", "relu", LayerSeeds(kernel=7, score=8), "c")
    assert type(dense) is keras.layers.Dense and type(conv) is keras.layers.Conv2D
    assert not dense.use_bias and not conv.use_bias
    assert isinstance(dense.kernel_initializer, keras.initializers.HeUniform)
    for kernel, fan_in in ((_kernel(dense, (None, 500)), 500),
                           (_kernel(conv, (None, 8, 8, 20)), 3 * 3 * 20)):
        limit = np.sqrt(6.0 / fan_in)
        assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit


def test_the_kernel_seed_decides_the_draw():
    factory = HeUniformLayers()
    first, again, other = (_kernel(factory.dense(32, None, LayerSeeds(kernel=k, score=1), "d"),
                                   (None, 10)) for k in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
