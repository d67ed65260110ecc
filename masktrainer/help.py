"""``--help``: the flags grouped as a user thinks of them, with each method's defaults.

Shared settings are listed once, each method's own flags under that method;
a setting whose default is "the method's recipe" shows every method's value,
computed from the recipes themselves, so a new method appears here without
editing this module. No TensorFlow is imported.
"""

from __future__ import annotations

import textwrap

from masktrainer import methods
from masktrainer.config import OPTIONS, RunConfig
from masktrainer.errors import ConfigError
from masktrainer.options import GROUPS, Option

WIDTH = 100
USAGE = """\
usage: python -m masktrainer [--flag=value ...]          train one run (see README.md)
       python -m masktrainer --preset NAME [--flag=value]  an original experiment (overridable)
       python -m masktrainer --preset list               the presets, one line each
       python -m masktrainer --resume RUN_DIR            continue a killed run
       python -m masktrainer export RUN_DIR [--out DIR] [--formats plain,compact]
       python -m masktrainer export --help"""


def method_name(method: methods.Method) -> str:
    """How help and messages name a method: its train type, or its family for several."""
    return method.train_types[0] if len(method.train_types) == 1 else method.key.replace("_", "-")


def _default_config(method: methods.Method) -> RunConfig:
    try:
        return RunConfig(traintype=method.train_types[0])
    except ConfigError:  # a method with models of its own (LaPerm): its first one
        return RunConfig(traintype=method.train_types[0], nettype=method.nettypes[0])


def recipe_defaults(name: str) -> str:
    """'0.001 (self-pruning, LaPerm); 0.1 (EdgePopup, ...)' for a recipe setting."""
    by_value: dict[str, list[str]] = {}
    for method in methods.METHODS:
        value = getattr(_default_config(method), name)
        if value is not None:
            by_value.setdefault(str(value), []).append(method_name(method))
    return "; ".join(f"{value} ({', '.join(names)})" for value, names in by_value.items())


def _option_help(option: Option) -> str:
    text = option.help
    if option.name == "traintype":
        text += " " + "; ".join(f"{'/'.join(m.train_types)}: {m.summary}"
                                for m in methods.METHODS) + "."
    elif option.name == "initializer":
        text += " " + "; ".join(
            f"{method_name(m)}: {', '.join(m.initializers)}" for m in methods.METHODS) + "."
    if option.default is None and option.required:
        text += f" Default: {recipe_defaults(option.name)} (with the default --nettype)."
    elif option.default is not None:
        text += f" Default: {option.default}."
    choices = option.choice_list()
    if choices is not None and option.name not in ("traintype", "initializer"):
        text += f" One of: {', '.join(choices)}."
    return text


def _flag(option: Option) -> str:
    return f"--[no]{option.name}" if option.kind is bool else f"--{option.name}"


def _entry(flag: str, text: str) -> list[str]:
    return textwrap.wrap(f"{flag}: {text}", WIDTH, initial_indent="  ",
                         subsequent_indent="      ")


def help_text() -> str:
    """The full ``--help`` text."""
    sections: dict[str, list[Option]] = {group: [] for group in GROUPS}
    for option in OPTIONS.values():
        sections.setdefault(option.group, []).append(option)
    titles = dict(GROUPS)
    for method in methods.METHODS:
        titles[method.key] = f"{method.title} (--traintype={'/'.join(method.train_types)} only)"
    lines = [USAGE, ""]
    for group, options in sections.items():
        if not options:
            continue
        lines.append(titles[group] + ":")
        for option in options:
            lines += _entry(_flag(option), _option_help(option))
        if group == "run":
            lines += _entry("--preset", "NAME: the flags of an original experiment "
                            "(experiments/presets/NAME.flags); flags after it override them. "
                            "--preset list names them.")
        if group == "safety":
            lines += _entry("--resume", "RUN_DIR: continue a killed run from its last "
                            "checkpoint, with its own config (no other flags but --progress).")
            lines += _entry("--resume_checkpoint", "ckpt-N: with --resume, continue from this "
                            "kept checkpoint instead (the one before the last, when the last "
                            "is corrupt).")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
