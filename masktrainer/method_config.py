"""Method-specific settings of a :class:`~masktrainer.config.RunConfig`.

Three method families share the config: self-pruning / sign flipping (the
five original train types), ``EdgePopup`` and ``SlotMachine``. Fields left at
``None`` take the chosen method's default here (the original code's recipe);
flags that do not apply to the chosen train type are errors.
"""

from __future__ import annotations

import math
from typing import Any

from masktrainer.errors import ConfigError
from masktrainer.laperm_method import (
    LAPERM,
    LAPERM_INITIALIZERS,
    LAPERM_LR_SCHEDULES,
    laperm_defaults,
    reject_laperm_flags,
    validate_laperm,
)

SELF_PRUNING_TYPES = ("Baseline", "FreePruning", "MinPruning", "FreeFlipping", "MinFlipping")
EDGE_POPUP = "EdgePopup"
SLOT_MACHINE = "SlotMachine"

SELF_PRUNING_INITIALIZERS = ("he", "glorot", "heconstant", "binary", "normal")
EDGE_POPUP_INITIALIZERS = ("kaiming_normal", "kaiming_uniform", "signed_constant", "unsigned_constant")
SLOT_INITIALIZERS = ("slot_uniform",)
ALL_INITIALIZERS = (SELF_PRUNING_INITIALIZERS + EDGE_POPUP_INITIALIZERS + SLOT_INITIALIZERS
                    + LAPERM_INITIALIZERS)

OPTIMIZERS = ("adam", "sgd")
LR_SCHEDULES = ("constant", "cosine", "multistep") + LAPERM_LR_SCHEDULES
SPLITS = ("head", "slot_machines", "test")
SELECTIONS = ("greedy", "probabilistic")
EVAL_SELECTIONS = ("argmax", "sample")
SCALE_FAN_RULES = ("original", "kept")
SPLIT_DATASETS = ("mnist", "cifar10")
WIDE_NETS = ("Conv4Wide", "Conv6Wide")
# Slot Machines' valid-padding ConvN replace the same-padding ones of the other methods.
SLOT_ARCHITECTURES = {"Conv2": "SlotConv2", "Conv4": "SlotConv4", "Conv6": "SlotConv6"}
# training_schedule.py: base epochs per model (prob +40, learned/fine-tuning +100).
SLOT_BASE_EPOCHS = {"LeNet": 120, "VGG19": 120}
SLOT_DEFAULT_BASE_EPOCHS = 140


def method_of(traintype: str, finetune_from: str | None) -> str:
    """self_pruning, edge_popup, slot_machines, slot_finetune or laperm."""
    if traintype == LAPERM:
        return "laperm"
    if traintype == EDGE_POPUP:
        return "edge_popup"
    if traintype == SLOT_MACHINE:
        return "slot_finetune" if finetune_from else "slot_machines"
    return "self_pruning"


def architecture_of(nettype: str, traintype: str) -> str:
    """The registry name of the network a train type builds for ``nettype``."""
    if traintype == SLOT_MACHINE:
        return SLOT_ARCHITECTURES.get(nettype, nettype)
    return nettype


def _slot_lr(cfg: Any) -> float:
    if cfg.finetune_from:
        return 0.01
    if cfg.selection == "probabilistic":
        return 25.0 if cfg.nettype == "Conv6" else 50.0
    return 0.1 if cfg.slots <= 8 else 0.01


def _slot_epochs(cfg: Any) -> int:
    base = SLOT_BASE_EPOCHS.get(cfg.nettype, SLOT_DEFAULT_BASE_EPOCHS)
    if cfg.finetune_from:
        return base + 100
    return base + 40 if cfg.selection == "probabilistic" else base


def method_defaults(cfg: Any) -> dict[str, Any]:
    """Values for the ``None`` fields of ``cfg`` (the method's recipe), in resolution order."""
    out: dict[str, Any] = {}

    def put(name: str, value: Any) -> None:
        if getattr(cfg, name) is None:
            out[name] = value
            object.__setattr__(cfg, name, value)  # later defaults may depend on it

    if cfg.nettype == "ResNet" and cfg.traintype in SELF_PRUNING_TYPES:
        # The original's ResNet trainer: Adam 1e-3 dropping x0.1 at epochs 80, 120, 160.
        put("lr_schedule", "multistep")
        put("lr_milestones", "80,120,160")
    if cfg.traintype == LAPERM:
        laperm_defaults(cfg, put)
    elif cfg.traintype == EDGE_POPUP:
        put("initializer", "kaiming_normal")
        put("keep_ratio", 0.5)
        put("lr", 0.1)
        put("batchsize", 128)
        put("maxepochs", 100)
        put("optimizer", "sgd")
        put("weight_decay", 1e-4)
        put("lr_schedule", "cosine")
    elif cfg.traintype == SLOT_MACHINE:
        put("initializer", "slot_uniform")
        if not cfg.finetune_from:
            put("slots", 8)
            put("selection", "greedy")
            put("eval_selection", "argmax")
        if cfg.finetune_from or (_valid_slots(cfg.slots) and cfg.selection in SELECTIONS):
            put("lr", _slot_lr(cfg))
            put("maxepochs", _slot_epochs(cfg))
        put("batchsize", 128)
        put("optimizer", "sgd")
        vgg = cfg.nettype == "VGG19"
        put("weight_decay", 1e-4 if vgg else 0.0)
        put("lr_schedule", "multistep" if vgg else "constant")
        if cfg.lr_schedule == "multistep":
            put("lr_milestones", "80")
        split = "slot_machines"
        if cfg.dataset not in SPLIT_DATASETS or cfg.data_source == "tfds" or cfg.manual_dir:
            split = "head"
        put("split", split)
    else:
        put("initializer", "he")
        put("lr", 1e-3)
        put("batchsize", 25)
        put("maxepochs", 20)
        put("optimizer", "adam")
        put("weight_decay", 0.0)
        put("lr_schedule", "constant")
    put("split", "head")
    put("normalization", "train_stats")
    if cfg.optimizer == "sgd":
        put("momentum", 0.9)
    return out


def _valid_slots(slots: Any) -> bool:
    return isinstance(slots, int) and not isinstance(slots, bool) and slots >= 2


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"--{name}={value!r} is not one of: {', '.join(choices)}")


def _not_for(cfg: Any, names: tuple[str, ...], defaults: dict[str, Any] | None = None) -> None:
    defaults = defaults or {}
    for name in names:
        if getattr(cfg, name) != defaults.get(name):
            raise ConfigError(f"--{name} does not apply to --traintype={cfg.traintype}")


def parse_milestones(text: str) -> list[int]:
    """'80' or '60,120' -> [80] / [60, 120] (strictly increasing positive epochs)."""
    try:
        values = [int(part) for part in str(text).split(",")]
    except ValueError:
        raise ConfigError(f"--lr_milestones must be comma-separated epochs (got {text!r})") from None
    if not values or any(v < 1 for v in values) or values != sorted(set(values)):
        raise ConfigError(f"--lr_milestones must be increasing epochs >= 1 (got {text!r})")
    return values


def validate_method(cfg: Any) -> None:
    """Raise ConfigError for invalid method settings or flags of another method."""
    edge = cfg.traintype == EDGE_POPUP
    slot = cfg.traintype == SLOT_MACHINE
    if cfg.traintype == LAPERM:
        validate_laperm(cfg)
        _not_for(cfg, ("keep_ratio", "scale_fan", "scale_fan_rule", "slots", "selection",
                       "eval_selection", "finetune_from"),
                 {"scale_fan": False, "scale_fan_rule": "original"})
        _validate_optimizer(cfg)
        _validate_split(cfg)
        return
    reject_laperm_flags(cfg)
    if cfg.lr_schedule in LAPERM_LR_SCHEDULES:
        raise ConfigError(f"--lr_schedule={cfg.lr_schedule} is a LaPerm notebook schedule")
    if edge:
        _choice("initializer", cfg.initializer, EDGE_POPUP_INITIALIZERS)
        keep = cfg.keep_ratio
        if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0.0 < keep <= 1.0:
            raise ConfigError(
                f"--keep_ratio is the fraction of weights kept per layer and must lie in (0, 1] "
                f"(got {keep!r})"
            )
        _choice("scale_fan_rule", cfg.scale_fan_rule, SCALE_FAN_RULES)
        if cfg.scale_fan and cfg.initializer == "kaiming_uniform":
            raise ConfigError("--scale_fan has no effect on kaiming_uniform in the original; drop it")
        if cfg.scale_fan_rule != "original" and not cfg.scale_fan:
            raise ConfigError("--scale_fan_rule needs --scale_fan")
        if cfg.scale_fan and cfg.scale_fan_rule == "original" and keep == 1.0:
            raise ConfigError("--scale_fan with --keep_ratio=1 scales the fan by 1 - 1 = 0")
    else:
        _not_for(cfg, ("keep_ratio", "scale_fan", "scale_fan_rule"),
                 {"scale_fan": False, "scale_fan_rule": "original"})
    if slot:
        _choice("initializer", cfg.initializer, SLOT_INITIALIZERS)
        if cfg.finetune_from:
            if cfg.selection is not None or cfg.eval_selection is not None:
                raise ConfigError(
                    "--selection/--eval_selection do not apply with --finetune_from "
                    "(fine-tuning trains the weights of the argmax selection)"
                )
            if cfg.slots is not None and not _valid_slots(cfg.slots):
                raise ConfigError(f"--slots must be an integer >= 2 (got {cfg.slots!r})")
        else:
            if not _valid_slots(cfg.slots):
                raise ConfigError(
                    f"--slots (K values per connection) must be an integer >= 2; K=1 leaves "
                    f"nothing to select (got {cfg.slots!r})"
                )
            _choice("selection", cfg.selection, SELECTIONS)
            _choice("eval_selection", cfg.eval_selection, EVAL_SELECTIONS)
            if cfg.selection == "greedy" and cfg.eval_selection != "argmax":
                raise ConfigError("--eval_selection=sample needs --selection=probabilistic")
    else:
        _not_for(cfg, ("slots", "selection", "eval_selection", "finetune_from"))
    if edge or slot:
        if cfg.masktype is not None:
            raise ConfigError(f"--masktype does not apply to --traintype={cfg.traintype}")
        if cfg.seeding != "independent":
            raise ConfigError(f"--seeding=original does not apply to --traintype={cfg.traintype}")
        if cfg.selu_is_elu:
            raise ConfigError(f"--selu_is_elu does not apply to --traintype={cfg.traintype}")
    else:
        _choice("initializer", cfg.initializer, SELF_PRUNING_INITIALIZERS)
    if cfg.width_mult != 1.0 and cfg.nettype not in WIDE_NETS:
        raise ConfigError(f"--width_mult applies to {' and '.join(WIDE_NETS)} only")
    if not (isinstance(cfg.width_mult, (int, float)) and cfg.width_mult > 0):
        raise ConfigError(f"--width_mult must be > 0 (got {cfg.width_mult!r})")
    _validate_optimizer(cfg)
    _validate_split(cfg)


def _validate_optimizer(cfg: Any) -> None:
    _choice("optimizer", cfg.optimizer, OPTIMIZERS)
    _choice("lr_schedule", cfg.lr_schedule, LR_SCHEDULES)
    if cfg.optimizer == "adam" and cfg.momentum is not None:
        raise ConfigError("--momentum applies to --optimizer=sgd only")
    if cfg.momentum is not None and not (
        isinstance(cfg.momentum, (int, float)) and 0.0 <= cfg.momentum < 1.0
    ):
        raise ConfigError(f"--momentum must lie in [0, 1) (got {cfg.momentum!r})")
    wd = cfg.weight_decay
    if not (isinstance(wd, (int, float)) and math.isfinite(wd) and wd >= 0):
        raise ConfigError(f"--weight_decay must be a finite number >= 0 (got {wd!r})")
    if wd > 0 and cfg.optimizer == "adam":
        raise ConfigError("--weight_decay > 0 needs --optimizer=sgd (L2 added to the gradient)")
    if cfg.lr_schedule == "multistep":
        if cfg.lr_milestones is None:
            raise ConfigError("--lr_schedule=multistep needs --lr_milestones (e.g. 80)")
        parse_milestones(cfg.lr_milestones)
    elif cfg.lr_milestones is not None:
        raise ConfigError("--lr_milestones applies to --lr_schedule=multistep only")


def _validate_split(cfg: Any) -> None:
    _choice("split", cfg.split, SPLITS)
    if cfg.split == "slot_machines":
        if cfg.dataset not in SPLIT_DATASETS:
            raise ConfigError(f"--split=slot_machines exists for mnist and cifar10, not {cfg.dataset}")
        if cfg.data_source == "tfds" or cfg.manual_dir:
            raise ConfigError(
                "--split=slot_machines indexes the publisher's file order; tensorflow-datasets "
                "shuffles it (use the embedded data or --data_dir)"
            )
        if cfg.validation_size != 5000:
            raise ConfigError("--validation_size does not apply to --split=slot_machines")
    elif cfg.split_dir is not None:
        raise ConfigError("--split_dir applies to --split=slot_machines only")
    if cfg.split == "test" and cfg.validation_size != 5000:
        raise ConfigError("--validation_size does not apply to --split=test (no images held out)")
