"""Methods: how each training method builds the layers of an architecture.

``SelfPruningLayers`` builds :class:`MaskedDense` / :class:`MaskedConv2D`;
``EdgePopupLayers`` the top-k layers of :mod:`masktrainer.edgepopup`;
``SlotMachineLayers`` the K-value layers of :mod:`masktrainer.slots`;
``DenseReferenceLayers`` plain bias-free Keras layers with trainable kernels
(the benchmark's reference and the network slot-machine fine-tuning trains).
``build_model`` puts a :class:`RunConfig` together with an architecture.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Sequence

import keras

from masktrainer.config import RunConfig
from masktrainer.laperm_method import build_laperm_model
from masktrainer.resnet import build_resnet20
from masktrainer.edgepopup import EdgePopupConv2D, EdgePopupDense
from masktrainer.initializers import ScoreUniform, kernel_initializer
from masktrainer.layers import MaskedConv2D, MaskedDense
from masktrainer.method_initializers import (
    FanInUniformScores,
    KaimingWeights,
    SlotScores,
    SlotValues,
)
from masktrainer.networks import build_network, get_architecture
from masktrainer.seeds import LayerSeeds, layer_seeds
from masktrainer.slots import SlotConv2D, SlotDense


def _seed(seeds: LayerSeeds | None, which: str) -> int | None:
    return None if seeds is None else getattr(seeds, which)


class _LayerPair:
    """``dense``/``conv`` builders for a method's two layer classes.

    Subclasses name the classes and return the method's keyword arguments
    from ``_common(seeds, dense)``.
    """

    dense_class: ClassVar[type]
    conv_class: ClassVar[type]

    def _common(self, seeds: LayerSeeds | None, dense: bool) -> dict:
        raise NotImplementedError

    def dense(self, units, activation, seeds, name):
        return self.dense_class(units, activation=activation, name=name,
                                **self._common(seeds, True))

    def conv(self, filters, kernel_size, padding, activation, seeds, name, strides=1):
        return self.conv_class(
            filters, kernel_size, strides=strides, padding=padding, activation=activation, name=name,
            **self._common(seeds, False),
        )


@dataclasses.dataclass(frozen=True)
class SelfPruningLayers(_LayerPair):
    """Masked layers of Ivan & Florian (2020): fixed kernel, trained score."""

    dense_class: ClassVar[type] = MaskedDense
    conv_class: ClassVar[type] = MaskedConv2D

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

    def conv(self, filters, kernel_size, padding, activation, seeds, name, strides=1):
        init = kernel_initializer(
            self.initializer, seed=_seed(seeds, "kernel"), p1=self.p1, dense=False
        )
        return keras.layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            activation=activation,
            use_bias=False,
            kernel_initializer=init,
            name=name,
        )


def fan_scale(keep_ratio: float, scale_fan: bool, rule: str = "original") -> float:
    """Factor on the fan of edge-popup weights.

    The original multiplies the fan by ``1 - prune_rate`` although its
    ``prune_rate`` is the *kept* fraction elsewhere (``rule="original"``);
    ``rule="kept"`` scales by the kept fraction, i.e. the expected fan-in of the
    kept subnetwork.
    """
    if not scale_fan:
        return 1.0
    return (1.0 - keep_ratio) if rule == "original" else keep_ratio


@dataclasses.dataclass(frozen=True)
class EdgePopupLayers(_LayerPair):
    """Edge-popup layers (Ramanujan et al. 2020): frozen weights, top-k |score| per layer."""

    dense_class: ClassVar[type] = EdgePopupDense
    conv_class: ClassVar[type] = EdgePopupConv2D

    keep_ratio: float = 0.5
    initializer: str = "kaiming_normal"
    scale_fan: bool = False
    scale_fan_rule: str = "original"
    p1: float = 0.5

    def _common(self, seeds: LayerSeeds | None, dense: bool) -> dict:
        scale = fan_scale(self.keep_ratio, self.scale_fan, self.scale_fan_rule)
        return {
            "keep_ratio": self.keep_ratio,
            "kernel_initializer": KaimingWeights(
                self.initializer, scale, p1=self.p1, seed=_seed(seeds, "kernel")
            ),
            "score_initializer": FanInUniformScores(seed=_seed(seeds, "score")),
        }

    @classmethod
    def from_config(cls, cfg: RunConfig) -> "EdgePopupLayers":
        return cls(cfg.keep_ratio, cfg.initializer, cfg.scale_fan, cfg.scale_fan_rule, cfg.p1)


@dataclasses.dataclass(frozen=True)
class SlotMachineLayers(_LayerPair):
    """Slot-machine layers (Aladago & Torresani 2021): K fixed values, K scores per weight."""

    dense_class: ClassVar[type] = SlotDense
    conv_class: ClassVar[type] = SlotConv2D

    slots: int = 8
    selection: str = "greedy"
    eval_selection: str = "argmax"

    def _common(self, seeds: LayerSeeds | None, dense: bool) -> dict:
        score_seed = _seed(seeds, "score")
        return {
            "slots": self.slots,
            "selection": self.selection,
            "eval_selection": self.eval_selection,
            "values_initializer": SlotValues(seed=_seed(seeds, "kernel")),
            "score_initializer": SlotScores(seed=score_seed),
            "sample_seed": None if score_seed is None else score_seed + 1,
        }

    @classmethod
    def from_config(cls, cfg: RunConfig) -> "SlotMachineLayers":
        return cls(cfg.slots, cfg.selection, cfg.eval_selection)


def layer_factory(cfg: RunConfig):
    """The LayerFactory of the config's method."""
    if cfg.method == "edge_popup":
        return EdgePopupLayers.from_config(cfg)
    if cfg.method == "slot_machines":
        return SlotMachineLayers.from_config(cfg)
    if cfg.method == "slot_finetune":
        return DenseReferenceLayers()  # kernels are overwritten by the selected values
    return SelfPruningLayers.from_config(cfg)


def build_model(
    cfg: RunConfig, input_shape: Sequence[int], num_classes: int, run_seed: int
) -> keras.Model:
    """The model a config describes, seeded from ``run_seed``."""
    if cfg.method == "laperm":
        return build_laperm_model(cfg, input_shape, num_classes, run_seed)
    if cfg.nettype == "ResNet":
        return build_resnet20(input_shape, num_classes, layer_factory(cfg), run_seed,
                              quirks=cfg.resnet_quirks, name=f"ResNet20_{cfg.traintype}")
    arch = get_architecture(cfg.architecture, cfg.width_mult)
    seeds = layer_seeds(
        run_seed, len(arch.conv), arch.conv_positions, len(arch.dense) + 1, cfg.seeding
    )
    return build_network(
        arch,
        input_shape,
        num_classes,
        layer_factory(cfg),
        activation=cfg.activation,
        seeds=seeds,
        name=f"{cfg.nettype}_{cfg.traintype}",
    )
