"""Plain trainable layers with hidden-networks' weight initializers."""

from __future__ import annotations

import dataclasses

import keras

from masktrainer.nn.initializers import KaimingWeights
from masktrainer.nn.layer_factory import DenseReferenceLayers, seed_of
from masktrainer.nn.seeds import LayerSeeds


@dataclasses.dataclass(frozen=True)
class HiddenNetworksDenseLayers(DenseReferenceLayers):
    """Bias-free ``Dense``/``Conv2D`` whose kernels start from :class:`KaimingWeights`."""

    initializer: str = "kaiming_normal"

    def _init(self, seeds: LayerSeeds | None, dense: bool) -> keras.initializers.Initializer:
        return KaimingWeights(self.initializer, 1.0, p1=self.p1, seed=seed_of(seeds, "kernel"))
