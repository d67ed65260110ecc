"""The ``train`` subcommand (the default of ``masktrainer``): absl flags -> RunConfig -> trainer.

The flags are made from the options (:data:`masktrainer.config.OPTIONS`: the
shared ones and every method's own). Every flag of the original
``MaskTrainer.py`` keeps its name, choices and default (``--masktype`` now
follows ``--traintype`` unless given). Any invalid value or combination is
reported as one line on stderr with exit status 2, before anything is written
and before TensorFlow is imported. So is a run directory that ``--resume`` cannot
trust (:mod:`masktrainer.run.resume`). Later failures are one line too: a refused
write (full disk, ...) exits 1, a diverged run 3, SIGINT/SIGTERM 130/143 after a
checkpoint. ``--config FILE`` starts from a run config's settings (flags override them),
``--print_config`` prints the resolved settings, and ``--seeds``/``--grid`` run a sweep
(:mod:`masktrainer.sweep`). :func:`main` dispatches to the subcommands
(:mod:`masktrainer.commands` holds their table and shared conventions).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from absl import flags

from masktrainer import commands, methods, sweep
from masktrainer.command_flags import COMMAND_OPTIONS
from masktrainer.commands import UsageError, define_choice, parse_flags
from masktrainer.config import OPTIONS, RunConfig
from masktrainer.errors import ConfigError, RunStateError
from masktrainer.execute import run_command, run_sweep
from masktrainer.layout import CONFIG_FILE, RUN_FOLDER_PREFIX
from masktrainer.methods.upgrade import config_values
from masktrainer.options import Option
from masktrainer.presets import Preset, expand
from masktrainer.run.extend import extended_config
from masktrainer.run.provenance import process_git_state
from masktrainer.run.resume import open_for_resume
from masktrainer.safe_io import folder_problem, given_path, read_json_object
from masktrainer.text import tolerant_console

__all__ = ["Command", "UsageError", "define_flags", "main", "parse_args", "parse_command",
           "parse_commands", "train_main"]


def _define(option: Option, fv: flags.FlagValues) -> None:
    choices = option.choice_list()
    if choices is not None:
        define_choice(option.name, option.default, choices, option.help, fv)
    elif option.kind is bool:
        flags.DEFINE_bool(option.name, option.default, option.help, flag_values=fv)
    elif option.kind is int:
        flags.DEFINE_integer(option.name, option.default, option.help, flag_values=fv)
    elif option.kind is float:
        flags.DEFINE_float(option.name, option.default, option.help, flag_values=fv)
    elif option.kind is list:
        flags.DEFINE_multi_string(option.name, option.default, option.help, flag_values=fv)
    else:
        flags.DEFINE_string(option.name, option.default, option.help, flag_values=fv)


def define_flags(fv: flags.FlagValues) -> None:
    """Declare all flags on ``fv`` (a private FlagValues: no global state)."""
    for option in (*OPTIONS.values(), *COMMAND_OPTIONS):
        _define(option, fv)


@dataclasses.dataclass
class Command:
    cfg: RunConfig
    resume_dir: Path | None = None
    resolved_seed: int | None = None
    resume_checkpoint: str | None = None
    invocation: dict | None = None  # the run config's "invocation": preset and command line
    label: str = ""  # a sweep member's seed and grid values
    skip: str = ""  # why a sweep member does not run (finished, trained elsewhere)


@dataclasses.dataclass
class Plan:
    """What a command line asks for: one run, or a sweep's members; or printing them."""

    commands: list[Command]
    sweep: bool = False
    print_config: bool = False


_RESUME_FLAGS = ("resume", "resume_checkpoint", "progress", "print_config", "maxepochs")


def _resume_command(fv: flags.FlagValues) -> Command:
    extra = [f"--{name}" for name in fv if fv[name].present and name not in _RESUME_FLAGS]
    if extra:
        raise UsageError(f"--resume continues a run with its own config; drop {' '.join(extra)}")
    if not fv["resume"].value:
        raise UsageError("--resume needs the run directory to continue (got an empty value)")
    run_dir = _given(fv["resume"].value, "--resume")
    choice = fv["resume_checkpoint"].value
    maxepochs = fv["maxepochs"].value if fv["maxepochs"].present else None
    try:  # checked again under the run's lock when training starts
        found = open_for_resume(run_dir, choice, maxepochs)
    except RunStateError as err:
        raise UsageError(f"--resume {run_dir}: {err}") from None
    command = _continue(run_dir, found.config, fv["progress"].value, choice)
    if maxepochs is not None:  # extending (or the run's own count, a plain resume)
        try:
            longer, _ = extended_config(command.cfg, maxepochs, found.point.epoch)
        except ConfigError as err:
            raise UsageError(f"--resume {run_dir}: {err}") from None
        command = dataclasses.replace(command, cfg=longer)
    return command


def _continue(run_dir: Path, config: dict[str, Any], progress: str,
              choice: str | None = None, label: str = "") -> Command:
    """The command that resumes ``run_dir`` (its own config, today's --progress)."""
    try:
        values = config_values(config)
        values["progress"] = progress
        cfg = RunConfig.from_dict(values)
    except ConfigError as err:
        raise UsageError(f"--resume {run_dir}: {CONFIG_FILE}: {err}") from None
    return Command(cfg, run_dir, config["resolved_seed"], choice, label=label)


def _one_dash_preset(argv: Sequence[str]) -> list[str]:
    """absl reads ``-preset`` as ``--preset``: so does the preset expansion."""
    out, ended = list(argv[:1]), False
    for arg in argv[1:]:
        ended = ended or arg == "--"
        if not ended and (arg == "-preset" or arg.startswith("-preset=")):
            arg = "-" + arg
        out.append(arg)
    return out


def _parse(argv: Sequence[str]) -> tuple[flags.FlagValues, Preset | None]:
    fv = flags.FlagValues()
    define_flags(fv)
    try:
        expanded, preset = expand(_one_dash_preset(argv))
    except ConfigError as err:
        raise UsageError(str(err)) from None
    rest = parse_flags(fv, expanded)
    if rest:
        raise UsageError(f"unexpected argument(s): {' '.join(rest)}")
    if fv["preset"].present:  # set by absl itself: from inside a --flagfile
        raise UsageError("--preset inside a --flagfile is not supported (a preset is a flag "
                         "file itself); give --preset NAME on the command line")
    return fv, preset


def _given(value: str, flag: str) -> Path:
    """safe_io.given_path as a usage error (its message names the flag already)."""
    try:
        return given_path(value, flag)
    except RunStateError as err:  # e.g. a name over 255 bytes
        raise UsageError(str(err)) from None


def _base_config(value: str | None) -> tuple[dict[str, Any], str | None]:
    """--config FILE (or RUN_DIR): its settings, and the file read."""
    if value is None:
        return {}, None
    path = _given(value, "--config")
    if path.is_dir():
        path = path / CONFIG_FILE
    try:
        values = config_values(read_json_object(path))
    except RunStateError as err:
        raise UsageError(f"--config {value}: {err}") from None
    unknown = sorted(set(values) - set(OPTIONS))
    if unknown:
        raise UsageError(f"--config {path}: unknown config field(s): {', '.join(unknown)}")
    return values, str(path)


def parse_commands(argv: Sequence[str]) -> Plan:
    """argv (argv[0] = program) -> the run(s) to make, or UsageError (before any work)."""
    fv, preset = _parse(argv)
    print_config = fv["print_config"].value
    if fv["resume"].present:
        if preset is not None:
            raise UsageError("--resume continues a run with its own config; drop --preset")
        return Plan([_resume_command(fv)], print_config=print_config)
    if fv["resume_checkpoint"].present:
        raise UsageError("--resume_checkpoint applies to --resume only")
    if preset is not None:
        _check_requirements(preset, fv)
    base, config_file = _base_config(fv["config"].value)
    invocation = {"preset": preset.name if preset else None, "command": list(argv[1:]),
                  **({"config": config_file} if config_file else {})}
    seeds = sweep.parse_seeds(fv["seeds"].value) if fv["seeds"].present else None
    given = {name for name in OPTIONS if fv[name].present}
    grid = sweep.parse_grid(fv["grid"].value or [], given)
    chosen = fv["sweep_member"].value if fv["sweep_member"].present else None
    if seeds is None and not grid:
        if chosen is not None:
            raise UsageError("--sweep_member picks one member of a --seeds/--grid sweep")
        return Plan([Command(_config_from_flags(fv, base), invocation=invocation)],
                    print_config=print_config)
    if seeds is not None and "seed" in given:
        raise UsageError("give --seed or --seeds, not both")
    plan = Plan([], sweep=True, print_config=print_config)
    every = sweep.members(seeds, grid)
    if chosen is not None:  # one job of an array: the member the whole sweep runs I-th
        if not 1 <= chosen <= len(every):
            raise UsageError(f"--sweep_member {chosen}: the sweep has {len(every)} members "
                             f"(1..{len(every)})")
        every = [every[chosen - 1]]
    for values in every:
        member, _ = _parse(argv)
        label = sweep.label(values)
        for name, value in values.items():
            try:
                member[name].parse(value)
            except (flags.Error, ValueError) as err:
                raise UsageError(f"--grid {name}={value}: {str(err).splitlines()[0]}") from None
        try:
            cfg = _config_from_flags(member, base)
        except UsageError as err:
            raise UsageError(f"{label}: {err}") from None
        plan.commands.append(_sweep_member(cfg, label, {**invocation, "member": values},
                                           fv["progress"].value))
    sweep.check_distinct([c.cfg for c in plan.commands], [c.label for c in plan.commands])
    return plan


def _sweep_member(cfg: RunConfig, label: str, invocation: dict[str, Any],
                  progress: str) -> Command:
    found = sweep.find_run(cfg)
    if found is None:
        return Command(cfg, invocation=invocation, label=label)
    if found.status in sweep.FINISHED:
        return Command(cfg, found.path, label=label, skip=f"{found.status} in {found.path}")
    if found.locked:
        return Command(cfg, found.path, label=label,
                       skip=f"being trained by another process in {found.path}")
    return _continue(found.path, found.config, progress, label=label)


def parse_command(argv: Sequence[str]) -> Command:
    """argv (argv[0] = program) -> the one run to make, or UsageError."""
    plan = parse_commands(argv)
    if plan.sweep:
        raise UsageError("--seeds/--grid make several runs (use parse_commands)")
    return plan.commands[0]


def _check_requirements(preset: Preset, fv: flags.FlagValues) -> None:
    for required in preset.requires:
        name = required.lstrip("-").split("=", 1)[0]
        if name not in fv or not fv[name].present:
            raise UsageError(f"--preset {preset.name} needs --{name} ({preset.title})")


def parse_args(argv: Sequence[str]) -> RunConfig:
    """argv (argv[0] = program) -> validated RunConfig of a new run, or UsageError."""
    return parse_command(argv).cfg


def _config_from_flags(fv: flags.FlagValues, base: dict[str, Any] | None = None) -> RunConfig:
    """The flags' settings over ``base`` (--config's): a flag given wins."""
    base = base or {}
    values = {name: fv[name].value if fv[name].present or name not in base else base[name]
              for name in OPTIONS}
    try:
        cfg = RunConfig(**values)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    # The whole run folder: a file where one of its folders must go, an over-long name.
    sample_run = f"{RUN_FOLDER_PREFIX}0000000"  # a run folder's name is this long
    problem = folder_problem(methods.method_of(cfg).recipe.run_folder(cfg) / sample_run)
    if problem:
        raise UsageError(f"--outputpath {cfg.outputpath} cannot be created or written: {problem}")
    for option in OPTIONS.values():  # the shared ones, then the methods' (--finetune_from)
        value = getattr(cfg, option.name)
        if option.folder and value:
            _check_input_folder(option.name, Path(value).expanduser())
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
    """``masktrainer`` / ``python -m masktrainer``: the chosen subcommand's exit status. The
    dispatch lives here, at the top: a subcommand's module never imports what chose it."""
    tolerant_console()
    args = list(sys.argv[1:] if argv is None else argv[1:])
    name = args[0] if args and args[0] in commands.SUBCOMMANDS else commands.DEFAULT
    rest = args[1:] if args and args[0] == name else args
    try:
        run = _runner(name)
    except UsageError as err:
        return commands.usage_error(err)
    return run([name, *rest])


def _runner(name: str) -> Callable[[Sequence[str]], int]:
    sub = commands.SUBCOMMANDS[name]
    try:
        module = importlib.import_module(sub.module)
    except ModuleNotFoundError as err:  # a subcommand this version does not ship
        if err.name is None or not sub.module.startswith(err.name):
            raise
        raise UsageError(f"the {name} subcommand is not available in this version") from None
    return getattr(module, sub.function)


def train_main(argv: Sequence[str]) -> int:
    """The ``train`` subcommand (argv[0] is its name); returns the exit status."""
    if _one_dash_preset(argv)[1:] in (["--preset", "list"], ["--preset=list"]):
        from masktrainer.presets import listing

        print(listing(), end="")
        return 0
    if commands.wants_help(argv):
        from masktrainer.help import help_for

        try:
            print(help_for(argv), end="")
        except UsageError as err:
            return commands.usage_error(err)
        return 0
    try:
        plan = parse_commands(argv)
    except UsageError as err:
        return commands.usage_error(err)
    if plan.print_config:
        settings = [command.cfg.to_dict() for command in plan.commands]
        print(json.dumps(settings if plan.sweep else settings[0], indent=2, sort_keys=True))
        return 0
    process_git_state()  # the commit this process's code comes from, before any run starts
    if not plan.sweep:
        return run_command(plan.commands[0])
    return run_sweep(plan.commands, _decided_again)


def _decided_again(member: Command) -> Command:
    """The member as its folder now stands (another sweep may have trained it since the plan
    was made); decided under the member's claim, so no two processes start it."""
    invocation = member.invocation if member.resume_dir is None else None
    again = _sweep_member(member.cfg, member.label, invocation or {}, member.cfg.progress)
    return again if again.resume_dir is not None or again.skip else member
