"""``python -m masktrainer``: absl flags -> RunConfig -> data -> trainer.

The flags are made from the options (:data:`masktrainer.config.OPTIONS`: the
shared ones and every method's own). Every flag of the original
``MaskTrainer.py`` keeps its name, choices and default (``--masktype`` now
follows ``--traintype`` unless given). Any invalid value or combination is
reported as one line on stderr with exit status 2, before anything is written
and before TensorFlow is imported. So is a run directory that ``--resume`` cannot
trust (:mod:`masktrainer.run.resume`). Later failures are one line too: a refused
write (full disk, ...) exits 1, a diverged run 3, SIGINT/SIGTERM 130/143 after a
checkpoint.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from pathlib import Path
from typing import Sequence

from absl import flags

from masktrainer import methods
from masktrainer.config import OPTIONS, RunConfig
from masktrainer.errors import (
    ConfigError,
    DataError,
    RunInterrupted,
    RunStateError,
    RunWriteError,
    WorkerFailed,
)
from masktrainer.options import Option
from masktrainer.presets import Preset, expand
from masktrainer.run.resume import open_for_resume, resume_command
from masktrainer.run.rundir import config_values
from masktrainer.run.safe_io import folder_problem

FAILED_EXIT = 1  # a write the operating system refused, a lost multi-worker peer
USAGE_EXIT = 2
DIVERGED_EXIT = 3


def _define(option: Option, fv: flags.FlagValues) -> None:
    choices = option.choice_list()
    if choices is not None:
        flags.DEFINE_enum(option.name, option.default, list(choices), option.help, flag_values=fv)
    elif option.kind is bool:
        flags.DEFINE_bool(option.name, option.default, option.help, flag_values=fv)
    elif option.kind is int:
        flags.DEFINE_integer(option.name, option.default, option.help, flag_values=fv)
    elif option.kind is float:
        flags.DEFINE_float(option.name, option.default, option.help, flag_values=fv)
    else:
        flags.DEFINE_string(option.name, option.default, option.help, flag_values=fv)


def define_flags(fv: flags.FlagValues) -> None:
    """Declare all flags on ``fv`` (a private FlagValues: no global state)."""
    for option in OPTIONS.values():
        _define(option, fv)
    flags.DEFINE_string("preset", None,
                        "Run an original experiment: its flags from experiments/presets/NAME.flags "
                        "(flags after it override them); --preset list names them all.",
                        flag_values=fv)
    flags.DEFINE_string("resume", None,
                        "Continue a killed run in RUN_DIR from its last completed epoch, with "
                        "its own config (no other flags but --progress).", flag_values=fv)
    flags.DEFINE_string("resume_checkpoint", None,
                        "With --resume: continue from this kept checkpoint (e.g. ckpt-6) instead "
                        "of the last one, e.g. when the last one is corrupt.", flag_values=fv)


class UsageError(Exception):
    """Bad command line: printed as one line, exit status 2."""


@dataclasses.dataclass
class Command:
    cfg: RunConfig
    resume_dir: Path | None = None
    resolved_seed: int | None = None
    resume_checkpoint: str | None = None
    invocation: dict | None = None  # config.json "invocation": the preset and the command line


_RESUME_FLAGS = ("resume", "resume_checkpoint", "progress")


def _resume_command(fv: flags.FlagValues) -> Command:
    extra = [f"--{name}" for name in fv if fv[name].present and name not in _RESUME_FLAGS]
    if extra:
        raise UsageError(f"--resume continues a run with its own config; drop {' '.join(extra)}")
    if not fv["resume"].value:
        raise UsageError("--resume needs the run directory to continue (got an empty value)")
    run_dir = Path(fv["resume"].value).expanduser()
    choice = fv["resume_checkpoint"].value
    try:  # checked again under the run's lock when training starts
        found = open_for_resume(run_dir, choice)
        values = config_values(found.config)
        values["progress"] = fv["progress"].value
        cfg = RunConfig.from_dict(values)
    except RunStateError as err:
        raise UsageError(f"--resume {run_dir}: {err}") from None
    except ConfigError as err:
        raise UsageError(f"--resume {run_dir}: config.json: {err}") from None
    return Command(cfg, run_dir, found.config["resolved_seed"], choice)


def parse_command(argv: Sequence[str]) -> Command:
    """argv (argv[0] = program) -> what to run, or UsageError."""
    fv = flags.FlagValues()
    define_flags(fv)
    try:
        expanded, preset = expand(argv)
        rest = fv(expanded)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    except flags.Error as err:
        raise UsageError(str(err).splitlines()[0]) from None
    if len(rest) > 1:
        raise UsageError(f"unexpected argument(s): {' '.join(rest[1:])}")
    if fv["resume"].present:
        if preset is not None:
            raise UsageError("--resume continues a run with its own config; drop --preset")
        return _resume_command(fv)
    if fv["resume_checkpoint"].present:
        raise UsageError("--resume_checkpoint applies to --resume only")
    if preset is not None:
        _check_requirements(preset, fv)
    invocation = {"preset": preset.name if preset else None, "command": list(argv[1:])}
    return Command(_config_from_flags(fv), invocation=invocation)


def _check_requirements(preset: Preset, fv: flags.FlagValues) -> None:
    for required in preset.requires:
        name = required.lstrip("-").split("=", 1)[0]
        if name not in fv or not fv[name].present:
            raise UsageError(f"--preset {preset.name} needs --{name} ({preset.title})")


def parse_args(argv: Sequence[str]) -> RunConfig:
    """argv (argv[0] = program) -> validated RunConfig of a new run, or UsageError."""
    return parse_command(argv).cfg


def _config_from_flags(fv: flags.FlagValues) -> RunConfig:
    try:
        cfg = RunConfig(**{name: fv[name].value for name in OPTIONS})
    except ConfigError as err:
        raise UsageError(str(err)) from None
    # The whole run folder: a file where one of its folders must go, an over-long name.
    problem = folder_problem(methods.method_of(cfg).run_folder(cfg) / "run-0000000")
    if problem:
        raise UsageError(f"--outputpath {cfg.outputpath} cannot be created or written: {problem}")
    for name in ("data_dir", "manual_dir", "split_dir", "finetune_from"):
        value = getattr(cfg, name)
        if value:
            _check_input_folder(name, Path(value).expanduser())
    return cfg


def _check_input_folder(name: str, path: Path) -> None:
    try:
        is_dir = path.is_dir()
    except OSError as err:
        raise UsageError(f"--{name} {path} cannot be read: {err.strerror}") from None
    if not is_dir:
        raise UsageError(f"--{name} {path} is not a directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise UsageError(f"--{name} {path} is not readable (no permission)")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] == "export":
        from masktrainer.export.cli import export_main

        return export_main(argv[1:])
    if len(argv) > 1 and argv[1] == "evaluate":
        from masktrainer.evaluate.cli import evaluate_main

        return evaluate_main(argv[1:])
    if argv[1:] in (["--preset", "list"], ["--preset=list"]):
        from masktrainer.presets import listing

        print(listing(), end="")
        return 0
    if any(arg in ("-h", "--help", "-help", "--helpfull") for arg in argv[1:]):
        from masktrainer.help import help_text

        print(help_text(), end="")
        return 0
    try:
        command = parse_command(argv)
    except UsageError as err:
        print(f"masktrainer: error: {err}", file=sys.stderr)
        return USAGE_EXIT

    # Heavy imports only after the command line is known to be good.
    from masktrainer.run.monitors import TrainingDiverged
    from masktrainer.run.trainer import Trainer

    trainer = None
    try:
        # Checks the runtime (e.g. --mixed_precision on CPU) and loads the data
        # before anything is written.
        trainer = Trainer(command.cfg, resume_dir=command.resume_dir,
                          resolved_seed=command.resolved_seed,
                          resume_checkpoint=command.resume_checkpoint,
                          invocation=command.invocation)
        trainer.run()
    except (ConfigError, DataError, RunStateError) as err:
        return _fail(err, USAGE_EXIT)
    except (RunWriteError, WorkerFailed) as err:
        return _fail(err, FAILED_EXIT)
    except TrainingDiverged as err:
        return _fail(err, DIVERGED_EXIT)
    except RunInterrupted as err:
        print(f"masktrainer: {err}", file=sys.stderr)
        return 128 + err.signum
    except KeyboardInterrupt:  # before the run's handlers, or a second Ctrl-C
        run = getattr(trainer, "run_path", None)
        where = (f"; resume with: {resume_command(run)}" if run is not None
                 else " before the run started; nothing was written")
        print(f"masktrainer: interrupted{where}", file=sys.stderr)
        return 128 + signal.SIGINT
    return 0


def _fail(err: Exception, status: int) -> int:
    print(f"masktrainer: error: {err}", file=sys.stderr)
    return status
