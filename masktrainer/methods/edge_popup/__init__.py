"""Edge-popup (Ramanujan et al., CVPR 2020, arXiv:1911.13299): keep the top-k |score| per layer.

Frozen hidden-networks weights (``--initializer``, ``--scale_fan``), one score
per weight; each layer keeps exactly ``n - int((1 - keep_ratio) * n)``
connections. The recipe is the original ``smallscale`` configs': SGD momentum
0.9, L2 1e-4 on the scores, cosine schedule, lr 0.1, batch 128, 100 epochs.
``layers`` holds the top-k mask, the layers, their factory and the recorder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from masktrainer.errors import ConfigError
from masktrainer.methods.base import Method, check_choice, group_root
from masktrainer.methods.edge_popup.options import OPTIONS
from masktrainer.methods.figures import Figures
from masktrainer.methods.hidden_networks import (
    hidden_networks_data,
    hidden_networks_evaluation,
    imagenet_recipe,
)
from masktrainer.methods.recipe import Recipe
from masktrainer.methods.runtime import Runtime
from masktrainer.nn.names import FAN_SCALED_INITS, HIDDEN_NETWORKS_INITS
from masktrainer.options import Draft

if TYPE_CHECKING:
    import keras

    from masktrainer.config import RunConfig


class EdgePopupRecipe(Recipe):
    initializers = HIDDEN_NETWORKS_INITS
    options = OPTIONS

    traintype = "EdgePopup"  # how its errors name it (biprop's recipe extends this one)

    def imagenet_lr(self, draft: Draft) -> float:
        """hidden-networks' largescale rates: 0.1 for its ResNet50 signed-constant scale-fan
        config, 0.256 for the others."""
        return 0.1 if draft.nettype == "ResNet50" and draft.scale_fan \
            and draft.initializer == "signed_constant" else 0.256

    def defaults(self, draft: Draft) -> None:
        draft.put("initializer", "kaiming_normal")
        draft.put("keep_ratio", 0.5)
        if draft.dataset == "imagenet2012":
            imagenet_recipe(draft, self.imagenet_lr(draft))
        resnet = draft.nettype == "cResNet18"  # smallscale/resnet18: batch 256, L2 5e-4
        draft.put("lr", 0.1)
        draft.put("batchsize", 256 if resnet else 128)
        draft.put("maxepochs", 100)
        draft.put("optimizer", "sgd")
        draft.put("weight_decay", 5e-4 if resnet else 1e-4)
        draft.put("lr_schedule", "cosine")
        hidden_networks_data(draft)

    def original_evaluation(self, draft: Draft) -> None:
        hidden_networks_evaluation(draft)

    def validate(self, cfg: RunConfig) -> None:
        check_choice("--initializer", cfg.initializer, self.initializers,
                     f" (the initializers of --traintype={self.traintype})")
        if cfg.scale_fan and cfg.initializer not in FAN_SCALED_INITS:
            raise ConfigError(f"--scale_fan has no effect on {cfg.initializer} in the original; "
                              "drop it")
        if cfg.scale_fan_rule != "original" and not cfg.scale_fan:
            raise ConfigError("--scale_fan_rule needs --scale_fan")
        if cfg.scale_fan and cfg.scale_fan_rule == "original" and cfg.keep_ratio == 1.0:
            raise ConfigError("--scale_fan with --keep_ratio=1 scales the fan by 1 - 1 = 0")

    def run_folder(self, cfg: RunConfig) -> Path:
        fan = "_scalefan" if cfg.scale_fan else ""
        return (group_root(cfg) / f"KEEP_{cfg.keep_ratio}"
                / f"{cfg.initializer}{fan}_{cfg.activation}_LR{cfg.lr}")

    def describe(self, cfg: RunConfig) -> str:
        fan = f" (scale_fan {cfg.scale_fan_rule})" if cfg.scale_fan else ""
        return f"keep_ratio {cfg.keep_ratio}, init {cfg.initializer}{fan}"

    def example(self) -> dict[str, Any]:
        return {"keep_ratio": 0.3, "initializer": "signed_constant", "lr": 0.1}


class EdgePopupRuntime(Runtime):
    keras_modules = ("masktrainer.methods.edge_popup.layers",)

    def layers(self, cfg: RunConfig):
        from masktrainer.methods.edge_popup.layers import EdgePopupLayers

        return EdgePopupLayers.from_config(cfg)

    def recorder(self, cfg: RunConfig, model: keras.Model):
        from masktrainer.methods.edge_popup.layers import EdgePopupRecorder

        return EdgePopupRecorder(model)


METHOD = Method(
    key="edge_popup",
    title="edge-popup (Ramanujan et al. 2020)",
    summary="keeps the top --keep_ratio of |score| per layer",
    train_types=("EdgePopup",),
    position=20,
    recipe=EdgePopupRecipe(),
    runtime=EdgePopupRuntime(),
    figures=Figures(legend_fields=("keep_ratio",)),
)
