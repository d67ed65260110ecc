"""Supermask sampling (Zhou et al. 2019, "Deconstructing Lottery Tickets", arXiv:1905.01067).

The baseline edge-popup compares against, as hidden-networks' ``SampleSubnetConv``
runs it: frozen weights (``--initializer``), one score per weight, and at every
forward pass a mask sampled from Bernoulli(sigmoid(score)) with a
straight-through gradient to sigmoid(score) (then through the sigmoid). There
is no kept fraction to set; the pruned fraction is whatever the scores imply.

Evaluation: the original samples at evaluation too (``--eval_mask sample``).
The default here is the deterministic mask ``sigmoid(score) > 0.5`` (``threshold``:
a fixed subnetwork, the most likely sample, which exports as 1 bit per weight);
``expected`` applies the mean mask ``sigmoid(score)``. Per epoch the run records
the original's pruned-fraction estimate (10 samples of ``rand >= p`` per layer,
``prunedFractionEstimatePerLayer``, and their unweighted mean over layers,
``prunedFractionEstimate``, which the original wrote to its results file as the
prune rate), plus the mask counts of the evaluation mask.

The recipe is the original ``smallscale_baselines/sample`` configs': SGD
momentum 0.9, no weight decay, cosine schedule, 100 epochs, batch 128, lr 200
(Conv2/4/6 and the wide ones), 800 (Conv8); the original has no MNIST config,
and LeNet takes lr 200 as well (docs/methods.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from masktrainer.methods.base import Method, check_choice, group_root
from masktrainer.methods.figures import Figures
from masktrainer.methods.hidden_networks import hidden_networks_data, hidden_networks_evaluation
from masktrainer.methods.recipe import Recipe
from masktrainer.methods.runtime import Runtime
from masktrainer.methods.supermask_sampling.options import OPTIONS
from masktrainer.nn.names import HIDDEN_NETWORKS_INITS
from masktrainer.options import Draft

if TYPE_CHECKING:
    import keras

    from masktrainer.config import RunConfig

# sample/*.yml: lr per architecture (batch 128, cosine, 100 epochs, no weight decay).
SAMPLE_LR = {"Conv8": 800.0, "cResNet18": 400.0, "ResNet50": 400.0}  # ResNet50: ImageNet
DEFAULT_SAMPLE_LR = 200.0


class SupermaskRecipe(Recipe):
    initializers = HIDDEN_NETWORKS_INITS
    options = OPTIONS

    def defaults(self, draft: Draft) -> None:
        draft.put("initializer", "kaiming_normal")
        draft.put("eval_mask", "expected")
        draft.put("lr", SAMPLE_LR.get(draft.nettype, DEFAULT_SAMPLE_LR))
        draft.put("batchsize", 256 if draft.dataset == "imagenet2012" else 128)
        draft.put("maxepochs", 100)
        draft.put("optimizer", "sgd")
        draft.put("weight_decay", 0.0)
        draft.put("lr_schedule", "cosine")
        hidden_networks_data(draft)

    def original_evaluation(self, draft: Draft) -> None:
        hidden_networks_evaluation(draft)

    def validate(self, cfg: RunConfig) -> None:
        check_choice("--initializer", cfg.initializer, self.initializers,
                     " (the initializers of --traintype=SupermaskSampling)")

    def run_folder(self, cfg: RunConfig) -> Path:
        start = "" if cfg.score_init_constant is None else f"_S{cfg.score_init_constant}"
        return (group_root(cfg) / f"EVAL_{cfg.eval_mask}"
                / f"{cfg.initializer}{start}_{cfg.activation}_LR{cfg.lr}")

    def describe(self, cfg: RunConfig) -> str:
        start = ("U(+-1/sqrt(fan_in))" if cfg.score_init_constant is None
                 else str(cfg.score_init_constant))
        return f"init {cfg.initializer}, scores from {start}, evaluation mask {cfg.eval_mask}"

    def example(self) -> dict[str, Any]:
        return {"eval_mask": "threshold", "lr": 50.0}


class SupermaskRuntime(Runtime):
    keras_modules = ("masktrainer.methods.supermask_sampling.layers",)

    def layers(self, cfg: RunConfig):
        from masktrainer.methods.supermask_sampling.layers import SupermaskLayers

        return SupermaskLayers(cfg.initializer, cfg.eval_mask, cfg.score_init_constant, cfg.p1)

    def recorder(self, cfg: RunConfig, model: keras.Model):
        from masktrainer.methods.supermask_sampling.layers import SupermaskRecorder

        return SupermaskRecorder(model)


class SupermaskFigures(Figures):
    def changed_fraction(self, cfg: RunConfig, metrics: dict[str, Any],
                         run_dir: Path) -> float | None:
        """``threshold``: the fixed subnetwork's pruned masks. ``expected``/``sample``: the
        connections a sampled network drops (each layer's last pruned-fraction estimate,
        weighted by its size): the soft expected mask zeroes none, it rescales every one."""
        if cfg.eval_mask == "threshold":
            return super().changed_fraction(cfg, metrics, run_dir)
        last = (metrics.get("prunedFractionEstimatePerLayer") or [None])[-1]
        sizes = metrics.get("layer_sizes")
        if not last or not sizes or len(last) != len(sizes) or any(v is None for v in last):
            return None
        return sum(values[0] * size for values, size in zip(last, sizes)) / sum(sizes)


METHOD = Method(
    key="supermask_sampling",
    title="supermask sampling (Zhou et al. 2019)",
    summary="samples Bernoulli(sigmoid(score)) masks at every step",
    train_types=("SupermaskSampling",),
    position=50,
    recipe=SupermaskRecipe(),
    runtime=SupermaskRuntime(),
    figures=SupermaskFigures(),
)
