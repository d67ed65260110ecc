"""Run configuration: one validated, JSON-serialisable record per training run.

Flags (or a Python caller) produce a :class:`RunConfig`; everything downstream
(data, model, trainer, run directory) reads only this object.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

# Train type -> (kernel trainable, score trainable, alpha of the Min* penalty).
TRAIN_TYPES: dict[str, tuple[bool, bool, float]] = {
    "Baseline": (True, False, 0.0),
    "FreePruning": (False, True, 0.0),
    "MinPruning": (False, True, -1.0),
    "FreeFlipping": (False, True, 0.0),
    "MinFlipping": (False, True, -1.0),
}
NET_TYPES = ("LeNet", "Conv2", "Conv4", "Conv6")
INITIALIZERS = ("he", "glorot", "heconstant", "binary", "normal")
ACTIVATIONS = ("relu", "swish", "sigmoid", "elu", "selu")
MASK_TYPES = ("mask", "mask_rs", "flip")
DATASETS = ("mnist", "fashion_mnist", "cifar10")
DATA_SOURCES = ("auto", "embedded", "files", "tfds")
NORMALIZATIONS = ("train_stats", "per_set")
BINARY_SCALES = ("original", "formula")
SEEDINGS = ("independent", "original")
JIT_MODES = ("auto", "on", "off")
PROGRESS_MODES = ("auto", "bar", "none")

# The dataset each architecture was used with in the original code.
DEFAULT_DATASET = {"LeNet": "mnist", "Conv2": "cifar10", "Conv4": "cifar10", "Conv6": "cifar10"}


class ConfigError(ValueError):
    """An invalid flag value or combination (reported as a one-line error)."""


def default_masktype(traintype: str) -> str:
    """The mask function a train type means: flipping types flip, the rest prune."""
    return "flip" if traintype.endswith("Flipping") else "mask"


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a self-pruning / sign-flipping run.

    Field names follow the original ``MaskTrainer.py`` flags where one exists.
    """

    nettype: str = "LeNet"
    traintype: str = "FreePruning"
    initializer: str = "he"
    activation: str = "relu"
    masktype: str | None = None  # None: follow the train type (see default_masktype)
    batchsize: int = 25
    maxepochs: int = 20
    seed: int = 0  # 0 = "no seed" as in the original; a seed is then drawn and recorded
    p1: float = 0.5
    lr: float = 1e-3
    outputpath: str = "Outputs"
    dataset: str | None = None  # None: the architecture's original dataset
    data_source: str = "auto"
    data_dir: str | None = None
    manual_dir: str | None = None
    tfds_data_dir: str | None = None
    jit_compile: str = "auto"
    normalization: str = "train_stats"
    selu_is_elu: bool = False
    binary_input_scale: str = "original"
    seeding: str = "independent"
    validation_size: int = 5000
    eval_batchsize: int = 200
    progress: str = "auto"

    def __post_init__(self) -> None:
        # Resolve the "follow the train type / architecture" defaults once.
        if self.masktype is None:
            object.__setattr__(self, "masktype", default_masktype(self.traintype))
        if self.dataset is None:
            object.__setattr__(self, "dataset", DEFAULT_DATASET.get(self.nettype, "mnist"))
        validate(self)

    # Derived values -----------------------------------------------------------
    @property
    def train_weights(self) -> bool:
        return TRAIN_TYPES[self.traintype][0]

    @property
    def train_scores(self) -> bool:
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
    _choice("masktype", cfg.masktype, MASK_TYPES)
    _choice("dataset", cfg.dataset, DATASETS)
    _choice("data_source", cfg.data_source, DATA_SOURCES)
    _choice("jit_compile", cfg.jit_compile, JIT_MODES)
    _choice("normalization", cfg.normalization, NORMALIZATIONS)
    _choice("binary_input_scale", cfg.binary_input_scale, BINARY_SCALES)
    _choice("seeding", cfg.seeding, SEEDINGS)
    _choice("progress", cfg.progress, PROGRESS_MODES)

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
