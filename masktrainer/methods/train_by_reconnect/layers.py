"""The layers LaPerm builds the shared architectures from (``--shared_net``)."""

from __future__ import annotations

import dataclasses

import keras

from masktrainer.nn.layer_factory import DenseReferenceLayers, seed_of
from masktrainer.nn.seeds import LayerSeeds


@dataclasses.dataclass(frozen=True)
class HeUniformLayers(DenseReferenceLayers):
    """Plain bias-free ``Dense``/``Conv2D`` with He uniform kernels (the notebooks' init):
    LaPerm trains them with its inner optimizer and re-permutes each unit's initial values."""

    def _init(self, seeds: LayerSeeds | None, dense: bool) -> keras.initializers.Initializer:
        return keras.initializers.HeUniform(seed=seed_of(seeds, "kernel"))
