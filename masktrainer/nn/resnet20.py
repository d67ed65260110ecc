"""ResNet20: the CIFAR ResNet v1 (n = 3, depth 20) of Ivan & Florian, any masked method.

Written once against the :class:`~masktrainer.nn.layer_factory.LayerFactory` protocol:
21 masked convolutions and one masked dense layer, ordinary (trainable) Keras
BatchNormalization; its shift/flip augmentation (``--augment shift_flip``, the
default for this net) goes in front.

``quirks=True`` reproduces the original code: each ReLU conv applies its own
ReLU *before* BN and again after it (conv -> ReLU -> BN -> ReLU), the output
goes through softmax twice, and every masked layer shares one seed (with
``shared_stream``, ``--seeding original``, its kernel and score also share TF1's
random bits). The default is the intended network: conv -> BN -> ReLU, one
softmax, own seeds.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import keras
import numpy as np

from masktrainer.nn.layer_factory import LayerFactory
from masktrainer.nn.seeds import LayerSeeds

N_BLOCKS = 3  # n: 6n + 2 = 20 layers
N_MASKED = 22  # 21 convolutions + the output layer


def resnet_seeds(
    run_seed: int, quirks: bool, shared_stream: bool = False
) -> Iterator[LayerSeeds]:
    """Per-layer seeds; the original gave every masked layer the same seed."""
    if quirks:
        while True:
            yield LayerSeeds(run_seed, run_seed, shared_stream=shared_stream)
    rng = np.random.RandomState(run_seed)
    for kernel, score in rng.randint(1, 2**31 - 1, size=(N_MASKED, 2)):
        yield LayerSeeds(int(kernel), int(score))


def build_resnet20(
    input_shape: Sequence[int],
    num_classes: int,
    layers: LayerFactory,
    run_seed: int,
    quirks: bool = False,
    augmentation: keras.layers.Layer | None = None,
    name: str = "ResNet20",
    shared_stream: bool = False,
) -> keras.Model:
    seeds = resnet_seeds(run_seed, quirks, shared_stream)
    counter = iter(range(1, 100))

    def block_layer(x, filters: int, kernel: int = 3, strides: int = 1, relu: bool = True,
                    batch_norm: bool = True):
        index = next(counter)
        conv_activation = "relu" if (quirks and relu) else None
        x = layers.conv(filters, kernel, "same", conv_activation, next(seeds), f"conv_{index}",
                        strides=strides)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"bn_{index}")(x)
        if relu:
            x = keras.layers.Activation("relu", name=f"relu_{index}")(x)
        return x

    inputs = keras.Input(shape=tuple(input_shape), name="input")
    x = inputs if augmentation is None else augmentation(inputs)
    x = block_layer(x, 16)
    filters = 16
    for stack in range(3):
        for block in range(N_BLOCKS):
            strides = 2 if stack > 0 and block == 0 else 1
            y = block_layer(x, filters, strides=strides)
            y = block_layer(y, filters, relu=False)
            if stack > 0 and block == 0:  # 1x1 projection, no BN
                x = block_layer(x, filters, kernel=1, strides=strides, relu=False,
                                batch_norm=False)
            x = keras.layers.Activation("relu")(keras.layers.Add()([x, y]))
        filters *= 2
    x = keras.layers.AveragePooling2D(pool_size=8)(x)
    x = keras.layers.Flatten()(x)
    outputs = layers.dense(num_classes, "softmax", next(seeds), "output")(x)
    if quirks:
        outputs = keras.layers.Activation("softmax", name="second_softmax", dtype="float32")(
            outputs)
    return keras.Model(inputs, outputs, name=name)
