"""Biprop (Diffenderfer & Kailkhura, ICLR 2021, arXiv:2103.09377): multi-prize tickets.

Edge-popup's frozen hidden-networks weights and top-k |score| mask per layer
(``--keep_ratio``, ``--initializer``, ``--scale_fan``), with every kept weight
binarised to ``sign(w) * alpha`` and one alpha per layer: the mean |w| of the kept
weights (``--alpha_rule``), recomputed at every forward pass. The recipe is the original
smallscale configs' (hidden-networks' own): SGD momentum 0.9, cosine schedule, lr 0.1,
100 epochs, batch 128 and L2 1e-4 (cResNet18: 256 and 5e-4), non-affine BN. The spec is
docs/methods.md ("Biprop in detail"); ``layers`` holds the layers, their factory and the recorder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from masktrainer.methods.base import Method
from masktrainer.methods.biprop.options import OPTIONS
from masktrainer.methods.edge_popup import EdgePopupRecipe
from masktrainer.methods.figures import Figures
from masktrainer.methods.runtime import Runtime
from masktrainer.options import Draft

#: Initializers whose weights all have one magnitude per layer: there a kept weight can keep
#: its value (alpha = |w| when the divisor is the kept count); any other draws a new value.
CONSTANT_MAGNITUDE_INITS = ("signed_constant", "unsigned_constant", "xavier_constant")

if TYPE_CHECKING:
    import keras

    from masktrainer.config import RunConfig


class BipropRecipe(EdgePopupRecipe):
    """Edge-popup's recipe (hidden-networks' smallscale configs, its data and protocol, its
    checks) with biprop's options, its ImageNet rate and alpha's rule in folder and line."""

    options = OPTIONS
    traintype = "Biprop"
    # The original has no --prune-rate default (its configs say -1 and refuse to run without
    # one); edge-popup's 0.5, the middle of the paper's CIFAR-10 sweep, is kept.

    def imagenet_lr(self, draft: Draft) -> float:
        return 0.256  # its largescale configs: hidden-networks' recipe at 0.256 throughout

    def run_folder(self, cfg: RunConfig) -> Path:
        folder = super().run_folder(cfg)
        alpha = "" if cfg.alpha_rule == "original" else f"_alpha{cfg.alpha_rule}"
        return folder.with_name(folder.name + alpha)

    def describe(self, cfg: RunConfig) -> str:
        return f"{super().describe(cfg)}, alpha_rule {cfg.alpha_rule}"


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
