"""Methods: how each training method builds the layers of an architecture.

``SelfPruningLayers`` builds :class:`MaskedDense` / :class:`MaskedConv2D`;
``DenseReferenceLayers`` builds plain bias-free Keras layers with trainable
kernels (the reference the benchmark compares against). ``build_model`` puts a
:class:`RunConfig` together with an architecture.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import keras

from masktrainer.config import RunConfig
from masktrainer.initializers import ScoreUniform, kernel_initializer
from masktrainer.layers import MaskedConv2D, MaskedDense
from masktrainer.networks import build_network, get_architecture
from masktrainer.seeds import LayerSeeds, layer_seeds


def _seed(seeds: LayerSeeds | None, which: str) -> int | None:
    return None if seeds is None else getattr(seeds, which)


@dataclasses.dataclass(frozen=True)
class SelfPruningLayers:
    """Masked layers of Ivan & Florian (2020): fixed kernel, trained score."""

    initializer: str = "he"
    masktype: str = "mask"
    train_weights: bool = False
    train_scores: bool = True
    alpha: float = 0.0
    p1: float = 0.5
    selu_is_elu: bool = False

    def _common(self, seeds: LayerSeeds | None, dense: bool) -> dict:
        return {
            "masktype": self.masktype,
            "train_weights": self.train_weights,
            "train_scores": self.train_scores,
            "alpha": self.alpha,
            "selu_is_elu": self.selu_is_elu,
            "kernel_initializer": kernel_initializer(
                self.initializer, seed=_seed(seeds, "kernel"), p1=self.p1, dense=dense
            ),
            "score_initializer": ScoreUniform(0.01, 0.1, seed=_seed(seeds, "score")),
        }

    def dense(self, units, activation, seeds, name):
        return MaskedDense(units, activation=activation, name=name, **self._common(seeds, True))

    def conv(self, filters, kernel_size, padding, activation, seeds, name):
        return MaskedConv2D(
            filters,
            kernel_size,
            padding=padding,
            activation=activation,
            name=name,
            **self._common(seeds, False),
        )

    @classmethod
    def from_config(cls, cfg: RunConfig) -> "SelfPruningLayers":
        return cls(
            initializer=cfg.initializer,
            masktype=cfg.masktype,
            train_weights=cfg.train_weights,
            train_scores=cfg.train_scores,
            alpha=cfg.alpha,
            p1=cfg.p1,
            selu_is_elu=cfg.selu_is_elu,
        )


@dataclasses.dataclass(frozen=True)
class DenseReferenceLayers:
    """Plain bias-free ``keras.layers.Dense`` / ``Conv2D`` with trainable kernels."""

    initializer: str = "he"
    p1: float = 0.5

    def dense(self, units, activation, seeds, name):
        init = kernel_initializer(self.initializer, seed=_seed(seeds, "kernel"), p1=self.p1)
        return keras.layers.Dense(
            units, activation=activation, use_bias=False, kernel_initializer=init, name=name
        )

    def conv(self, filters, kernel_size, padding, activation, seeds, name):
        init = kernel_initializer(
            self.initializer, seed=_seed(seeds, "kernel"), p1=self.p1, dense=False
        )
        return keras.layers.Conv2D(
            filters,
            kernel_size,
            padding=padding,
            activation=activation,
            use_bias=False,
            kernel_initializer=init,
            name=name,
        )


def build_model(
    cfg: RunConfig, input_shape: Sequence[int], num_classes: int, run_seed: int
) -> keras.Model:
    """The self-pruning model a config describes, seeded from ``run_seed``."""
    arch = get_architecture(cfg.nettype)
    seeds = layer_seeds(
        run_seed, len(arch.conv), arch.conv_positions, len(arch.dense) + 1, cfg.seeding
    )
    return build_network(
        arch,
        input_shape,
        num_classes,
        SelfPruningLayers.from_config(cfg),
        activation=cfg.activation,
        seeds=seeds,
        name=f"{cfg.nettype}_{cfg.traintype}",
    )
