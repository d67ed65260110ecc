"""Run configuration: one validated, JSON-serialisable record per training run.

:class:`RunConfig` is plain, frozen data. Its fields are the shared options
below plus the options every method declares (:mod:`masktrainer.methods`), so
a new method brings its settings with it. Creating a RunConfig resolves it:
the unset (``None``) fields take the chosen method's recipe, and every value
and combination is checked (:class:`ConfigError`, one line). Flags (or a
Python caller) produce a RunConfig; everything downstream reads only it.
No TensorFlow is imported here.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from masktrainer import methods
from masktrainer.data.preprocessing import NORMALIZATIONS
from masktrainer.data.settings import check_data_settings
from masktrainer.data.sources import DATA_SOURCES, DATASETS
from masktrainer.data.splits import SPLITS
from masktrainer.errors import ConfigError
from masktrainer.eval_plan import EVAL_SETS, INITIAL_EVALS, parse_sets
from masktrainer.layout import CONFIG_FILE
from masktrainer.methods.base import all_lr_schedules
from masktrainer.methods.schedules import MILESTONE_SCHEDULES, SHARED_SCHEDULES, parse_milestones
from masktrainer.nn.architectures import NETTYPES, WIDE_ARCHITECTURES
from masktrainer.nn.names import AUGMENTATIONS, HIDDEN_ACTIVATIONS
from masktrainer.options import Draft, Option, unique
from masktrainer.protocols import PROTOCOLS
from masktrainer.protocols import check as check_protocol

__all__ = ["ConfigError", "OPTIONS", "RunConfig"]

JIT_MODES = ("auto", "on", "off")
PROGRESS_MODES = ("auto", "bar", "none")
DISTRIBUTE_MODES = ("none", "mirrored", "multiworker")
OPTIMIZERS = ("adam", "sgd")
#: Keras dtype policies: variables (weights, scores, masks, slot selections, LaPerm's keys) and
#: metrics stay float32 under every one; the mixed ones compute the layers in 16 bits.
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def _nettypes() -> tuple[str, ...]:
    own = tuple(n for m in methods.METHODS for n in m.recipe.nettypes)
    return tuple(dict.fromkeys(NETTYPES + own))


def _initializers() -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for m in methods.METHODS for i in m.recipe.initializers))


def _schedules() -> tuple[str, ...]:
    return all_lr_schedules(methods.METHODS)


# Upper bounds: an absurd value is refused, with the reason, before any run folder exists.
MAX_IMAGES, IMAGES_WHY = 2**21, "more than any data set read here has (ImageNet: 1,281,167)"
MAX_COUNT, COUNT_WHY = 1_000_000, "far above any recipe: a larger count is a typo"

SHARED_OPTIONS = (
    Option("nettype", str, "LeNet", "Architecture.", choices=_nettypes),
    Option("traintype", str, "FreePruning", "What trains.", choices=methods.train_types),
    Option("seed", int, 0, f"Run seed; 0 draws one (recorded in {CONFIG_FILE}).",
           minimum=0, maximum=2**31 - 2, why="the generators take 32-bit seeds"),
    Option("outputpath", str, "Outputs", "Root of the run directories."),
    Option("progress", str, "auto", "Keras progress bar (auto: only on a terminal); a line "
           "per epoch always.", choices=PROGRESS_MODES),
    Option("heartbeat_minutes", float, 5.0, "Without a progress bar (a log file): a progress "
           "line every N minutes inside an epoch; 0: none.", minimum=0.0,
           maximum=10_080.0, why="a week (0 turns the lines off)"),
    Option("initializer", str, None, "Frozen-weight init (self-pruning's normal is the "
           "original's unexposed N(0.1|0, 0.05)); each method's choices:",
           choices=_initializers, group="recipe", required=True),
    Option("activation", str, "relu", "Hidden activation.", choices=HIDDEN_ACTIVATIONS,
           group="recipe"),
    Option("batchsize", int, None, "Training mini-batch size.", minimum=1, maximum=MAX_IMAGES,
           why=IMAGES_WHY, group="recipe", required=True),
    Option("maxepochs", int, None, "Training epochs; 0: evaluate only (the untrained "
           "model on the method's --eval_sets, in a run directory marked untrained).",
           minimum=0, maximum=MAX_COUNT, why=COUNT_WHY, group="recipe", required=True),
    Option("p1", float, 0.5, "P(+) for heconstant/binary/signed_constant weights.",
           minimum=0.0, maximum=1.0, group="recipe"),
    Option("lr", float, None, "Learning rate (Slot Machines: per selection and K, as the "
           "original).", minimum=0.0, exclusive_minimum=True, group="recipe", required=True),
    Option("optimizer", str, None, "sgd is PyTorch's: momentum buffer, L2 --weight_decay "
           "added to the gradient.", choices=OPTIMIZERS, group="recipe", required=True),
    Option("momentum", float, None, "SGD momentum (default 0.9).", minimum=0.0, maximum=1.0,
           exclusive_maximum=True, group="recipe"),
    Option("weight_decay", float, None, "L2 on the trained variables (the scores, for the "
           "score methods).", minimum=0.0, group="recipe", required=True),
    Option("lr_schedule", str, None, "Per-epoch learning rate (SlotMachine VGG19: multistep "
           "at 80; LaPerm: the notebook's).", choices=_schedules, group="recipe",
           required=True),
    Option("lr_milestones", str, None, "Epochs where multistep multiplies the rate by 0.1, "
           "e.g. 80 or 60,120, or where cosine_restarts restarts its cosine (25,75).",
           group="recipe"),
    Option("warmup_epochs", int, None, "Linear warm-up epochs before the schedule "
           "(hidden-networks: lr * (e + 1) / W; its ImageNet recipes: 5).", minimum=0,
           maximum=MAX_COUNT, why=COUNT_WHY, group="recipe", required=True),
    Option("label_smoothing", float, None, "Label smoothing of the cross-entropy (its ImageNet "
           "recipes: 0.1).", minimum=0.0, maximum=1.0, exclusive_maximum=True, group="recipe",
           required=True),
    Option("normalization", str, None,
           "train_stats: all splits use training-split stats; per_set: the original "
           "(test set normalised with its own stats); LaPerm notebooks: scale01 (x/255), "
           "raw255 (the CIFAR notebooks' bug), mean_only (ResNet50); the originals' fixed "
           "constants: hidden_networks (edge-popup, supermask sampling: MNIST 0.1307/0.3081, "
           "CIFAR-10 per channel), slot_machines (MNIST [0, 1], CIFAR-10 per channel).",
           choices=NORMALIZATIONS, group="data", required=True),
    Option("augment", str, None, "Training-time augmentation: flip (Slot Machines' CIFAR-10), "
           "crop_flip (edge-popup's CIFAR-10: pad 4, random crop, flip), shift_flip (the "
           "self-pruning ResNet20's 10 % shifts and flips), notebook (the LaPerm notebook's "
           "rotation/zoom/shift/flip of --nettype).", choices=AUGMENTATIONS, group="data",
           required=True),
    Option("dataset", str, None, "Data set (the architecture's original).",
           choices=DATASETS, group="data", required=True),
    Option("data_source", str, "auto", "auto: tfds if --manual_dir, files if --data_dir, "
           "else embedded MNIST.", choices=DATA_SOURCES, group="data"),
    Option("data_dir", str, None, "Folder with the publisher's files (IDX .gz / CIFAR-10 .bin).",
           group="data", folder=True),
    Option("manual_dir", str, None, "tensorflow-datasets manual_dir holding the original "
           "downloads.", group="data", folder=True),
    Option("tfds_data_dir", str, None, "Where tensorflow-datasets writes prepared data.",
           group="data"),
    Option("image_size", int, 224, "imagenet2012: the side of the crops (the original's 224).",
           minimum=8, maximum=4096, why="larger than the images themselves", group="data"),
    Option("validation_size", int, 5000, "Validation = the first N training images.",
           minimum=1, maximum=MAX_IMAGES, why=IMAGES_WHY, group="data"),
    Option("eval_batchsize", int, 200, "Batch size of evaluations.", minimum=1,
           maximum=MAX_IMAGES, why=IMAGES_WHY, group="data"),
    Option("split", str, None,
           "Validation split: head (first --validation_size training images) or slot_machines "
           "(the original's index split: MNIST 50k/10k, CIFAR-10 45k/5k) or test (train on "
           "every training image and validate on the test set, as the LaPerm notebooks did: "
           "selection on test).", choices=SPLITS, group="data", required=True),
    Option("split_dir", str, None, "Folder with slot_machines_{mnist,cifar10}_permutation.npy "
           "(default: the packaged, checksum-verified copy).", group="data", folder=True),
    Option("width_mult", float, 1.0, "Width multiplier of Conv4Wide/Conv6Wide.", minimum=0.0,
           exclusive_minimum=True, maximum=64.0, why="memory grows with its square",
           group="architecture"),
    Option("resnet_quirks", bool, False, "ResNet: reproduce the original's bugs (conv->ReLU->"
           "BN->ReLU, double softmax, --lr ignored, one shared seed, test set as validation).",
           group="architecture"),
    Option("protocol", str, None, "original: the original's split, evaluation and reporting "
           "(every preset); held_out (default): train on the head, select the epoch on "
           "validation, report test there; custom: --split/--eval_sets as given.",
           choices=PROTOCOLS, group="evaluation", required=True),
    Option("eval_sets", str, None, f"Sets evaluated at the end of an epoch, a comma list of "
           f"{', '.join(EVAL_SETS)} (train_subset: --eval_train_size random training images "
           "in evaluation mode); the method's original's.", group="evaluation", required=True),
    Option("eval_every", int, 1, "Evaluate every N epochs (and at the last); the others "
           "record null.", minimum=1, maximum=MAX_COUNT, why=COUNT_WHY, group="evaluation"),
    Option("eval_train_size", int, 30000, "Images of the train_subset set (the LaPerm "
           "notebooks' tsize); 0: the whole training split.", minimum=0,
           maximum=MAX_IMAGES, why=IMAGES_WHY, group="evaluation"),
    Option("initial_eval", str, None, "Epoch 0, before training: full (the sets and the whole "
           "training split, as self-pruning's original), sets (the --eval_sets only) or none.",
           choices=INITIAL_EVALS, group="evaluation", required=True),
    Option("jit_compile", str, "auto", "XLA compilation.", choices=JIT_MODES, group="safety"),
    Option("distribute", str, "none", "tf.distribute strategy: none, mirrored (all local GPUs, "
           "or all logical CPUs: see --cpu_replicas), multiworker (TF_CONFIG). --batchsize is "
           "the global batch.",
           choices=DISTRIBUTE_MODES, group="safety"),
    Option("cpu_replicas", int, 0, "--distribute=mirrored on a machine without GPUs: split the "
           "CPU into N logical devices, one replica each (0: the devices TensorFlow sees, "
           "usually 1 CPU).", minimum=0, maximum=16,
           why="more stall TensorFlow's CPU all-reduce (32 did not finish where 16 did)",
           group="safety"),
    Option("deterministic", bool, False, "Deterministic ops (seeds for Python/NumPy/TF/data "
           "order are always set).", group="safety"),
    Option("precision", str, "float32", "Layers compute in float32 (the originals'), "
           "bfloat16 (native on AVX512_BF16/AMX CPUs, Ampere+ GPUs) or float16 (GPU); "
           "variables and metrics stay float32.", choices=PRECISIONS, group="safety"),
    Option("mixed_precision", bool, False, "Old spelling of --precision=mixed_float16.",
           group="safety"),
    Option("steps_per_execution", int, 1, "Steps per call into TensorFlow (the same training); "
           "NaN, signal and --checkpoint_every checks every N steps.", minimum=1,
           maximum=10_000, group="safety"),
    Option("tensorboard", bool, True, "Write TensorBoard events to RUN_DIR/tensorboard "
           "(--notensorboard: off).", group="safety"),
    Option("checkpoint_every", int, 0, "Also checkpoint every N training steps inside an epoch "
           "(model, optimizer, data position, running metrics); 0: epoch ends only.",
           minimum=0, maximum=2**31 - 1, why="a step count beyond 32 bits", group="safety"),
)

#: Every option: the shared ones, then each method's own, in the methods' order.
OPTIONS: dict[str, Option] = {
    o.name: o
    for o in unique(SHARED_OPTIONS + tuple(o for m in methods.METHODS for o in m.recipe.options))
}


# -- resolution ------------------------------------------------------------------------------
def _resolve(cfg: RunConfig) -> None:
    given = dataclasses.asdict(cfg)
    for name, value in given.items():
        if value is not None:
            OPTIONS[name].check(value)
    method = methods.get_method(given["traintype"])
    draft = Draft(given)
    method.recipe.fill(draft)
    values = draft.values()
    for name, value in values.items():
        OPTIONS[name].check(value)
        object.__setattr__(cfg, name, value)  # __post_init__ of a frozen dataclass
    _check_foreign_options(cfg, method)
    method.recipe.validate(cfg)
    _check_nettype(cfg, method)
    _check_lr_schedule(cfg, method)
    _check_shared_rules(cfg)
    check_protocol(cfg, *method.recipe.original_settings(cfg.to_dict()))


def _check_foreign_options(cfg: RunConfig, method: methods.Method) -> None:
    """The generic rule: a method's own option, set for another method, is an error."""
    for option in OPTIONS.values():
        owner = methods.owner_of(option.name)
        if owner is None or option in method.recipe.options:
            continue
        if getattr(cfg, option.name) != option.default:
            types = "/".join(t for m in methods.METHODS if option in m.recipe.options
                             for t in m.train_types)
            raise ConfigError(f"--{option.name} does not apply to --traintype={cfg.traintype} "
                              f"(it applies to --traintype={types} only)")


def _check_nettype(cfg: RunConfig, method: methods.Method) -> None:
    if cfg.nettype in method.recipe.nettypes:
        return
    owner = next(m for m in methods.METHODS if cfg.nettype in m.recipe.nettypes)
    if method.recipe.nettypes != NETTYPES:
        raise ConfigError(f"--traintype={cfg.traintype} trains the {method.name} models: "
                          f"--nettype one of {', '.join(method.recipe.nettypes)} "
                          f"(got {cfg.nettype})")
    raise ConfigError(f"--nettype={cfg.nettype} is a {owner.name} model: use "
                      f"--traintype={owner.train_types[0]}")


def _check_lr_schedule(cfg: RunConfig, method: methods.Method) -> None:
    if cfg.lr_schedule in SHARED_SCHEDULES or cfg.lr_schedule in method.recipe.lr_schedules:
        return
    owner = next(m for m in methods.METHODS if cfg.lr_schedule in m.recipe.lr_schedules)
    raise ConfigError(f"--lr_schedule={cfg.lr_schedule} is a {owner.name} schedule "
                      f"(--traintype={owner.train_types[0]} only)")


def _resolve_precision(cfg: RunConfig) -> None:
    """--mixed_precision is the old spelling of --precision=mixed_float16."""
    if not cfg.mixed_precision:
        return
    if cfg.precision not in ("float32", "mixed_float16"):
        raise ConfigError(f"--mixed_precision means --precision=mixed_float16; it contradicts "
                          f"--precision={cfg.precision} (drop --mixed_precision)")
    object.__setattr__(cfg, "precision", "mixed_float16")
    object.__setattr__(cfg, "mixed_precision", False)  # one field says it from here on


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes of a path, kept as lone surrogates
        return False
    return True


def _check_shared_rules(cfg: RunConfig) -> None:
    _resolve_precision(cfg)
    if not cfg.outputpath:
        raise ConfigError("--outputpath must not be empty")
    for option in OPTIONS.values():  # "" would silently mean the default data (or the cwd)
        if option.folder and getattr(cfg, option.name, None) == "":
            raise ConfigError(f"--{option.name} must not be empty")
    for name, value in vars(cfg).items():  # a run records its settings and log in UTF-8
        if isinstance(value, str) and not value.isascii() and not _utf8(value):
            raise ConfigError(f"--{name} {ascii(value)[:80]} is not valid UTF-8 (a run records "
                              "its settings as UTF-8): rename it")
    if cfg.cpu_replicas and cfg.distribute != "mirrored":
        raise ConfigError("--cpu_replicas applies to --distribute=mirrored only")
    if cfg.resnet_quirks and cfg.nettype != "ResNet":
        raise ConfigError("--resnet_quirks applies to --nettype=ResNet only")
    if cfg.width_mult != 1.0 and cfg.nettype not in WIDE_ARCHITECTURES:
        raise ConfigError(f"--width_mult applies to {' and '.join(WIDE_ARCHITECTURES)} only")
    _check_optimizer(cfg)
    check_data_settings(cfg, OPTIONS)
    _check_evaluation(cfg)


def _check_optimizer(cfg: RunConfig) -> None:
    if cfg.optimizer == "adam" and cfg.momentum is not None:
        raise ConfigError("--momentum applies to --optimizer=sgd only")
    if cfg.weight_decay > 0 and cfg.optimizer == "adam":
        raise ConfigError("--weight_decay > 0 needs --optimizer=sgd (L2 added to the gradient)")
    if cfg.lr_schedule in MILESTONE_SCHEDULES:
        if cfg.lr_milestones is None:
            raise ConfigError(f"--lr_schedule={cfg.lr_schedule} needs --lr_milestones (e.g. 80)")
        parse_milestones(cfg.lr_milestones)
    elif cfg.lr_milestones is not None:
        raise ConfigError("--lr_milestones applies to --lr_schedule=multistep or "
                          "cosine_restarts only")


def _check_evaluation(cfg: RunConfig) -> None:
    sets = parse_sets(cfg.eval_sets)
    if cfg.eval_train_size != OPTIONS["eval_train_size"].default and "train_subset" not in sets:
        raise ConfigError("--eval_train_size applies to --eval_sets with train_subset")


# -- the record --------------------------------------------------------------------------------
_Fields = dataclasses.make_dataclass(
    "_Fields",
    [(o.name, o.annotation, dataclasses.field(default=o.default)) for o in OPTIONS.values()],
    frozen=True,
)


@dataclasses.dataclass(frozen=True)
class RunConfig(_Fields):
    """Everything that defines a run: one field per option (:data:`OPTIONS`).

    Unset (``None``) fields take the chosen method's recipe on creation, and
    every value and combination is checked (:class:`ConfigError`).
    """

    def __post_init__(self) -> None:
        _resolve(self)

    @property
    def method(self) -> str:
        """The run config's ``method``: self_pruning, edge_popup, slot_machines, slot_finetune, ..."""
        method = methods.method_of(self)
        return method.recipe.kind(self) or method.key

    @property
    def architecture(self) -> str:
        """The registry name of the network (Slot Machines' ConvN use valid padding)."""
        return methods.method_of(self).recipe.architecture(self)

    @property
    def train_weights(self) -> bool:
        return methods.method_of(self).recipe.trainable(self)[0]

    @property
    def train_scores(self) -> bool:
        return methods.method_of(self).recipe.trainable(self)[1]

    @property
    def alpha(self) -> float:
        """The Min* penalty coefficient (0 for every other train type)."""
        return methods.method_of(self).recipe.alpha(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        unknown = sorted(set(values) - set(OPTIONS))
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**values)

    def replace(self, **changes: Any) -> RunConfig:
        """A new, resolved RunConfig with ``changes`` applied to this one's values."""
        return dataclasses.replace(self, **changes)
