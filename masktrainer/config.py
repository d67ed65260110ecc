"""Run configuration: one validated, JSON-serialisable record per training run.

Flags (or a Python caller) produce a :class:`RunConfig`; everything downstream
(data, model, trainer, run directory) reads only this object.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from masktrainer import method_config as M
from masktrainer.errors import ConfigError

# Train type -> (kernel trainable, score trainable, alpha of the Min* penalty).
TRAIN_TYPES: dict[str, tuple[bool, bool, float]] = {
    "Baseline": (True, False, 0.0),
    "FreePruning": (False, True, 0.0),
    "MinPruning": (False, True, -1.0),
    "FreeFlipping": (False, True, 0.0),
    "MinFlipping": (False, True, -1.0),
    "EdgePopup": (False, True, 0.0),
    "SlotMachine": (False, True, 0.0),  # --finetune_from trains the weights instead
    "LaPerm": (True, False, 0.0),  # weights train (inner optimizer) and are re-permuted
}
NET_TYPES = ("LeNet", "Conv2", "Conv4", "Conv6", "Conv8", "Conv4Wide", "Conv6Wide", "VGG19",
             "F1", "F2", "Conv7", "Conv13", "ResNet50", "ResNet")
INITIALIZERS = M.ALL_INITIALIZERS
ACTIVATIONS = ("relu", "swish", "sigmoid", "elu", "selu")
MASK_TYPES = ("mask", "mask_rs", "flip")
DATASETS = ("mnist", "fashion_mnist", "cifar10")
DATA_SOURCES = ("auto", "embedded", "files", "tfds")
NORMALIZATIONS = ("train_stats", "per_set", "scale01", "raw255", "mean_only")
BINARY_SCALES = ("original", "formula")
SEEDINGS = ("independent", "original")
JIT_MODES = ("auto", "on", "off")
PROGRESS_MODES = ("auto", "bar", "none")

# The dataset each architecture was used with in the original code.
DEFAULT_DATASET = {"LeNet": "mnist", "F1": "mnist", "F2": "mnist", "Conv7": "mnist"}
# every other architecture: cifar10

__all__ = ["ConfigError", "RunConfig", "validate", "default_masktype"]


def default_masktype(traintype: str) -> str:
    """The mask function a train type means: flipping types flip, the rest prune."""
    return "flip" if traintype.endswith("Flipping") else "mask"


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run (self-pruning / sign flipping, edge-popup, slot machines).

    Field names follow the original ``MaskTrainer.py`` flags where one exists.
    ``None`` means "the chosen train type's default" and is resolved on creation
    (see :mod:`masktrainer.method_config`).
    """

    nettype: str = "LeNet"
    traintype: str = "FreePruning"
    initializer: str | None = None  # he (self-pruning), kaiming_normal, slot_uniform
    activation: str = "relu"
    masktype: str | None = None  # None: follow the train type (see default_masktype)
    batchsize: int | None = None  # 25 (self-pruning), 128 (edge-popup, slot machines)
    maxepochs: int | None = None
    seed: int = 0  # 0 = "no seed" as in the original; a seed is then drawn and recorded
    p1: float = 0.5
    lr: float | None = None
    outputpath: str = "Outputs"
    dataset: str | None = None  # None: the architecture's original dataset
    data_source: str = "auto"
    data_dir: str | None = None
    manual_dir: str | None = None
    tfds_data_dir: str | None = None
    jit_compile: str = "auto"
    normalization: str | None = None  # train_stats, or the LaPerm notebook's
    selu_is_elu: bool = False
    binary_input_scale: str = "original"
    seeding: str = "independent"
    validation_size: int = 5000
    eval_batchsize: int = 200
    progress: str = "auto"
    # Scale-out and run safety (every method).
    distribute: str = "none"  # none | mirrored | multiworker (tf.distribute; global batch)
    deterministic: bool = False  # op determinism (seeds are always set)
    mixed_precision: bool = False  # mixed_float16, GPU only
    tensorboard: bool = True  # RUN_DIR/tensorboard: scalars per epoch, score histograms
    resnet_quirks: bool = False  # ResNet: the original's bugs (see masktrainer.resnet)
    checkpoint_every: int = 0  # also checkpoint every N steps inside an epoch (0: epoch ends)
    # Optimisation (all train types; None = the method's recipe).
    optimizer: str | None = None  # adam | sgd (PyTorch-style momentum, L2 in the gradient)
    momentum: float | None = None
    weight_decay: float | None = None  # L2 coefficient on the trained variables
    lr_schedule: str | None = None  # constant | cosine (per epoch) | multistep (x0.1)
    lr_milestones: str | None = None  # "80" or "60,120" for multistep
    split: str | None = None  # head (first --validation_size) | slot_machines | test (val = test)
    split_dir: str | None = None  # folder with the slot-machines permutation .npy files
    width_mult: float = 1.0  # Conv4Wide / Conv6Wide
    # Edge-popup.
    keep_ratio: float | None = None  # fraction of weights KEPT per layer (original prune_rate)
    scale_fan: bool = False
    scale_fan_rule: str = "original"  # original: fan * (1 - keep_ratio); kept: fan * keep_ratio
    # Slot machines.
    slots: int | None = None  # K values per connection
    selection: str | None = None  # greedy | probabilistic
    eval_selection: str | None = None  # argmax | sample (the original samples at evaluation)
    finetune_from: str | None = None  # a finished SlotMachine run directory
    # LaPerm.
    sync_period: int | None = None  # k: re-permute every k steps
    skip_bias: bool | None = None
    skip_bn: bool | None = None
    random_keep_ratio: float | None = None  # random pruning before training (p = 1 - this)

    def __post_init__(self) -> None:
        # Resolve the "follow the train type / architecture" defaults once.
        if self.masktype is None and self.traintype in M.SELF_PRUNING_TYPES:
            object.__setattr__(self, "masktype", default_masktype(self.traintype))
        if self.dataset is None:
            object.__setattr__(self, "dataset", DEFAULT_DATASET.get(self.nettype, "cifar10"))
        if self.traintype in TRAIN_TYPES:
            M.method_defaults(self)
        validate(self)

    # Derived values -----------------------------------------------------------
    @property
    def method(self) -> str:
        """self_pruning, edge_popup, slot_machines or slot_finetune."""
        return M.method_of(self.traintype, self.finetune_from)

    @property
    def architecture(self) -> str:
        """The registry name of the network (Slot Machines' ConvN use valid padding)."""
        return M.architecture_of(self.nettype, self.traintype)

    @property
    def train_weights(self) -> bool:
        if self.method == "slot_finetune":
            return True
        return TRAIN_TYPES[self.traintype][0]

    @property
    def train_scores(self) -> bool:
        if self.method == "slot_finetune":
            return False
        return TRAIN_TYPES[self.traintype][1]

    @property
    def alpha(self) -> float:
        return TRAIN_TYPES[self.traintype][2]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**values)


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"--{name}={value!r} is not one of: {', '.join(choices)}")


def validate(cfg: RunConfig) -> None:
    """Raise ConfigError with a one-line message for any invalid value or combination."""
    _choice("nettype", cfg.nettype, NET_TYPES)
    _choice("traintype", cfg.traintype, tuple(TRAIN_TYPES))
    _choice("initializer", cfg.initializer, INITIALIZERS)
    _choice("activation", cfg.activation, ACTIVATIONS)
    if cfg.traintype in M.SELF_PRUNING_TYPES:
        _choice("masktype", cfg.masktype, MASK_TYPES)
    _choice("dataset", cfg.dataset, DATASETS)
    _choice("data_source", cfg.data_source, DATA_SOURCES)
    _choice("jit_compile", cfg.jit_compile, JIT_MODES)
    _choice("normalization", cfg.normalization, NORMALIZATIONS)
    _choice("binary_input_scale", cfg.binary_input_scale, BINARY_SCALES)
    _choice("seeding", cfg.seeding, SEEDINGS)
    _choice("progress", cfg.progress, PROGRESS_MODES)
    _choice("distribute", cfg.distribute, ("none", "mirrored", "multiworker"))
    if isinstance(cfg.checkpoint_every, bool) or not isinstance(cfg.checkpoint_every, int) \
            or cfg.checkpoint_every < 0:
        raise ConfigError(f"--checkpoint_every must be an integer >= 0 (got {cfg.checkpoint_every!r})")
    if cfg.resnet_quirks and cfg.nettype != "ResNet":
        raise ConfigError("--resnet_quirks applies to --nettype=ResNet only")
    if cfg.nettype == "ResNet" and cfg.traintype == "LaPerm":
        raise ConfigError("--nettype=ResNet is Ivan & Florian's ResNet20; LaPerm's is ResNet50")
    for name in ("deterministic", "mixed_precision", "tensorboard", "resnet_quirks"):
        if not isinstance(getattr(cfg, name), bool):
            raise ConfigError(f"--{name} must be true or false (got {getattr(cfg, name)!r})")
    M.validate_method(cfg)

    if cfg.traintype.endswith("Flipping") and cfg.masktype != "flip":
        raise ConfigError(
            f"--traintype={cfg.traintype} flips signs and needs --masktype=flip "
            f"(got --masktype={cfg.masktype}); use a *Pruning train type to prune"
        )
    if cfg.traintype.endswith("Pruning") and cfg.masktype == "flip":
        raise ConfigError(
            f"--traintype={cfg.traintype} prunes and needs --masktype=mask or mask_rs "
            "(got --masktype=flip); use a *Flipping train type to flip signs"
        )
    _positive_int("batchsize", cfg.batchsize)
    _positive_int("eval_batchsize", cfg.eval_batchsize)
    if not isinstance(cfg.maxepochs, int) or cfg.maxepochs < 0:
        raise ConfigError(f"--maxepochs must be an integer >= 0 (got {cfg.maxepochs!r})")
    if not isinstance(cfg.seed, int) or not 0 <= cfg.seed < 2**31 - 1:
        raise ConfigError(f"--seed must be an integer in [0, 2**31-2] (got {cfg.seed!r})")
    if not (isinstance(cfg.p1, (int, float)) and 0.0 <= cfg.p1 <= 1.0):
        raise ConfigError(f"--p1 is a probability and must lie in [0, 1] (got {cfg.p1!r})")
    if not (isinstance(cfg.lr, (int, float)) and math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ConfigError(f"--lr must be a finite number > 0 (got {cfg.lr!r})")
    if not isinstance(cfg.validation_size, int) or cfg.validation_size < 1:
        raise ConfigError(
            f"--validation_size must be an integer >= 1 (got {cfg.validation_size!r})"
        )
    if not cfg.outputpath:
        raise ConfigError("--outputpath must not be empty")
    if cfg.data_source == "embedded" and cfg.dataset != "mnist":
        raise ConfigError(
            f"--data_source=embedded only ships mnist; give --data_dir for {cfg.dataset}"
        )
    if cfg.data_source == "embedded" and (cfg.data_dir or cfg.manual_dir):
        raise ConfigError("--data_source=embedded uses the packaged MNIST; drop --data_dir/--manual_dir")
    if cfg.data_source == "files" and cfg.manual_dir:
        raise ConfigError("--manual_dir is for --data_source=tfds; --data_source=files reads --data_dir")
    if cfg.data_source == "tfds" and cfg.data_dir:
        raise ConfigError(
            "--data_dir is for --data_source=files; tfds reads --manual_dir (and --tfds_data_dir)"
        )
    if cfg.data_source == "auto" and cfg.data_dir and cfg.manual_dir:
        raise ConfigError("give either --data_dir (raw files) or --manual_dir (tfds), not both")
    if cfg.data_source == "files" and not cfg.data_dir and cfg.dataset != "mnist":
        raise ConfigError(f"--data_source=files needs --data_dir for {cfg.dataset}")


def _positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"--{name} must be an integer >= 1 (got {value!r})")
