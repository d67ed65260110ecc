"""LaPerm / Train-by-Reconnect (Qiu & Suda 2020, arXiv:2003.02570) in the shared trainer.

``--traintype LaPerm`` trains the notebook models (:mod:`laperm.models`) with
:class:`laperm.LaPerm` around Adam. Each ``--nettype`` carries its notebook's
recipe as defaults (batch size, epochs, lr schedule, sync period k, bias/BN
skipping, input normalisation, augmentation, weight-agnostic init for F1/F2);
every one of them can be overridden by its flag. ``recorder`` holds the
per-epoch statistics and the evaluation on reconnected weights.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from laperm.names import AUGMENTATION_SETTINGS, MODEL_NAMES, TIE_BREAKS
from masktrainer.errors import ConfigError
from masktrainer.methods.base import Method, group_root
from masktrainer.methods.compat import Compat
from masktrainer.methods.figures import Figures
from masktrainer.methods.recipe import Recipe
from masktrainer.methods.runtime import Runtime, training_augmentation
from masktrainer.methods.train_by_reconnect.checkpoints import NotebookCheckpoints
from masktrainer.options import Draft, Option

if TYPE_CHECKING:
    import keras

    from masktrainer.config import RunConfig

LAPERM_NETS = MODEL_NAMES
# The other methods' networks, trained by LaPerm with plain bias-free layers (He uniform, as the
# notebooks' convs) so that every method can be compared on the same net; LeNet, Conv6 and
# Conv8 have no notebook model of that name, Conv2/Conv4 need --shared_net.
SHARED_NETS = ("LeNet", "Conv2", "Conv4", "Conv6", "Conv8")
LR_SCHEDULES = ("exp_decay", "step_decay", "laperm_resnet")  # the notebooks' (--lr_schedule)


@dataclasses.dataclass(frozen=True)
class NotebookRecipe:
    dataset: str
    batchsize: int
    maxepochs: int
    lr_schedule: str
    sync_period: int
    skip_bias: bool
    normalization: str
    agnostic: tuple[float, tuple[tuple[int, int], ...]] | None = None  # value, keep per variable


RECIPES = {
    # F1/F2: weight-agnostic (one shared value, random zeros), no augmentation.
    "F1": NotebookRecipe("mnist", 128, 10, "exp_decay", 250, False, "scale01",
                         (0.08, ((4, 7),))),
    "F2": NotebookRecipe("mnist", 128, 25, "exp_decay", 250, False, "scale01",
                         (0.03, ((1, 15), (1, 7), (1, 3)))),
    # Conv7: the notebook's k = 20 (the README table says 1200).
    "Conv7": NotebookRecipe("mnist", 50, 45, "exp_decay", 20, False, "scale01"),
    # CIFAR convs: the notebooks meant to standardise but trained on raw pixels
    # (--normalization raw255 reproduces that).
    "Conv2": NotebookRecipe("cifar10", 50, 125, "step_decay", 1000, True, "train_stats"),
    "Conv4": NotebookRecipe("cifar10", 50, 125, "step_decay", 1000, True, "train_stats"),
    "Conv13": NotebookRecipe("cifar10", 50, 125, "step_decay", 1000, True, "train_stats"),
    "ResNet50": NotebookRecipe("cifar10", 50, 200, "laperm_resnet", 800, True, "mean_only"),
}
# The shared nets take the recipe of the notebooks' nets of their data set: F2's (the MLP) on
# MNIST, the CIFAR convs' on CIFAR-10 (no augmentation: the shared nets have none of their own).
SHARED_RECIPES = {"mnist": RECIPES["F2"], "cifar10": RECIPES["Conv4"]}


def is_shared(cfg: RunConfig | Draft) -> bool:
    """Whether the run builds the shared architecture of --nettype (not a notebook model)."""
    return bool(cfg.shared_net) or cfg.nettype not in LAPERM_NETS


def _recipe(cfg: RunConfig | Draft) -> NotebookRecipe:
    if is_shared(cfg):
        return SHARED_RECIPES["mnist" if cfg.nettype == "LeNet" else "cifar10"]
    return RECIPES.get(cfg.nettype, RECIPES["Conv4"])


def laperm_learning_rate(schedule: str, lr: float, epoch: int) -> float:
    """The notebooks' per-epoch rates (0-based epoch)."""
    if schedule == "exp_decay":
        return lr * 0.95**epoch
    if schedule == "step_decay":
        return lr * 0.6 ** (epoch // 10)
    if schedule == "laperm_resnet":
        for boundary, factor in ((180, 0.5e-3), (160, 1e-3), (120, 1e-2), (80, 1e-1)):
            if epoch > boundary:
                return lr * factor
        return lr
    raise ValueError(f"unknown LaPerm lr schedule {schedule!r}")


class TrainByReconnectRecipe(Recipe):
    initializers = ("notebook",)
    nettypes = tuple(dict.fromkeys(LAPERM_NETS + SHARED_NETS))
    lr_schedules = LR_SCHEDULES
    options = (
        Option("sync_period", int, None, "LaPerm: k, re-permute every k steps (default: the "
               "notebook's: F1/F2 250, Conv7 20, CIFAR convs 1000, ResNet50 800).", minimum=1,
               maximum=2**31 - 1, why="a step count beyond 32 bits", group="laperm"),
        Option("skip_bias", bool, None, "LaPerm: train biases freely instead of permuting them "
               "(default: the notebook's; Conv7 permutes them).", group="laperm"),
        Option("skip_bn", bool, None, "LaPerm: train BN gamma/beta freely (default true).",
               group="laperm"),
        Option("tie_break", str, None, "LaPerm: how a sync orders equal weights: position "
               "(default: the original's tf.argsort in practice) or random (seeded by the run "
               "seed and the step).", choices=TIE_BREAKS, group="laperm"),
        Option("shared_net", bool, None, "LaPerm: build --nettype as the other methods do (the "
               "shared LeNet/Conv2/4/6/8 with plain bias-free layers, He uniform weights) "
               "instead of the notebook model of that name; LeNet, Conv6, Conv8 always are.",
               group="laperm"),
        Option("random_keep_ratio", float, None, "LaPerm: randomly zero all but this fraction "
               "of the initial weights before training (the paper's p = 1 - this; first layer "
               "keeps >= 0.8).", minimum=0.0, maximum=1.0, exclusive_minimum=True,
               group="laperm"),
    )

    def fill(self, draft: Draft) -> None:
        recipe = RECIPES.get(draft.nettype)
        if recipe:  # the notebook's data set (the shared fill keeps it)
            draft.put("dataset", recipe.dataset)
        super().fill(draft)

    def defaults(self, draft: Draft) -> None:
        # An unknown net gets a placeholder recipe; validate then names the problem.
        draft.put("shared_net", draft.nettype not in LAPERM_NETS)
        recipe = _recipe(draft)
        draft.put("initializer", "notebook")
        draft.put("batchsize", recipe.batchsize)
        draft.put("maxepochs", recipe.maxepochs)
        draft.put("lr", 1e-3)
        draft.put("optimizer", "adam")
        draft.put("weight_decay", 0.0)
        draft.put("lr_schedule", recipe.lr_schedule)
        draft.put("sync_period", recipe.sync_period)
        draft.put("skip_bias", recipe.skip_bias)
        draft.put("skip_bn", True)
        draft.put("tie_break", "position")
        draft.put("normalization", recipe.normalization)
        augmented = draft.nettype in AUGMENTATION_SETTINGS and not is_shared(draft)
        draft.put("augment", "notebook" if augmented else "none")

    def original_evaluation(self, draft: Draft) -> None:
        """LaPermTrainLoop.fit: every training image trained on, its validation data (the
        test set) and a 30k training subset in evaluation mode, before training and at every
        validation; the best test accuracy is kept."""
        draft.put("split", "test")
        draft.put("eval_sets", "test,train_subset")
        draft.put("initial_eval", "sets")

    def held_out_evaluation(self, draft: Draft) -> None:
        draft.put("split", "head")
        draft.put("eval_sets", "val,test,train_subset")

    def validate(self, cfg: RunConfig) -> None:
        if cfg.nettype == "ResNet":
            raise ConfigError("--nettype=ResNet is Ivan & Florian's ResNet20; LaPerm's is ResNet50")
        if cfg.initializer not in self.initializers:
            raise ConfigError("--initializer does not apply to --traintype=LaPerm (notebook inits)")
        if not cfg.shared_net and cfg.nettype not in LAPERM_NETS:
            raise ConfigError(f"--nettype={cfg.nettype} has no LaPerm notebook model; it is "
                              "built as the other methods build it (drop --noshared_net)")
        if cfg.shared_net and cfg.nettype in self.nettypes and cfg.nettype not in SHARED_NETS:
            raise ConfigError(f"--shared_net builds {', '.join(SHARED_NETS)} "
                              f"(got --nettype={cfg.nettype})")
        if cfg.random_keep_ratio is not None and cfg.nettype in ("F1", "F2"):
            raise ConfigError("F1/F2 are weight-agnostic with the notebook's own zeros; "
                              "--random_keep_ratio does not apply")
        if cfg.optimizer != "adam":
            raise ConfigError("--traintype=LaPerm uses Adam as the inner optimizer (as every notebook)")
        if cfg.activation != "relu":
            raise ConfigError("--activation does not apply to --traintype=LaPerm (notebook models)")

    def trainable(self, cfg: RunConfig) -> tuple[bool, bool]:
        return True, False  # weights train (inner optimizer) and are re-permuted

    def run_folder(self, cfg: RunConfig) -> Path:
        keep = "" if cfg.random_keep_ratio is None else f"_KEEP{cfg.random_keep_ratio}"
        keep += "_shared" if cfg.shared_net and cfg.nettype in LAPERM_NETS else ""
        return group_root(cfg) / f"K_{cfg.sync_period}{keep}" / f"{cfg.normalization}_LR{cfg.lr}"

    def describe(self, cfg: RunConfig) -> str:
        keep = "" if cfg.random_keep_ratio is None else f", random keep {cfg.random_keep_ratio}"
        model = "shared architecture (He uniform)" if cfg.shared_net else "notebook model"
        return (f"{model}, k {cfg.sync_period}, ties by {cfg.tie_break}, skip bias "
                f"{cfg.skip_bias}, skip BN {cfg.skip_bn}{keep}, normalization {cfg.normalization}")

    def example(self) -> dict[str, Any]:
        return {"nettype": "F1", "sync_period": 5, "lr": 0.01}



class TrainByReconnectRuntime(Runtime):
    keras_modules = ("laperm.optimizer",)

    def learning_rate(self, cfg: RunConfig, epoch: int) -> float:
        if cfg.lr_schedule in LR_SCHEDULES:
            return laperm_learning_rate(cfg.lr_schedule, float(cfg.lr), epoch)
        return super().learning_rate(cfg, epoch)

    def build_model(self, cfg: RunConfig, input_shape: Sequence[int], num_classes: int,
                    run_seed: int, prepared: Any = None) -> keras.Model:
        """Notebook model (+ augmentation in front), with F1/F2 agnosticized or random pruning."""
        import keras

        from laperm.models import build_laperm_model
        from laperm.weights import agnosticize, random_prune

        if cfg.shared_net:  # augmentation is part of the shared build
            model = super().build_model(cfg, input_shape, num_classes, run_seed, prepared)
            if cfg.random_keep_ratio is not None:
                random_prune(model, cfg.random_keep_ratio, seed=run_seed)
            return model
        base = build_laperm_model(cfg.nettype, tuple(input_shape), num_classes, seed=run_seed)
        recipe = RECIPES[cfg.nettype]
        if recipe.agnostic is not None:
            value, keep = recipe.agnostic
            agnosticize(base, value, list(keep), seed=run_seed)
        elif cfg.random_keep_ratio is not None:
            random_prune(base, cfg.random_keep_ratio, seed=run_seed)
        augment = training_augmentation(cfg, run_seed)
        if augment is None:
            return base
        inputs = keras.Input(shape=tuple(input_shape), name="input")
        return keras.Model(inputs, base(augment(inputs)), name=f"{cfg.nettype}_LaPerm")

    def layers(self, cfg: RunConfig):
        from masktrainer.methods.train_by_reconnect.layers import HeUniformLayers

        return HeUniformLayers()

    def make_optimizer(self, cfg: RunConfig, run_seed: int):
        """LaPerm around Adam; ``run_seed`` (the run's recorded seed) keys the tie order."""
        import keras

        from laperm import LaPerm

        return LaPerm(keras.optimizers.Adam(learning_rate=cfg.lr), sync_period=cfg.sync_period,
                      skip_bias=cfg.skip_bias, skip_bn=cfg.skip_bn, tie_break=cfg.tie_break,
                      seed=run_seed)

    def recorder(self, cfg: RunConfig, model: keras.Model):
        from masktrainer.methods.train_by_reconnect.recorder import LaPermRecorder

        return LaPermRecorder(model)


class TrainByReconnectCompat(Compat):
    def upgrade_config(self, values: dict[str, Any], recipe: Recipe) -> dict[str, Any]:
        if "augment" not in values:  # the notebook's augmentation was part of the model
            augmented = values.get("nettype") in AUGMENTATION_SETTINGS
            values = {**values, "augment": "notebook" if augmented else "none"}
        if "eval_sets" not in values:  # it evaluated val, test and the training subset
            values = {**values, "eval_sets": "val,test,train_subset", "initial_eval": "full"}
        values.setdefault("tie_break", "random")  # the tie order of the first versions
        values.setdefault("shared_net", False)  # the notebook models only, then
        return super().upgrade_config(values, recipe)


class TrainByReconnectFigures(Figures):
    def changed_fraction(self, cfg: RunConfig, metrics: dict[str, Any],
                         run_dir: Path) -> float | None:
        """Weights no longer at their initial position (the recorder's changedFromInitial)."""
        return (metrics.get("changedFromInitial") or [None])[-1]


METHOD = Method(
    key="laperm",
    title="LaPerm / Train-by-Reconnect (Qiu & Suda 2020)",
    summary="re-permutes each unit's initial weights every --sync_period steps",
    train_types=("LaPerm",),
    position=40,
    recipe=TrainByReconnectRecipe(),
    runtime=TrainByReconnectRuntime(),
    compat=TrainByReconnectCompat(),
    # A sync only reorders each unit's weights: its sorted profile shows what training did.
    figures=TrainByReconnectFigures(legend_fields=("sync_period",), weight_profiles=True),
    checkpoints=NotebookCheckpoints(),
)
