"""Architectures, each written once; the layer kind comes from a method.

A network is built from an :class:`Architecture` (pure data) and a
:class:`LayerFactory` that knows how a method builds a dense or conv layer
(masked layers for self-pruning, plain Keras layers for the dense reference,
and later edge-popup / slot-machine layers).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Protocol, Sequence

import keras

from masktrainer.seeds import LayerSeeds

POOL = "pool"


class LayerFactory(Protocol):
    """How a method builds the layers of an architecture."""

    def dense(
        self, units: int, activation: str, seeds: LayerSeeds | None, name: str
    ) -> keras.layers.Layer: ...

    def conv(
        self,
        filters: int,
        kernel_size: int,
        padding: str,
        activation: str,
        seeds: LayerSeeds | None,
        name: str,
        strides: int = 1,
    ) -> keras.layers.Layer: ...


@dataclasses.dataclass(frozen=True)
class Architecture:
    """Conv stack (filter counts, ``POOL`` for 2x2 max-pool) then dense stack.

    ``dense`` lists the hidden widths; the output layer (softmax) is implied.
    ``conv_padding`` gives one padding per conv (empty: ``padding`` for all);
    ``batchnorm`` puts a non-affine BatchNormalization between every conv and
    its activation; ``dropout`` > 0 puts a Dropout before every hidden dense
    layer; ``final_avg_pool`` > 0 average-pools by that factor before flattening.
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
}
WIDE_ARCHITECTURES = ("Conv4Wide", "Conv6Wide")


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


def build_network(
    arch: Architecture | str,
    input_shape: Sequence[int],
    num_classes: int,
    layers: LayerFactory,
    activation: str = "relu",
    seeds: Sequence[LayerSeeds] | None = None,
    name: str | None = None,
) -> keras.Model:
    """Functional model: convs -> flatten -> hidden dense -> softmax output."""
    if isinstance(arch, str):
        arch = get_architecture(arch)
    if seeds is not None and len(seeds) != arch.n_masked:
        raise ValueError(f"{arch.name} needs {arch.n_masked} layer seeds, got {len(seeds)}")
    seed_iter = iter(seeds) if seeds is not None else None

    def next_seeds() -> LayerSeeds | None:
        return next(seed_iter) if seed_iter is not None else None

    inputs = keras.Input(shape=tuple(input_shape), name="input")
    x = inputs
    n_conv = n_pool = 0
    paddings = arch.paddings
    for entry in arch.conv:
        if entry == POOL:
            n_pool += 1
            x = keras.layers.MaxPooling2D(pool_size=2, name=f"pool_{n_pool}")(x)
            continue
        n_conv += 1
        conv_activation = "linear" if arch.batchnorm else activation
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
    if len(x.shape) > 2:
        x = keras.layers.Flatten(name="flatten")(x)
    for j, units in enumerate(arch.dense, start=1):
        if arch.dropout:
            x = keras.layers.Dropout(arch.dropout, name=f"dropout_{j}")(x)
        x = layers.dense(units, activation, next_seeds(), f"dense_{j}")(x)
    outputs = layers.dense(num_classes, "softmax", next_seeds(), "output")(x)
    return keras.Model(inputs, outputs, name=name or arch.name)


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
