"""hidden-networks' learned-weights baselines (``DenseConv``): the same networks with trained weights.

The weights start from ``--initializer`` (the original's ``kaiming_normal`` by default) and
train normally; there are no scores. The recipes are the original's
``smallscale_baselines/dense`` configs: ``--optimizer sgd`` (default): lr 0.01, cosine, batch
128, L2 1e-4 (FC = LeNet: lr 0.1, ``fc_sgd_baseline``; Conv4Wide/Conv6Wide: lr 0.1, the
"hlr" configs; cResNet18: lr 0.1, batch 256, L2 5e-4, learned BatchNorm); ``--optimizer
adam``: lr 1.2e-3 (FC = LeNet) / 2e-4 (Conv2) / 3e-4 (the others), batch 60, constant; 100
epochs; hidden-networks' data pipeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from masktrainer.methods.base import Method, check_choice, group_root
from masktrainer.methods.hidden_networks import (
    hidden_networks_data,
    hidden_networks_evaluation,
    imagenet_recipe,
)
from masktrainer.methods.recipe import Recipe
from masktrainer.methods.runtime import Runtime
from masktrainer.nn.names import HIDDEN_NETWORKS_INITS
from masktrainer.options import Draft

if TYPE_CHECKING:
    from masktrainer.config import RunConfig

SGD_RECIPES = {  # nettype -> (lr, batch, weight decay); the rest: 0.01, 128, 1e-4
    "LeNet": (0.1, 128, 1e-4),  # fc/fc_sgd_baseline.yml
    "Conv4Wide": (0.1, 128, 1e-4),
    "Conv6Wide": (0.1, 128, 1e-4),
    "cResNet18": (0.1, 256, 5e-4),
}
ADAM_LR = {"LeNet": 1.2e-3, "Conv2": 2e-4}  # the rest: 3e-4 (batch 60, constant)


class DenseBaselineRecipe(Recipe):
    initializers = HIDDEN_NETWORKS_INITS

    def defaults(self, draft: Draft) -> None:
        draft.put("initializer", "kaiming_normal")
        draft.put("optimizer", "sgd")
        if draft.dataset == "imagenet2012":
            imagenet_recipe(draft, 0.256)  # largescale/baselines
        if draft.optimizer == "sgd":
            lr, batch, decay = SGD_RECIPES.get(draft.nettype, (0.01, 128, 1e-4))
            draft.put("lr_schedule", "cosine")
        else:
            lr, batch, decay = ADAM_LR.get(draft.nettype, 3e-4), 60, 0.0
            draft.put("lr_schedule", "constant")
        draft.put("lr", lr)
        draft.put("batchsize", batch)
        draft.put("weight_decay", decay)
        draft.put("maxepochs", 100)
        hidden_networks_data(draft)

    def original_evaluation(self, draft: Draft) -> None:
        hidden_networks_evaluation(draft)

    def validate(self, cfg: RunConfig) -> None:
        check_choice("--initializer", cfg.initializer, self.initializers,
                     " (the initializers of --traintype=DenseBaseline)")

    def trainable(self, cfg: RunConfig) -> tuple[bool, bool]:
        return True, False

    def run_folder(self, cfg: RunConfig) -> Path:
        return group_root(cfg) / cfg.optimizer / f"{cfg.initializer}_{cfg.activation}_LR{cfg.lr}"

    def describe(self, cfg: RunConfig) -> str:
        return f"trained weights from {cfg.initializer}"

    def example(self) -> dict[str, Any]:
        return {"lr": 0.05}


class DenseBaselineRuntime(Runtime):
    def layers(self, cfg: RunConfig):
        from masktrainer.methods.dense_baseline.layers import HiddenNetworksDenseLayers

        return HiddenNetworksDenseLayers(cfg.initializer, cfg.p1)

    def network_options(self, cfg: RunConfig) -> dict[str, Any]:
        return {"affine_batchnorm": True}  # LearnedBatchNorm, as resnet18-dense.yaml


METHOD = Method(
    key="dense_baseline",
    title="hidden-networks' learned-weights baselines (DenseConv)",
    summary="trains the weights themselves (hidden-networks' dense baselines)",
    train_types=("DenseBaseline",),
    position=60,
    recipe=DenseBaselineRecipe(),
    runtime=DenseBaselineRuntime(),
)
