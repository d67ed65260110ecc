"""The dense baseline's layers (masktrainer.methods.dense_baseline.layers): plain bias-free
Dense/Conv2D whose kernels start from hidden-networks' Kaiming weights."""

import keras
import numpy as np

from masktrainer.methods.dense_baseline.layers import HiddenNetworksDenseLayers
from masktrainer.nn.initializers import KaimingWeights
from masktrainer.nn.seeds import LayerSeeds


def _kernel(layer: keras.layers.Layer, input_shape: tuple) -> np.ndarray:
    layer.build(input_shape)
    return keras.ops.convert_to_numpy(layer.kernel)


def test_kaiming_normal_kernels_with_the_relu_gain():
    factory = HiddenNetworksDenseLayers()
    dense = factory.dense(400, "relu", LayerSeeds(kernel=5, score=6), "d")
    assert type(dense) is keras.layers.Dense and not dense.use_bias
    assert isinstance(dense.kernel_initializer, KaimingWeights)
    kernel = _kernel(dense, (None, 300))
    assert abs(kernel.mean()) < 0.005
    np.testing.assert_allclose(kernel.std(), np.sqrt(2.0 / 300), rtol=0.03)
    conv = factory.conv(8, 3, "same", "relu", LayerSeeds(kernel=5, score=6), "c")
    assert type(conv) is keras.layers.Conv2D and not conv.use_bias


def test_the_kernel_seed_decides_the_draw():
    factory = HiddenNetworksDenseLayers()
    first, again, other = (_kernel(factory.dense(32, None, LayerSeeds(kernel=k, score=1), "d"),
                                   (None, 10)) for k in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
