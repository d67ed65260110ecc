"""``python -m masktrainer``: absl flags -> RunConfig -> data -> trainer.

Every flag of the original ``MaskTrainer.py`` keeps its name, choices and
default (``--masktype`` now follows ``--traintype`` unless given). Any invalid
value or combination is reported as one line on stderr with exit status 2,
before anything is written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from absl import flags

from masktrainer import config as C
from masktrainer.laperm_method import define_laperm_flags
from masktrainer.method_flags import define_method_flags

USAGE_EXIT = 2


def define_flags(fv: flags.FlagValues) -> None:
    """Declare all flags on ``fv`` (a private FlagValues: no global state)."""
    d = C.RunConfig()  # defaults live in one place
    flags.DEFINE_enum("nettype", d.nettype, C.NET_TYPES, "Architecture.", flag_values=fv)
    flags.DEFINE_enum("traintype", d.traintype, list(C.TRAIN_TYPES),
                      "What trains: Baseline trains the kernels, the others the scores; "
                      "Min* add the penalty -mean(M(score)) per layer; EdgePopup keeps the "
                      "top --keep_ratio of |score|; SlotMachine picks one of --slots values.",
                      flag_values=fv)
    flags.DEFINE_enum("initializer", None, C.INITIALIZERS,
                      "Frozen-weight init. Self-pruning (default he): he, glorot, heconstant, "
                      "binary, normal (the original's unexposed N(0.1|0, 0.05)). EdgePopup "
                      "(default kaiming_normal): kaiming_normal, kaiming_uniform, "
                      "signed_constant, unsigned_constant. SlotMachine: slot_uniform.",
                      flag_values=fv)
    flags.DEFINE_enum("activation", d.activation, C.ACTIVATIONS, "Hidden activation.",
                      flag_values=fv)
    flags.DEFINE_enum("masktype", None, C.MASK_TYPES,
                      "Score->mask function. Default: flip for *Flipping, else mask.",
                      flag_values=fv)
    flags.DEFINE_integer("batchsize", None,
                         "Training mini-batch size (default 25; 128 EdgePopup/SlotMachine).",
                         flag_values=fv)
    flags.DEFINE_integer("maxepochs", None,
                         "Training epochs, 0: evaluate only (default 20; EdgePopup 100; "
                         "SlotMachine the original schedule).", flag_values=fv)
    flags.DEFINE_integer("seed", d.seed, "Run seed; 0 draws one (recorded in config.json).",
                         flag_values=fv)
    flags.DEFINE_float("p1", d.p1, "P(+) for heconstant/binary weights.", flag_values=fv)
    flags.DEFINE_float("lr", None,
                       "Learning rate (default 0.001; EdgePopup 0.1; SlotMachine the original's "
                       "per-selection value).", flag_values=fv)
    flags.DEFINE_string("outputpath", d.outputpath, "Root of the run directories.",
                        flag_values=fv)
    flags.DEFINE_enum("dataset", None, C.DATASETS,
                      "Data set. Default: mnist for LeNet, cifar10 for ConvN.", flag_values=fv)
    flags.DEFINE_enum("data_source", d.data_source, C.DATA_SOURCES,
                      "auto: tfds if --manual_dir, files if --data_dir, else embedded MNIST.",
                      flag_values=fv)
    flags.DEFINE_string("data_dir", None,
                        "Folder with the publisher's files (IDX .gz / CIFAR-10 .bin).",
                        flag_values=fv)
    flags.DEFINE_string("manual_dir", None,
                        "tensorflow-datasets manual_dir holding the original downloads.",
                        flag_values=fv)
    flags.DEFINE_string("tfds_data_dir", None, "Where tensorflow-datasets writes prepared data.",
                        flag_values=fv)
    flags.DEFINE_enum("jit_compile", d.jit_compile, C.JIT_MODES, "XLA compilation.",
                      flag_values=fv)
    flags.DEFINE_enum("normalization", None, C.NORMALIZATIONS,
                      "train_stats (default): all splits use training-split stats; per_set: "
                      "the original (test set normalised with its own stats); LaPerm notebooks: "
                      "scale01 (x/255), raw255 (the CIFAR notebooks' bug), mean_only "
                      "(ResNet50).", flag_values=fv)
    flags.DEFINE_bool("selu_is_elu", d.selu_is_elu,
                      "Reproduce the original bug where --activation selu computes ELU.",
                      flag_values=fv)
    flags.DEFINE_enum("binary_input_scale", d.binary_input_scale, C.BINARY_SCALES,
                      "Input multiplier for binary weights: the original literals or the "
                      "product of sqrt(2/fan_in).", flag_values=fv)
    flags.DEFINE_enum("seeding", d.seeding, C.SEEDINGS,
                      "independent: own seeds per layer, kernel and score; original: the "
                      "original's shared-seed structure.", flag_values=fv)
    flags.DEFINE_integer("validation_size", d.validation_size,
                         "Validation = the first N training images.", flag_values=fv)
    flags.DEFINE_enum("progress", d.progress, C.PROGRESS_MODES,
                      "Keras progress bar (auto: only on a terminal); a line per epoch always.",
                      flag_values=fv)
    define_method_flags(fv)
    flags.DEFINE_enum("distribute", d.distribute, ("none", "mirrored", "multiworker"),
                      "tf.distribute strategy: none, mirrored (all local GPUs, or all logical "
                      "CPUs), multiworker (TF_CONFIG). --batchsize is the global batch.",
                      flag_values=fv)
    flags.DEFINE_bool("deterministic", d.deterministic,
                      "Deterministic ops (seeds for Python/NumPy/TF/data order are always set).",
                      flag_values=fv)
    flags.DEFINE_bool("mixed_precision", d.mixed_precision,
                      "mixed_float16 compute (GPU only; refused on CPU).", flag_values=fv)
    flags.DEFINE_bool("tensorboard", d.tensorboard,
                      "Write TensorBoard events to RUN_DIR/tensorboard (--notensorboard: off).",
                      flag_values=fv)
    flags.DEFINE_bool("resnet_quirks", False,
                      "ResNet: reproduce the original's bugs (conv->ReLU->BN->ReLU, double "
                      "softmax, --lr ignored, one shared seed, test set as validation).",
                      flag_values=fv)
    flags.DEFINE_integer("checkpoint_every", d.checkpoint_every,
                         "Also checkpoint every N training steps inside an epoch (model, "
                         "optimizer, data position, running metrics); 0: epoch ends only.",
                         flag_values=fv)
    flags.DEFINE_string("resume", None,
                        "Continue a killed run in RUN_DIR from its last completed epoch, with "
                        "its own config (no other flags but --progress).", flag_values=fv)
    define_laperm_flags(fv)


class UsageError(Exception):
    """Bad command line: printed as one line, exit status 2."""


def _writable_target(path: str) -> bool:
    """True if ``path`` exists as a writable dir or could be created."""
    probe = Path(path).expanduser().absolute()
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


# config.json keys written by the trainer that are not RunConfig fields.
RUN_BOOKKEEPING = ("format_version", "method", "architecture", "resolved_seed", "run_id",
                   "run_dir", "created", "data", "versions", "finetune_source")
DIVERGED_EXIT = 3


@dataclasses.dataclass
class Command:
    cfg: C.RunConfig
    resume_dir: Path | None = None
    resolved_seed: int | None = None


def _resume_command(fv: flags.FlagValues) -> Command:
    extra = [f"--{name}" for name in fv if fv[name].present and name not in ("resume", "progress")]
    if extra:
        raise UsageError(f"--resume continues a run with its own config; drop {' '.join(extra)}")
    run_dir = Path(fv["resume"].value).expanduser()
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"--resume {run_dir} is not a readable run directory ({err})") from None
    if metrics.get("status") == "complete":
        raise UsageError(f"--resume {run_dir}: the run is already complete")
    values = {k: v for k, v in config.items() if k not in RUN_BOOKKEEPING}
    values["progress"] = fv["progress"].value
    try:
        cfg = C.RunConfig.from_dict(values)
    except C.ConfigError as err:
        raise UsageError(f"--resume {run_dir}: {err}") from None
    return Command(cfg, run_dir, int(config["resolved_seed"]))


def parse_command(argv: Sequence[str]) -> Command:
    """argv (argv[0] = program) -> what to run, or UsageError."""
    fv = flags.FlagValues()
    define_flags(fv)
    try:
        rest = fv(list(argv))
    except flags.Error as err:
        raise UsageError(str(err).splitlines()[0]) from None
    if len(rest) > 1:
        raise UsageError(f"unexpected argument(s): {' '.join(rest[1:])}")
    if fv["resume"].value:
        return _resume_command(fv)
    return Command(_config_from_flags(fv))


def parse_args(argv: Sequence[str]) -> C.RunConfig:
    """argv (argv[0] = program) -> validated RunConfig of a new run, or UsageError."""
    return parse_command(argv).cfg


def _config_from_flags(fv: flags.FlagValues) -> C.RunConfig:
    values = {name: fv[name].value for name in fv}
    values = {k: v for k, v in values.items() if k in C.RunConfig.__dataclass_fields__}
    try:
        cfg = C.RunConfig(**values)
    except C.ConfigError as err:
        raise UsageError(str(err)) from None
    if not _writable_target(cfg.outputpath):
        raise UsageError(f"--outputpath {cfg.outputpath} cannot be created or written")
    for name in ("data_dir", "manual_dir", "split_dir", "finetune_from"):
        value = getattr(cfg, name)
        if value and not Path(value).expanduser().is_dir():
            raise UsageError(f"--{name} {value} is not a directory")
    return cfg


def help_text() -> str:
    fv = flags.FlagValues()
    define_flags(fv)
    return (
        "usage: python -m masktrainer [--flag=value ...]\n\n"
        "Train masks (or signs) over fixed random weights; see README.md.\n\n"
        + fv.get_help(include_special_flags=False)
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] == "export":
        from masktrainer.export_cli import export_main

        return export_main(argv[1:])
    if any(arg in ("-h", "--help", "-help", "--helpfull") for arg in argv[1:]):
        print(help_text())
        return 0
    try:
        command = parse_command(argv)
    except UsageError as err:
        print(f"masktrainer: error: {err}", file=sys.stderr)
        return USAGE_EXIT

    # Heavy imports only after the command line is known to be good.
    from masktrainer.data import DataError
    from masktrainer.finetune import SourceRunError
    from masktrainer.monitors import TrainingDiverged
    from masktrainer.trainer import Trainer

    try:
        # Checks the runtime (e.g. --mixed_precision on CPU) and loads the data
        # before anything is written.
        trainer = Trainer(command.cfg, resume_dir=command.resume_dir,
                          resolved_seed=command.resolved_seed)
    except (C.ConfigError, DataError, SourceRunError) as err:
        print(f"masktrainer: error: {err}", file=sys.stderr)
        return USAGE_EXIT
    try:
        trainer.run()
    except TrainingDiverged as err:
        print(f"masktrainer: error: {err}", file=sys.stderr)
        return DIVERGED_EXIT
    return 0
