"""masktrainer: train the wiring of networks whose weights stay at their random init.

Self-pruning and sign flipping (Ivan & Florian 2020), edge-popup (Ramanujan et
al. 2020) and Slot Machines (Aladago & Torresani 2021) on Keras 3 / TensorFlow.
Importing the package registers its layers and initializers with Keras, so
``keras.models.load_model("model.keras")`` works after ``import masktrainer``.
"""

import os

# Quieten TensorFlow's C++ start-up chatter unless the user asked for it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from masktrainer.config import ConfigError, RunConfig  # noqa: E402
from masktrainer.initializers import (  # noqa: E402
    ScoreUniform,
    ShiftedNormal,
    SignedConstant,
    TruncatedVarianceScaling,
)
from masktrainer.edgepopup import EdgePopupConv2D, EdgePopupDense  # noqa: E402
from masktrainer.layers import MaskedConv2D, MaskedDense  # noqa: E402
from masktrainer.method_initializers import (  # noqa: E402
    FanInUniformScores,
    KaimingWeights,
    SlotScores,
    SlotValues,
)
from masktrainer.methods import (  # noqa: E402
    DenseReferenceLayers,
    EdgePopupLayers,
    SelfPruningLayers,
    SlotMachineLayers,
    build_model,
)
from masktrainer.optim import L2MomentumSGD  # noqa: E402
from masktrainer.slots import SlotConv2D, SlotDense  # noqa: E402
from masktrainer.networks import ARCHITECTURES, build_network  # noqa: E402
from masktrainer.stats import connectivity_stats  # noqa: E402
from masktrainer.trainer import Trainer, load_data, train  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ARCHITECTURES",
    "ConfigError",
    "DenseReferenceLayers",
    "EdgePopupConv2D",
    "EdgePopupDense",
    "EdgePopupLayers",
    "FanInUniformScores",
    "KaimingWeights",
    "L2MomentumSGD",
    "MaskedConv2D",
    "MaskedDense",
    "RunConfig",
    "ScoreUniform",
    "SelfPruningLayers",
    "ShiftedNormal",
    "SignedConstant",
    "SlotConv2D",
    "SlotDense",
    "SlotMachineLayers",
    "SlotScores",
    "SlotValues",
    "Trainer",
    "TruncatedVarianceScaling",
    "build_model",
    "build_network",
    "connectivity_stats",
    "load_data",
    "train",
]
