"""The architectures of the "Train by Reconnect" notebooks (LaPerm paper, sec. 5).

``build_laperm_model(name, input_shape, seed=...)`` builds a fresh, compiled-free
Keras model. With an integer ``seed`` every initializer and dropout layer gets
its own seed drawn from ``numpy.random.RandomState(seed)`` in construction
order, so two builds with the same seed hold identical weights and different
seeds give different weights; ``seed=None`` leaves everything unseeded.

Parameter counts (``model.count_params()``, BatchNormalization moving statistics
included) match the original models: F1 7,840; F2 109,184; Conv7 325,578;
Conv2 4,304,202; Conv4 2,429,514; Conv13 15,001,418; ResNet50 763,882.
"""

from __future__ import annotations

import collections
from typing import Callable

import keras
import numpy as np

from laperm.names import MNIST_MODELS, MODEL_NAMES

WEIGHT_DECAY = 1e-4  # L2 factor of F2, the CIFAR Conv nets and the ResNet
_MAX_SEED = 2**31 - 1
# The softmax output layer computes in float32 under a mixed precision policy (Keras' advice:
# a 16-bit softmax loses the small probabilities the loss needs); float32 runs are unchanged.
OUTPUT_DTYPE = "float32"


class _LayerSeeds:
    """Hands out one distinct integer seed per call (``None`` when unseeded), and layer names.

    Weighted layers are named as Keras names them in a fresh process (``dense``,
    ``dense_1``, ...), so variable paths (the keys of a run's weight files) never
    depend on how many models the process built before.
    """

    def __init__(self, seed: int | None) -> None:
        self._rng = None if seed is None else np.random.RandomState(seed)
        self._names: collections.Counter[str] = collections.Counter()

    def name(self, kind: str) -> str:
        count = self._names[kind]
        self._names[kind] += 1
        return kind if count == 0 else f"{kind}_{count}"

    def __call__(self) -> int | None:
        if self._rng is None:
            return None
        return int(self._rng.randint(0, _MAX_SEED))

    def he_uniform(self) -> keras.initializers.Initializer:
        return keras.initializers.HeUniform(seed=self())

    def dropout(self, rate: float) -> keras.layers.Dropout:
        return keras.layers.Dropout(rate, seed=self())


def _l2() -> keras.regularizers.Regularizer:
    return keras.regularizers.L2(WEIGHT_DECAY)


def default_input_shape(name: str) -> tuple[int, int, int]:
    """(28, 28, 1) for the MNIST models (F1, F2, Conv7), (32, 32, 3) for the CIFAR ones."""
    _check_name(name)
    return (28, 28, 1) if name in MNIST_MODELS else (32, 32, 3)


def _check_name(name: str) -> None:
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown LaPerm model {name!r}; choose one of {', '.join(MODEL_NAMES)}")


# --------------------------------------------------------------------------- MNIST


# F1 and F2 keep the Keras default initializer (Glorot uniform) as in the
# notebook; ``weights.agnosticize`` overwrites their kernels before training.


def _glorot_dense(x, units: int, activation: str, seeds: _LayerSeeds, l2: bool = False):
    """Bias-free Dense with the Keras default (Glorot uniform) initializer, seeded."""
    return keras.layers.Dense(
        units,
        activation=activation,
        use_bias=False,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seeds()),
        kernel_regularizer=_l2() if l2 else None,
        name=seeds.name("dense"),
        dtype=OUTPUT_DTYPE if activation == "softmax" else None,
    )(x)


def _f1(inputs, num_classes: int, seeds: _LayerSeeds):
    return _glorot_dense(keras.layers.Flatten()(inputs), num_classes, "softmax", seeds)


def _f2(inputs, num_classes: int, seeds: _LayerSeeds):
    x = keras.layers.Flatten()(inputs)
    for units in (128, 64):
        x = _glorot_dense(x, units, "relu", seeds, l2=True)
    return _glorot_dense(x, num_classes, "softmax", seeds)


def _conv7(inputs, num_classes: int, seeds: _LayerSeeds):
    def conv(x, filters: int, size: int, strides: int = 1, padding: str = "valid"):
        return keras.layers.Conv2D(
            filters,
            size,
            strides=strides,
            padding=padding,
            activation="relu",
            kernel_initializer=seeds.he_uniform(),
            bias_initializer=seeds.he_uniform(),
            name=seeds.name("conv2d"),
        )(x)

    x = inputs
    for filters in (32, 64):
        x = conv(x, filters, 3)
        x = conv(x, filters, 3)
        x = conv(x, filters, 5, strides=2, padding="same")
        x = seeds.dropout(0.4)(x)
    x = conv(x, 128, 4)
    x = keras.layers.Flatten()(x)
    x = seeds.dropout(0.4)(x)
    return keras.layers.Dense(
        num_classes,
        activation="softmax",
        kernel_initializer=seeds.he_uniform(),
        bias_initializer=seeds.he_uniform(),
        name=seeds.name("dense"),
        dtype=OUTPUT_DTYPE,
    )(x)


# --------------------------------------------------------------------------- CIFAR Conv

# One entry per layer group: ("conv", filters, dropout or None) is
# Conv3x3-ReLU-BN(-Dropout); ("pool",) is MaxPool2; ("drop", rate) a Dropout.
def _block(filters: int, dropout: float, convs: int = 2) -> tuple[tuple, ...]:
    """``convs`` convs of ``filters``, all but the last followed by dropout, then a pool."""
    with_dropout = (("conv", filters, dropout),) * (convs - 1)
    return (*with_dropout, ("conv", filters, None), ("pool",))


_CIFAR_FEATURES: dict[str, tuple[tuple, ...]] = {
    "Conv2": _block(64, 0.3),
    "Conv4": _block(64, 0.3) + _block(128, 0.4),
    "Conv13": _block(64, 0.3) + _block(128, 0.4) + _block(256, 0.4, 3) + _block(512, 0.4, 3)
    + _block(512, 0.4, 3) + (("drop", 0.5),),
}

# Classifier blocks after Flatten: Dense(units)-ReLU then the listed steps in order.
_CIFAR_CLASSIFIERS: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {
    "Conv2": ((256, ("drop", "bn")), (256, ("bn", "drop"))),
    "Conv4": ((256, ("drop", "bn")), (256, ("bn", "drop"))),
    "Conv13": ((512, ("bn", "drop")),),
}


def _cifar_conv(name: str) -> Callable:
    def build(inputs, num_classes: int, seeds: _LayerSeeds):
        x = inputs
        for spec in _CIFAR_FEATURES[name]:
            if spec[0] == "pool":
                x = keras.layers.MaxPooling2D(2)(x)
            elif spec[0] == "drop":
                x = seeds.dropout(spec[1])(x)
            else:
                _, filters, rate = spec
                x = keras.layers.Conv2D(
                    filters,
                    3,
                    padding="same",
                    activation="relu",
                    kernel_initializer=seeds.he_uniform(),
                    bias_initializer=seeds.he_uniform(),
                    kernel_regularizer=_l2(),
                    name=seeds.name("conv2d"),
                )(x)
                x = keras.layers.BatchNormalization(name=seeds.name("batch_normalization"))(x)
                if rate is not None:
                    x = seeds.dropout(rate)(x)
        x = keras.layers.Flatten()(x)
        for units, steps in _CIFAR_CLASSIFIERS[name]:
            x = keras.layers.Dense(
                units,
                activation="relu",
                kernel_initializer=seeds.he_uniform(),
                bias_initializer=seeds.he_uniform(),
                kernel_regularizer=_l2(),
                name=seeds.name("dense"),
            )(x)
            for step in steps:
                if step == "bn":
                    x = keras.layers.BatchNormalization(name=seeds.name("batch_normalization"))(x)
                else:
                    x = seeds.dropout(0.5)(x)
        x = keras.layers.Dense(
            num_classes,
            kernel_initializer=seeds.he_uniform(),
            bias_initializer=seeds.he_uniform(),
            name=seeds.name("dense"),
        )(x)
        return keras.layers.Activation("softmax", dtype=OUTPUT_DTYPE)(x)

    return build


# --------------------------------------------------------------------------- ResNet v1


def _resnet_layer(
    x,
    seeds: _LayerSeeds,
    filters: int = 16,
    kernel_size: int = 3,
    strides: int = 1,
    activation: str | None = "relu",
    batch_norm: bool = True,
):
    """Conv2D (he_uniform, L2, zero bias) -> BN (optional) -> activation (optional)."""
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        kernel_initializer=seeds.he_uniform(),
        kernel_regularizer=_l2(),
        name=seeds.name("conv2d"),
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=seeds.name("batch_normalization"))(x)
    if activation is not None:
        x = keras.layers.Activation(activation)(x)
    return x


def _resnet_v1_graph(inputs, depth: int, num_classes: int, seeds: _LayerSeeds):
    if depth < 8 or (depth - 2) % 6 != 0:
        raise ValueError(f"ResNet v1 depth must be 6n + 2 (20, 32, 44, 50, 56, ...), got {depth}")
    blocks_per_stack = (depth - 2) // 6
    filters = 16
    x = _resnet_layer(inputs, seeds, filters)
    for stack in range(3):
        for block in range(blocks_per_stack):
            downsample = stack > 0 and block == 0
            strides = 2 if downsample else 1
            y = _resnet_layer(x, seeds, filters, strides=strides)
            y = _resnet_layer(y, seeds, filters, activation=None)
            if downsample:
                shortcut = dict(kernel_size=1, activation=None, batch_norm=False)
                x = _resnet_layer(x, seeds, filters, strides=strides, **shortcut)
            x = keras.layers.Add()([x, y])
            x = keras.layers.Activation("relu")(x)
        filters *= 2
    x = keras.layers.AveragePooling2D(pool_size=8)(x)
    x = keras.layers.Flatten()(x)
    return keras.layers.Dense(
        num_classes, activation="softmax", kernel_initializer=seeds.he_uniform(),
        name=seeds.name("dense"), dtype=OUTPUT_DTYPE,
    )(x)


def resnet_v1(
    input_shape: tuple[int, ...],
    depth: int,
    num_classes: int = 10,
    seed: int | None = None,
) -> keras.Model:
    """The Keras-example CIFAR ResNet v1 (depth = 6n + 2; the paper's "ResNet50" is n = 8)."""
    inputs = keras.Input(shape=tuple(input_shape))
    outputs = _resnet_v1_graph(inputs, depth, num_classes, _LayerSeeds(seed))
    return keras.Model(inputs, outputs, name=f"resnet_v1_{depth}")


# --------------------------------------------------------------------------- entry point

_BUILDERS: dict[str, Callable] = {
    "F1": _f1,
    "F2": _f2,
    "Conv7": _conv7,
    "Conv2": _cifar_conv("Conv2"),
    "Conv4": _cifar_conv("Conv4"),
    "Conv13": _cifar_conv("Conv13"),
    "ResNet50": lambda inputs, num_classes, seeds: _resnet_v1_graph(inputs, 50, num_classes, seeds),
}


def build_laperm_model(
    name: str,
    input_shape: tuple[int, ...],
    num_classes: int = 10,
    seed: int | None = None,
) -> keras.Model:
    """Build the notebook model ``name`` (one of :data:`MODEL_NAMES`), uncompiled.

    Raises:
        ValueError: ``name`` is not one of :data:`MODEL_NAMES`.
    """
    _check_name(name)
    inputs = keras.Input(shape=tuple(input_shape))
    outputs = _BUILDERS[name](inputs, num_classes, _LayerSeeds(seed))
    return keras.Model(inputs, outputs, name=f"laperm_{name.lower()}")
