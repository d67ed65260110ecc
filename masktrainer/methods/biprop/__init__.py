"""Biprop (Diffenderfer & Kailkhura, ICLR 2021, arXiv:2103.09377): multi-prize tickets.

Edge-popup's frozen hidden-networks weights and top-k |score| mask per layer
(``--keep_ratio``, ``--initializer``, ``--scale_fan``), with every kept weight
binarised to ``sign(w) * alpha`` and one alpha per layer: the mean |w| of the kept
weights (``--alpha_rule``), recomputed at every forward pass. The recipe is the original
smallscale configs' (hidden-networks' own): SGD momentum 0.9, cosine schedule, lr 0.1,
100 epochs, batch 128 and L2 1e-4 (cResNet18: 256 and 5e-4), non-affine BN. The spec is
docs/biprop.md; ``layers`` holds the layers, their factory and the recorder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from masktrainer.errors import ConfigError
from masktrainer.methods.base import Method, check_choice, group_root
from masktrainer.methods.biprop.options import OPTIONS
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

#: Initializers whose weights all have one magnitude per layer: there a kept weight can keep
#: its value (alpha = |w| when the divisor is the kept count); any other draws a new value.
CONSTANT_MAGNITUDE_INITS = ("signed_constant", "unsigned_constant", "xavier_constant")

if TYPE_CHECKING:
    import keras

    from masktrainer.config import RunConfig


class BipropRecipe(Recipe):
    initializers = HIDDEN_NETWORKS_INITS
    options = OPTIONS

    def defaults(self, draft: Draft) -> None:
        draft.put("initializer", "kaiming_normal")
        # The original has no default (its configs say -1 and refuse to run without
        # --prune-rate); 0.5 is the middle of the paper's CIFAR-10 sweep.
        draft.put("keep_ratio", 0.5)
        if draft.dataset == "imagenet2012":  # its largescale configs: hidden-networks' recipe
            imagenet_recipe(draft, 0.256)
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
                     " (the initializers of --traintype=Biprop)")
        if cfg.scale_fan and cfg.initializer not in FAN_SCALED_INITS:
            raise ConfigError(f"--scale_fan has no effect on {cfg.initializer} in the original; "
                              "drop it")
        if cfg.scale_fan_rule != "original" and not cfg.scale_fan:
            raise ConfigError("--scale_fan_rule needs --scale_fan")
        if cfg.scale_fan and cfg.scale_fan_rule == "original" and cfg.keep_ratio == 1.0:
            raise ConfigError("--scale_fan with --keep_ratio=1 scales the fan by 1 - 1 = 0")

    def run_folder(self, cfg: RunConfig) -> Path:
        fan = "_scalefan" if cfg.scale_fan else ""
        alpha = "" if cfg.alpha_rule == "original" else f"_alpha{cfg.alpha_rule}"
        return (group_root(cfg) / f"KEEP_{cfg.keep_ratio}"
                / f"{cfg.initializer}{fan}_{cfg.activation}_LR{cfg.lr}{alpha}")

    def describe(self, cfg: RunConfig) -> str:
        fan = f" (scale_fan {cfg.scale_fan_rule})" if cfg.scale_fan else ""
        return (f"keep_ratio {cfg.keep_ratio}, init {cfg.initializer}{fan}, "
                f"alpha_rule {cfg.alpha_rule}")

    def example(self) -> dict[str, Any]:
        return {"keep_ratio": 0.3, "initializer": "signed_constant", "lr": 0.1}



class BipropRuntime(Runtime):
    keras_modules = ("masktrainer.methods.biprop.layers",)

    def layers(self, cfg: RunConfig):
        from masktrainer.methods.biprop.layers import BipropLayers

        return BipropLayers.from_config(cfg)

    def recorder(self, cfg: RunConfig, model: keras.Model):
        from masktrainer.methods.biprop.layers import BipropRecorder

        return BipropRecorder(model)


class BipropFigures(Figures):
    def changed_fraction(self, cfg: RunConfig, metrics: dict[str, Any],
                         run_dir: Path) -> float | None:
        """Every weight of random magnitude changes (kept ones become +-alpha, the others
        0). With one magnitude per layer a kept weight keeps its value where alpha's divisor
        is the kept count, so only the pruned ones change; elsewhere all do."""
        if cfg.initializer not in CONSTANT_MAGNITUDE_INITS:
            return 1.0
        from masktrainer.methods.biprop.layers import alpha_denominator
        from masktrainer.methods.counts import changed_from_counts
        from masktrainer.methods.edge_popup.layers import kept_count

        sizes = metrics.get("layer_sizes") or []
        if any(alpha_denominator(n, cfg.keep_ratio, cfg.alpha_rule)
               != kept_count(n, cfg.keep_ratio) for n in sizes):
            return 1.0
        return changed_from_counts(metrics)


METHOD = Method(
    key="biprop",
    title="biprop (Diffenderfer & Kailkhura 2021)",
    summary="keeps the top --keep_ratio of |score| per layer, binarised to +-alpha",
    train_types=("Biprop",),
    position=55,
    recipe=BipropRecipe(),
    runtime=BipropRuntime(),
    figures=BipropFigures(legend_fields=("keep_ratio", "alpha_rule")),
)
