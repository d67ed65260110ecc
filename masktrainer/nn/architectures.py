"""Architectures as data, each written once; the layer kind comes from a method.

An :class:`Architecture` describes a conv stack and a dense stack; the model is
built by :mod:`masktrainer.nn.build` with a method's layer factory. This module
imports no TensorFlow, so configurations can be checked without it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

POOL = "pool"


@dataclasses.dataclass(frozen=True)
class Architecture:
    """Conv stack (filter counts, ``POOL`` for 2x2 max-pool) then dense stack.

    ``dense`` lists the hidden widths; the output layer (softmax) is implied.
    ``conv_padding`` gives one padding per conv (empty: ``padding`` for all);
    ``batchnorm`` puts a non-affine BatchNormalization between every conv and
    its activation; ``dropout`` > 0 puts a Dropout before every hidden dense
    layer; ``final_avg_pool`` > 0 average-pools by that factor before flattening;
    ``linear_convs`` lists (1-based) convs without an activation; ``feature_dropout``
    is a channel (spatial) dropout before flattening and ``output_dropout`` a dropout
    right before the output layer (hidden-networks' simple MNIST net).
    """

    name: str
    conv: tuple[int | str, ...] = ()
    dense: tuple[int, ...] = ()
    kernel_size: int = 3
    padding: str = "same"
    conv_padding: tuple[str, ...] = ()
    batchnorm: bool = False
    dropout: float = 0.0
    final_avg_pool: int = 0
    linear_convs: tuple[int, ...] = ()
    feature_dropout: float = 0.0
    output_dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.conv_padding and len(self.conv_padding) != len(self.conv_positions):
            raise ValueError(f"{self.name}: one padding per conv layer is needed")

    @property
    def conv_positions(self) -> list[int]:
        return [i for i, entry in enumerate(self.conv) if entry != POOL]

    @property
    def paddings(self) -> tuple[str, ...]:
        """The padding of every conv layer, in order."""
        return self.conv_padding or (self.padding,) * len(self.conv_positions)

    @property
    def n_masked(self) -> int:
        return len(self.conv_positions) + len(self.dense) + 1

    def scaled(self, width_mult: float) -> "Architecture":
        """Every conv and hidden width w -> int(w * width_mult) (edge-popup's *Wide nets)."""
        if not width_mult > 0:
            raise ValueError(f"width_mult must be > 0, got {width_mult!r}")
        conv = tuple(e if e == POOL else int(int(e) * width_mult) for e in self.conv)
        dense = tuple(int(w * width_mult) for w in self.dense)
        if any(e != POOL and int(e) < 1 for e in conv) or any(w < 1 for w in dense):
            raise ValueError(f"width_mult={width_mult} leaves a layer of {self.name} with no units")
        return dataclasses.replace(self, conv=conv, dense=dense)


_CONV4 = (64, 64, POOL, 128, 128, POOL)
_CONV6 = (*_CONV4, 256, 256, POOL)
_VGG19 = (64, 64, POOL, 128, 128, POOL, 256, 256, 256, 256, POOL,
          512, 512, 512, 512, POOL, 512, 512, 512, 512)

ARCHITECTURES: dict[str, Architecture] = {
    "LeNet": Architecture("LeNet", dense=(300, 100)),
    "Conv2": Architecture("Conv2", conv=(64, 64, POOL), dense=(256, 256)),
    "Conv4": Architecture("Conv4", conv=_CONV4, dense=(256, 256)),
    "Conv6": Architecture("Conv6", conv=_CONV6, dense=(256, 256)),
    # edge-popup (models/frankle.py): Conv8 and the width-multiplied Conv4/Conv6.
    "Conv8": Architecture("Conv8", conv=(*_CONV6, 512, 512, POOL), dense=(256, 256)),
    "Conv4Wide": Architecture("Conv4Wide", conv=_CONV4, dense=(256, 256)),
    "Conv6Wide": Architecture("Conv6Wide", conv=_CONV6, dense=(256, 256)),
    # Slot Machines (shallow_conv_models.py): valid padding, dropout 0.5 in the classifier.
    "SlotConv2": Architecture("SlotConv2", conv=(64, 64, POOL), dense=(256, 256),
                              conv_padding=("valid",) * 2, dropout=0.5),
    "SlotConv4": Architecture("SlotConv4", conv=_CONV4, dense=(256, 256),
                              conv_padding=("valid",) * 4, dropout=0.5),
    "SlotConv6": Architecture("SlotConv6", conv=_CONV6, dense=(256, 256),
                              conv_padding=("valid",) * 4 + ("same",) * 2, dropout=0.5),
    # Slot Machines vgg19.py: 16 convs, non-affine BN, 4 max-pools, AvgPool(2), one FC.
    "VGG19": Architecture("VGG19", conv=_VGG19, batchnorm=True, final_avg_pool=2),
    # hidden-networks simple_mnist_example.py: conv 32 -> ReLU -> conv 64 (no activation) ->
    # max-pool -> Dropout2d(0.25) -> fc 128 -> ReLU -> Dropout2d(0.5) -> fc 10; PyTorch of the
    # time applied Dropout2d to a 2-D tensor element-wise, i.e. as plain Dropout.
    "SimpleMNIST": Architecture("SimpleMNIST", conv=(32, 64, POOL), dense=(128,),
                                padding="valid", linear_convs=(2,), feature_dropout=0.25,
                                output_dropout=0.5),
}
WIDE_ARCHITECTURES = ("Conv4Wide", "Conv6Wide")  # --width_mult scales these
# The --nettype names of the shared architectures ("ResNet" is ResNet20, nn.resnet20;
# the Slot* entries above are Slot Machines' own variants, chosen by that method).
# hidden-networks' ResNets (masktrainer.nn.resnets): built from a spec, not an Architecture.
IMAGENET_ARCHITECTURES = ("ResNet18", "ResNet50", "ResNet101", "WideResNet50_2",
                          "WideResNet101_2")
NETTYPES = ("LeNet", "Conv2", "Conv4", "Conv6", "Conv8", "Conv4Wide", "Conv6Wide", "VGG19",
            "ResNet", "cResNet18", *IMAGENET_ARCHITECTURES, "SimpleMNIST")
MNIST_ARCHITECTURES = ("LeNet", "SimpleMNIST")  # the data set each was used with; the rest: CIFAR-10


def original_dataset(nettype: str) -> str:
    """The data set the originals trained ``nettype`` on."""
    if nettype in IMAGENET_ARCHITECTURES:
        return "imagenet2012"
    return "mnist" if nettype in MNIST_ARCHITECTURES else "cifar10"


def get_architecture(name: str, width_mult: float = 1.0) -> Architecture:
    """The architecture called ``name``; ``width_mult`` scales the *Wide ones."""
    try:
        arch = ARCHITECTURES[name]
    except KeyError:
        raise ValueError(
            f"unknown architecture {name!r}; expected one of {sorted(ARCHITECTURES)}"
        ) from None
    if name in WIDE_ARCHITECTURES:
        return arch.scaled(width_mult)
    if width_mult != 1.0:
        raise ValueError(f"width_mult applies to {', '.join(WIDE_ARCHITECTURES)} only")
    return arch


def kernel_fan_ins(arch: Architecture | str, input_shape: Sequence[int], num_classes: int) -> list[int]:
    """fan_in of every kernel layer, in forward order (no model is built)."""
    if isinstance(arch, str):
        arch = get_architecture(arch)
    shape = list(input_shape)
    fans: list[int] = []
    paddings = iter(arch.paddings)
    for entry in arch.conv:
        if entry == POOL:
            shape = [shape[0] // 2, shape[1] // 2, shape[2]]
            continue
        k = arch.kernel_size
        fans.append(k * k * shape[2])
        if next(paddings) == "valid":
            shape = [shape[0] - k + 1, shape[1] - k + 1, int(entry)]
        else:
            shape = [shape[0], shape[1], int(entry)]
    if arch.final_avg_pool and arch.conv:
        pool = arch.final_avg_pool
        shape = [shape[0] // pool, shape[1] // pool, shape[2]]
    width = math.prod(shape)
    for units in (*arch.dense, num_classes):
        fans.append(width)
        width = units
    return fans
