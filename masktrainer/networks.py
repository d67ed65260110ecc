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
    ) -> keras.layers.Layer: ...


@dataclasses.dataclass(frozen=True)
class Architecture:
    """Conv stack (filter counts, ``POOL`` for 2x2 max-pool) then dense stack.

    ``dense`` lists the hidden widths; the output layer (softmax) is implied.
    """

    name: str
    conv: tuple[int | str, ...] = ()
    dense: tuple[int, ...] = ()
    kernel_size: int = 3
    padding: str = "same"

    @property
    def conv_positions(self) -> list[int]:
        return [i for i, entry in enumerate(self.conv) if entry != POOL]

    @property
    def n_masked(self) -> int:
        return len(self.conv_positions) + len(self.dense) + 1


ARCHITECTURES: dict[str, Architecture] = {
    "LeNet": Architecture("LeNet", dense=(300, 100)),
    "Conv2": Architecture("Conv2", conv=(64, 64, POOL), dense=(256, 256)),
    "Conv4": Architecture("Conv4", conv=(64, 64, POOL, 128, 128, POOL), dense=(256, 256)),
    "Conv6": Architecture(
        "Conv6",
        conv=(64, 64, POOL, 128, 128, POOL, 256, 256, POOL),
        dense=(256, 256),
    ),
}


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ValueError(
            f"unknown architecture {name!r}; expected one of {sorted(ARCHITECTURES)}"
        ) from None


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
    for entry in arch.conv:
        if entry == POOL:
            n_pool += 1
            x = keras.layers.MaxPooling2D(pool_size=2, name=f"pool_{n_pool}")(x)
        else:
            n_conv += 1
            x = layers.conv(
                int(entry), arch.kernel_size, arch.padding, activation, next_seeds(),
                f"conv_{n_conv}",
            )(x)
    if len(x.shape) > 2:
        x = keras.layers.Flatten(name="flatten")(x)
    for j, units in enumerate(arch.dense, start=1):
        x = layers.dense(units, activation, next_seeds(), f"dense_{j}")(x)
    outputs = layers.dense(num_classes, "softmax", next_seeds(), "output")(x)
    return keras.Model(inputs, outputs, name=name or arch.name)


def kernel_fan_ins(arch: Architecture | str, input_shape: Sequence[int], num_classes: int) -> list[int]:
    """fan_in of every kernel layer, in forward order (no model is built)."""
    if isinstance(arch, str):
        arch = get_architecture(arch)
    shape = list(input_shape)
    fans: list[int] = []
    for entry in arch.conv:
        if entry == POOL:
            shape = [shape[0] // 2, shape[1] // 2, shape[2]]
            continue
        k = arch.kernel_size
        fans.append(k * k * shape[2])
        if arch.padding == "valid":
            shape = [shape[0] - k + 1, shape[1] - k + 1, int(entry)]
        else:
            shape = [shape[0], shape[1], int(entry)]
    width = math.prod(shape)
    for units in (*arch.dense, num_classes):
        fans.append(width)
        width = units
    return fans


def kernel_parameter_count(model: keras.Model) -> int:
    """Number of weights in the kernels of all dense/conv layers of ``model``."""
    total = 0
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            total += math.prod(kernel.shape)
    return total
