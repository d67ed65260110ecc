"""masktrainer: train the wiring of networks whose weights stay at their random init.

Self-pruning and sign flipping (Ivan & Florian 2020), edge-popup (Ramanujan et
al. 2020), Slot Machines (Aladago & Torresani 2021), LaPerm (Qiu & Suda 2020)
and supermask sampling (Zhou et al. 2019) on Keras 3 / TensorFlow.

The package layout: :mod:`masktrainer.methods` (one subpackage per method),
:mod:`masktrainer.nn` (architectures, layer geometry, initializers, seeds),
:mod:`masktrainer.data`, :mod:`masktrainer.run` (trainer, run directories,
checkpoints), :mod:`masktrainer.export`; :mod:`masktrainer.config` and
:mod:`masktrainer.cli` sit on top.

The names below load on first use, so ``python -m masktrainer`` checks its
command line before TensorFlow is imported. Importing the package registers
its layers, initializers and optimizers with Keras as soon as Keras is loaded
(at once if it is, else right after ``import keras``: :mod:`laperm.keras_hook`),
so ``keras.models.load_model`` reads any run's saved model whatever the
import order; :func:`load_model` does the same.
"""

from __future__ import annotations

import importlib
import os

from laperm.keras_hook import when_keras_loads

# Quieten TensorFlow's C++ start-up chatter unless the user asked for it.
from masktrainer import quiet as _quiet  # noqa: E402,F401  (sets TF_CPP_MIN_LOG_LEVEL)
from masktrainer.version import __version__  # noqa: E402,F401

_EXPORTS = {
    "ConfigError": "masktrainer.errors",
    "RunConfig": "masktrainer.config",
    "METHODS": "masktrainer.methods",
    "get_method": "masktrainer.methods",
    "build_model": "masktrainer.methods",
    "Trainer": "masktrainer.run.trainer",
    "TrainResult": "masktrainer.run.trainer",
    "train": "masktrainer.run.trainer",
    "load_data": "masktrainer.run.loading",
    "ARCHITECTURES": "masktrainer.nn.architectures",
    "build_network": "masktrainer.nn.build",
    "DenseReferenceLayers": "masktrainer.nn.layer_factory",
    "MethodLayer": "masktrainer.nn.method_layer",
    "MaskedLayer": "masktrainer.nn.method_layer",
    "FanInUniformScores": "masktrainer.nn.initializers",
    "KaimingWeights": "masktrainer.nn.initializers",
    "ScoreUniform": "masktrainer.nn.initializers",
    "ShiftedNormal": "masktrainer.nn.initializers",
    "SignedConstant": "masktrainer.nn.initializers",
    "TruncatedVarianceScaling": "masktrainer.nn.initializers",
    "L2MomentumSGD": "masktrainer.methods.optim",
    "MaskedConv2D": "masktrainer.methods.self_pruning.layers",
    "MaskedDense": "masktrainer.methods.self_pruning.layers",
    "SelfPruningLayers": "masktrainer.methods.self_pruning.layers",
    "EdgePopupConv2D": "masktrainer.methods.edge_popup.layers",
    "EdgePopupDense": "masktrainer.methods.edge_popup.layers",
    "EdgePopupLayers": "masktrainer.methods.edge_popup.layers",
    "SlotConv2D": "masktrainer.methods.slot_machines.layers",
    "SlotDense": "masktrainer.methods.slot_machines.layers",
    "SlotMachineLayers": "masktrainer.methods.slot_machines.layers",
    "SlotScores": "masktrainer.methods.slot_machines.layers",
    "SlotValues": "masktrainer.methods.slot_machines.layers",
    "SupermaskConv2D": "masktrainer.methods.supermask_sampling.layers",
    "SupermaskDense": "masktrainer.methods.supermask_sampling.layers",
    "SupermaskLayers": "masktrainer.methods.supermask_sampling.layers",
    "connectivity_stats": "masktrainer.methods.counts",
    "to_plain_model": "masktrainer.export.plain",
    "load_compact": "masktrainer.export.compact",
}

__all__ = sorted([*_EXPORTS, "load_model", "register_keras_objects"])


def register_keras_objects() -> None:
    """Register every layer, initializer and optimizer of the library with Keras."""
    from masktrainer.methods import register_keras_objects as register

    register()


def load_model(path: str | os.PathLike, compile: bool = True):
    """``keras.models.load_model`` with the library's objects registered first."""
    import keras

    register_keras_objects()
    return keras.models.load_model(path, compile=compile)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        if _EXPORTS[name] not in ("masktrainer.errors", "masktrainer.config",
                                  "masktrainer.methods"):
            register_keras_objects()  # anything TensorFlow-based: make saved models loadable
        return value
    raise AttributeError(f"module 'masktrainer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)


# `keras.models.load_model` just works; registering imports modules of both packages.
when_keras_loads(register_keras_objects, ("masktrainer", "laperm"))
