"""The LaPerm (Train-by-Reconnect) method in the shared trainer.

``--traintype LaPerm`` trains the notebook models of Qiu & Suda (2020) with
``laperm.LaPerm`` around Adam. Each ``--nettype`` carries its notebook's
recipe as defaults (batch size, epochs, lr schedule, sync period k, bias/BN
skipping, input normalisation, augmentation, weight-agnostic init for F1/F2);
every one of them can be overridden by its flag.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import keras
from absl import flags

from masktrainer.errors import ConfigError

LAPERM = "LaPerm"
LAPERM_NETS = ("F1", "F2", "Conv7", "Conv2", "Conv4", "Conv13", "ResNet50")
LAPERM_INITIALIZERS = ("notebook",)
LAPERM_LR_SCHEDULES = ("exp_decay", "step_decay", "laperm_resnet")


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


def laperm_defaults(cfg: Any, put: Callable[[str, Any], None]) -> None:
    """Fill the ``None`` fields of a LaPerm config from its notebook's recipe."""
    # An unknown net gets a placeholder recipe; validate_laperm then names the problem.
    recipe = RECIPES.get(cfg.nettype, RECIPES["Conv4"])
    put("initializer", "notebook")
    put("batchsize", recipe.batchsize)
    put("maxepochs", recipe.maxepochs)
    put("lr", 1e-3)
    put("optimizer", "adam")
    put("weight_decay", 0.0)
    put("lr_schedule", recipe.lr_schedule)
    put("sync_period", recipe.sync_period)
    put("skip_bias", recipe.skip_bias)
    put("skip_bn", True)
    put("normalization", recipe.normalization)


def validate_laperm(cfg: Any) -> None:
    if cfg.nettype not in LAPERM_NETS:
        raise ConfigError(
            f"--traintype=LaPerm trains the notebook models: --nettype one of "
            f"{', '.join(LAPERM_NETS)} (got {cfg.nettype})"
        )
    if cfg.initializer not in LAPERM_INITIALIZERS:
        raise ConfigError("--initializer does not apply to --traintype=LaPerm (notebook inits)")
    period = cfg.sync_period
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise ConfigError(f"--sync_period (k) must be an integer >= 1 (got {period!r})")
    keep = cfg.random_keep_ratio
    if keep is not None and not (isinstance(keep, (int, float)) and 0.0 < keep <= 1.0):
        raise ConfigError(f"--random_keep_ratio must lie in (0, 1] (got {keep!r})")
    if keep is not None and cfg.nettype in ("F1", "F2"):
        raise ConfigError("F1/F2 are weight-agnostic with the notebook's own zeros; "
                          "--random_keep_ratio does not apply")
    if cfg.optimizer != "adam":
        raise ConfigError("--traintype=LaPerm uses Adam as the inner optimizer (as every notebook)")
    if cfg.masktype is not None or cfg.seeding != "independent" or cfg.selu_is_elu:
        raise ConfigError("--masktype/--seeding/--selu_is_elu do not apply to --traintype=LaPerm")
    if cfg.activation != "relu":
        raise ConfigError("--activation does not apply to --traintype=LaPerm (notebook models)")


def reject_laperm_flags(cfg: Any) -> None:
    """Other train types: LaPerm's flags are errors, and so are its models."""
    for name in ("sync_period", "skip_bias", "skip_bn", "random_keep_ratio"):
        if getattr(cfg, name) is not None:
            raise ConfigError(f"--{name} applies to --traintype=LaPerm only")
    if cfg.nettype in LAPERM_NETS and cfg.nettype not in ("Conv2", "Conv4"):
        raise ConfigError(f"--nettype={cfg.nettype} is a LaPerm notebook model: use --traintype=LaPerm")


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


def define_laperm_flags(fv: flags.FlagValues) -> None:
    flags.DEFINE_integer("sync_period", None,
                         "LaPerm: k, re-permute every k steps (default: the notebook's: F1/F2 "
                         "250, Conv7 20, CIFAR convs 1000, ResNet50 800).", flag_values=fv)
    flags.DEFINE_bool("skip_bias", None,
                      "LaPerm: train biases freely instead of permuting them (default: "
                      "the notebook's; Conv7 permutes them).", flag_values=fv)
    flags.DEFINE_bool("skip_bn", None, "LaPerm: train BN gamma/beta freely (default true).",
                      flag_values=fv)
    flags.DEFINE_float("random_keep_ratio", None,
                       "LaPerm: randomly zero all but this fraction of the initial weights "
                       "before training (the paper's p = 1 - this; first layer keeps >= 0.8).",
                       flag_values=fv)


def build_laperm_model(cfg: Any, input_shape: Sequence[int], num_classes: int,
                       run_seed: int) -> keras.Model:
    """Notebook model (+ augmentation in front), with F1/F2 agnosticized or random pruning."""
    from laperm.augment import augmentation
    from laperm.models import build_laperm_model as build
    from laperm.weights import agnosticize, random_prune

    base = build(cfg.nettype, tuple(input_shape), num_classes, seed=run_seed)
    recipe = RECIPES[cfg.nettype]
    if recipe.agnostic is not None:
        value, keep = recipe.agnostic
        agnosticize(base, value, list(keep), seed=run_seed)
    elif cfg.random_keep_ratio is not None:
        random_prune(base, cfg.random_keep_ratio, seed=run_seed)
    augment = augmentation(cfg.nettype, seed=run_seed)
    if augment is None:
        return base
    inputs = keras.Input(shape=tuple(input_shape), name="input")
    return keras.Model(inputs, base(augment(inputs)), name=f"{cfg.nettype}_LaPerm")


def make_laperm_optimizer(cfg: Any, run_seed: int) -> keras.optimizers.Optimizer:
    """LaPerm around Adam; ``run_seed`` (the run's recorded seed) keys the tie order."""
    from laperm import LaPerm

    return LaPerm(keras.optimizers.Adam(learning_rate=cfg.lr), sync_period=cfg.sync_period,
                  skip_bias=cfg.skip_bias, skip_bn=cfg.skip_bn, seed=run_seed)
