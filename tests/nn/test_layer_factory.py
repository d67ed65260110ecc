"""masktrainer.nn.layer_factory: a method's dense/conv builders pass the layer's settings and
its own keyword arguments through; the plain reference layers are bias-free."""

import dataclasses

import keras
import numpy as np

from masktrainer.nn.layer_factory import DenseReferenceLayers, LayerPair, seed_of
from masktrainer.nn.seeds import LayerSeeds


class _Recorded(keras.layers.Layer):
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, dict(kwargs)
        super().__init__(name=kwargs["name"])


@dataclasses.dataclass(frozen=True)
class _Pair(LayerPair):
    dense_class = _Recorded
    conv_class = _Recorded

    def common(self, seeds, dense):
        return {"dense": dense, "seed": seed_of(seeds, "score")}


def test_seed_of_reads_the_named_seed_or_none():
    assert seed_of(LayerSeeds(kernel=3, score=4), "kernel") == 3
    assert seed_of(LayerSeeds(kernel=3, score=4), "score") == 4
    assert seed_of(None, "kernel") is None


def test_a_pair_passes_the_settings_and_its_common_arguments():
    seeds = LayerSeeds(kernel=3, score=4)
    dense = _Pair().dense(10, "relu", seeds, "d")
    assert dense.args == (10,) and dense.kwargs == {"activation": "relu", "name": "d",
                                                    "dense": True, "seed": 4}
    conv = _Pair().conv(8, 3, "valid", None, seeds, "c", strides=2)
    assert conv.args == (8, 3) and conv.kwargs == {"strides": 2, "padding": "valid",
                                                   "activation": None, "name": "c",
                                                   "dense": False, "seed": 4}


def test_reference_layers_are_plain_bias_free_and_seeded_by_the_kernel_seed():
    factory = DenseReferenceLayers()
    dense = factory.dense(5, "softmax", LayerSeeds(kernel=7, score=8), "out")
    conv = factory.conv(4, 3, "same", "relu", LayerSeeds(kernel=7, score=8), "c", strides=2)
    assert type(dense) is keras.layers.Dense and type(conv) is keras.layers.Conv2D
    assert not dense.use_bias and not conv.use_bias and conv.strides == (2, 2)
    assert dense.dtype_policy.compute_dtype == "float32"  # a softmax output stays float32
    again = factory.dense(5, "softmax", LayerSeeds(kernel=7, score=99), "out")
    dense.build((None, 6))
    again.build((None, 6))
    np.testing.assert_array_equal(dense.kernel.numpy(), again.kernel.numpy())
