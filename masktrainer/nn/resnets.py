"""hidden-networks' ResNets: the CIFAR ``cResNet18`` and the ImageNet ResNet-18/50/101 and
Wide ResNet-50-2/101-2, built from a method's layer factory.

Each network is first described as data (:func:`resnet_spec`: the convolutions with their
channels and strides, block by block), which the builder follows and
:func:`kernel_count` sums, so parameter counts can be checked against torchvision's
published ones without building 100-million-weight models.

* ``cResNet18`` (``models/resnet_cifar.py``): conv3x3 64 -> BN -> ReLU -> four stages of
  two BasicBlocks (64/128/256/512, strides 1/2/2/2) -> 4x4 average pool -> a 1x1 conv
  (here: the dense output layer on the pooled 512 features, the same weights).
* ImageNet (``models/resnet.py``, torchvision's layout): conv7x7/2 64 -> BN -> ReLU ->
  max-pool 3/2 -> stages of BasicBlocks (18) or Bottlenecks (50, 101; the Wide ones
  double the bottleneck width) -> global average pool -> the output layer.

A block: conv -> BN -> ReLU ... -> BN, plus the shortcut (identity, or a strided 1x1 conv
-> BN when the shape changes), then ReLU. No biases. BatchNormalization is non-affine
(hidden-networks' ``NonAffineBatchNorm``: PyTorch momentum 0.1 = Keras 0.9, eps 1e-5) for
the subnetwork methods and affine (``LearnedBatchNorm``) for the learned-weights baselines.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import keras
import numpy as np

from masktrainer.nn.layer_factory import LayerFactory
from masktrainer.nn.seeds import LayerSeeds

# name -> (block kind, blocks per stage, stem, bottleneck width factor)
RESNETS = {
    "cResNet18": ("basic", (2, 2, 2, 2), "cifar", 1),
    "ResNet18": ("basic", (2, 2, 2, 2), "imagenet", 1),
    "ResNet50": ("bottleneck", (3, 4, 6, 3), "imagenet", 1),
    "ResNet101": ("bottleneck", (3, 4, 23, 3), "imagenet", 1),
    "WideResNet50_2": ("bottleneck", (3, 4, 6, 3), "imagenet", 2),
    "WideResNet101_2": ("bottleneck", (3, 4, 23, 3), "imagenet", 2),
}
STAGE_WIDTHS = (64, 128, 256, 512)


@dataclasses.dataclass(frozen=True)
class Conv:
    """One convolution of the spec: where it sits and its shape."""

    name: str
    filters: int
    kernel_size: int
    strides: int
    relu: bool  # followed by ReLU (after its BN) inside the block
    role: str = "main"  # main | shortcut | stem


def resnet_spec(name: str, in_channels: int = 3) -> list[list[Conv]]:
    """The convolutions of ``name``, grouped by block (the stem is block 0), with their inputs'
    channel counts implied by order."""
    kind, stages, stem, width = RESNETS[name]
    blocks: list[list[Conv]] = []
    if stem == "cifar":
        blocks.append([Conv("conv_stem", 64, 3, 1, True, "stem")])
    else:
        blocks.append([Conv("conv_stem", 64, 7, 2, True, "stem")])
    channels = 64
    for stage, (planes, count) in enumerate(zip(STAGE_WIDTHS, stages), start=1):
        for block in range(1, count + 1):
            strides = 2 if stage > 1 and block == 1 else 1
            prefix = f"stage{stage}_block{block}"
            if kind == "basic":
                out = planes
                convs = [Conv(f"{prefix}_conv1", planes, 3, strides, True),
                         Conv(f"{prefix}_conv2", planes, 3, 1, False)]
            else:
                inner, out = planes * width, planes * 4
                convs = [Conv(f"{prefix}_conv1", inner, 1, 1, True),
                         Conv(f"{prefix}_conv2", inner, 3, strides, True),
                         Conv(f"{prefix}_conv3", out, 1, 1, False)]
            if strides != 1 or channels != out:
                convs.append(Conv(f"{prefix}_shortcut", out, 1, strides, False, "shortcut"))
            blocks.append(convs)
            channels = out
    return blocks


def feature_channels(name: str) -> int:
    kind = RESNETS[name][0]
    return STAGE_WIDTHS[-1] * (1 if kind == "basic" else 4)


def kernel_count(name: str, num_classes: int, in_channels: int = 3) -> int:
    """Weights of every conv and of the output layer (no biases, no BN)."""
    total, channels = 0, in_channels
    for block in resnet_spec(name, in_channels):
        block_in = channels
        for conv in block:
            source = block_in if conv.role == "shortcut" else channels
            total += conv.kernel_size**2 * source * conv.filters
            if conv.role != "shortcut":
                channels = conv.filters
    return total + feature_channels(name) * num_classes


def batchnorm_channels(name: str, in_channels: int = 3) -> int:
    """Channels of all BatchNormalization layers (one after every conv)."""
    return sum(conv.filters for block in resnet_spec(name, in_channels) for conv in block)


def _batchnorm(affine: bool, name: str) -> keras.layers.BatchNormalization:
    return keras.layers.BatchNormalization(center=affine, scale=affine, momentum=0.9,
                                           epsilon=1e-5, name=name)


def build_resnet(
    name: str,
    input_shape: Sequence[int],
    num_classes: int,
    layers: LayerFactory,
    run_seed: int,
    *,
    affine_batchnorm: bool = False,
    augmentation: keras.layers.Layer | None = None,
    model_name: str | None = None,
) -> keras.Model:
    """Build ``name`` (see :data:`RESNETS`), one independent seed pair per layer."""
    spec = resnet_spec(name, int(input_shape[-1]))
    n_layers = sum(len(block) for block in spec) + 1
    pairs = np.random.RandomState(run_seed).randint(1, 2**31 - 1, size=(n_layers, 2))
    seeds = iter(LayerSeeds(int(k), int(s)) for k, s in pairs)
    inputs = keras.Input(shape=tuple(input_shape), name="input")
    x = inputs if augmentation is None else augmentation(inputs)

    def conv_bn(x, conv: Conv):
        x = layers.conv(conv.filters, conv.kernel_size, "same", "linear", next(seeds), conv.name,
                        strides=conv.strides)(x)
        x = _batchnorm(affine_batchnorm, f"{conv.name}_bn")(x)
        return keras.layers.Activation("relu", name=f"{conv.name}_relu")(x) if conv.relu else x

    stem, *blocks = spec
    x = conv_bn(x, stem[0])
    if RESNETS[name][2] == "imagenet":
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for block in blocks:
        shortcut = x
        y = x
        for conv in block:
            if conv.role == "shortcut":
                shortcut = conv_bn(shortcut, conv)
            else:
                y = conv_bn(y, conv)
        prefix = block[0].name.rsplit("_", 1)[0]
        x = keras.layers.Activation("relu", name=f"{prefix}_out")(
            keras.layers.Add(name=f"{prefix}_add")([shortcut, y]))
    if RESNETS[name][2] == "cifar":
        x = keras.layers.AveragePooling2D(4, name="avg_pool")(x)
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.dense(num_classes, "softmax", next(seeds), "output")(x)
    return keras.Model(inputs, outputs, name=model_name or name)
