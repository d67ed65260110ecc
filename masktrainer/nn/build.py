"""Building Keras models from architectures and a method's layer factory.

:func:`build_network` builds a conv/dense stack (:class:`~masktrainer.nn.architectures.Architecture`);
:func:`build_architecture` builds any ``--nettype`` of the shared architectures
(the stacks and ResNet20), seeded per layer from the run seed.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import keras

from masktrainer.nn.architectures import POOL, Architecture, get_architecture
from masktrainer.nn.layer_factory import LayerFactory
from masktrainer.nn.resnet20 import build_resnet20
from masktrainer.nn.resnets import RESNETS, build_resnet
from masktrainer.nn.seeds import LayerSeeds, layer_seeds


def build_network(
    arch: Architecture | str,
    input_shape: Sequence[int],
    num_classes: int,
    layers: LayerFactory,
    activation: str = "relu",
    seeds: Sequence[LayerSeeds] | None = None,
    name: str | None = None,
    augmentation: keras.layers.Layer | None = None,
) -> keras.Model:
    """Functional model: (augmentation ->) convs -> flatten -> hidden dense -> softmax output."""
    if isinstance(arch, str):
        arch = get_architecture(arch)
    if seeds is not None and len(seeds) != arch.n_masked:
        raise ValueError(f"{arch.name} needs {arch.n_masked} layer seeds, got {len(seeds)}")
    seed_iter = iter(seeds) if seeds is not None else None

    def next_seeds() -> LayerSeeds | None:
        return next(seed_iter) if seed_iter is not None else None

    inputs = keras.Input(shape=tuple(input_shape), name="input")
    x = inputs if augmentation is None else augmentation(inputs)
    n_conv = n_pool = 0
    paddings = arch.paddings
    for entry in arch.conv:
        if entry == POOL:
            n_pool += 1
            x = keras.layers.MaxPooling2D(pool_size=2, name=f"pool_{n_pool}")(x)
            continue
        n_conv += 1
        conv_activation = "linear" if arch.batchnorm or n_conv in arch.linear_convs else activation
        x = layers.conv(
            int(entry), arch.kernel_size, paddings[n_conv - 1], conv_activation, next_seeds(),
            f"conv_{n_conv}",
        )(x)
        if arch.batchnorm:
            # PyTorch BatchNorm2d(affine=False): momentum 0.1 == Keras 0.9, eps 1e-5.
            x = keras.layers.BatchNormalization(
                center=False, scale=False, momentum=0.9, epsilon=1e-5, name=f"bn_{n_conv}"
            )(x)
            x = keras.layers.Activation(activation, name=f"act_{n_conv}")(x)
    if arch.final_avg_pool:
        x = keras.layers.AveragePooling2D(arch.final_avg_pool, name="avg_pool")(x)
    if arch.feature_dropout:
        x = keras.layers.SpatialDropout2D(arch.feature_dropout, name="feature_dropout")(x)
    if len(x.shape) > 2:
        x = keras.layers.Flatten(name="flatten")(x)
    for j, units in enumerate(arch.dense, start=1):
        if arch.dropout:
            x = keras.layers.Dropout(arch.dropout, name=f"dropout_{j}")(x)
        x = layers.dense(units, activation, next_seeds(), f"dense_{j}")(x)
    if arch.output_dropout:
        x = keras.layers.Dropout(arch.output_dropout, name="output_dropout")(x)
    outputs = layers.dense(num_classes, "softmax", next_seeds(), "output")(x)
    return keras.Model(inputs, outputs, name=name or arch.name)


def kernel_parameter_count(model: keras.Model) -> int:
    """Number of weights of the (effective) kernels of all dense/conv layers of ``model``.

    A slot layer counts its selected network (its K values per weight count once).
    """
    total = 0
    for layer in model.layers:
        shape = getattr(layer, "kernel_shape", None)
        if shape is None and getattr(layer, "kernel", None) is not None:
            shape = layer.kernel.shape
        if shape is not None:
            total += math.prod(shape)
    return total


def build_architecture(
    nettype: str,
    input_shape: Sequence[int],
    num_classes: int,
    layers: LayerFactory,
    run_seed: int,
    *,
    activation: str = "relu",
    seeding: str = "independent",
    width_mult: float = 1.0,
    resnet_quirks: bool = False,
    name: str | None = None,
    augmentation: keras.layers.Layer | None = None,
    batchnorm: bool | None = None,
    affine_batchnorm: bool = False,
) -> keras.Model:
    """The shared architecture ``nettype`` (a stack, or ``ResNet`` = ResNet20) with seeded layers,
    ``augmentation`` (training only) right after the input; ``batchnorm`` overrides whether a
    stack has non-affine BN after its convs; ``affine_batchnorm`` makes hidden-networks' ResNets'
    BN learned (the dense baselines) instead of non-affine."""
    if nettype in RESNETS:
        return build_resnet(nettype, input_shape, num_classes, layers, run_seed,
                            affine_batchnorm=affine_batchnorm, augmentation=augmentation,
                            model_name=name)
    if nettype == "ResNet":
        return build_resnet20(input_shape, num_classes, layers, run_seed, quirks=resnet_quirks,
                              augmentation=augmentation, name=name or "ResNet20",
                              shared_stream=seeding == "original")
    arch = get_architecture(nettype, width_mult)
    if batchnorm is not None:
        arch = dataclasses.replace(arch, batchnorm=batchnorm)
    seeds = layer_seeds(run_seed, len(arch.conv), arch.conv_positions, len(arch.dense) + 1, seeding)
    return build_network(arch, input_shape, num_classes, layers, activation=activation,
                         seeds=seeds, name=name, augmentation=augmentation)
