"""``--help``: the subcommands, then the flags grouped as a user thinks of them.

Three levels: ``--help`` lists the shared settings (a setting whose default is "the method's
recipe" says so) and names each method's own flags; ``--help --traintype=X`` (optionally
with ``--nettype``) shows the shared settings with X's defaults and X's own flags in full;
``--helpfull`` shows every flag with every method's defaults, computed from the recipes
themselves, so a new method appears here without editing this module. No TensorFlow.
"""

from __future__ import annotations

from typing import Sequence

from masktrainer import methods
from masktrainer.command_flags import COMMAND_OPTIONS
from masktrainer.commands import SUBCOMMANDS, UsageError, entry, subcommand_lines
from masktrainer.config import OPTIONS, RunConfig
from masktrainer.errors import ConfigError
from masktrainer.options import GROUPS, Option

_PER_METHOD = ("traintype", "initializer")  # their help names every method's choices


def usage() -> str:
    lines = [f"{'usage:' if i == 0 else '      '} masktrainer {sub.usage}"
             for i, sub in enumerate(SUBCOMMANDS.values())]
    lines += ["       masktrainer --preset NAME [--flag=value]   (--preset list names them)",
              "       masktrainer --resume RUN_DIR",
              "(python -m masktrainer is the same command; masktrainer SUBCOMMAND --help shows "
              "its flags)"]
    return "\n".join(lines)


def method_name(method: methods.Method) -> str:
    """How help and messages name a method (:attr:`Method.name`)."""
    return method.name


def _default_config(method: methods.Method, traintype: str | None = None,
                    nettype: str | None = None) -> RunConfig:
    traintype = traintype or method.train_types[0]
    try:
        return RunConfig(traintype=traintype, **({"nettype": nettype} if nettype else {}))
    except ConfigError:  # a method with models of its own (LaPerm): its first one
        if nettype:
            raise
        return RunConfig(traintype=traintype, nettype=method.recipe.nettypes[0])


def recipe_defaults(name: str) -> str:
    """'0.001 (self-pruning, LaPerm); 0.1 (EdgePopup, ...)' for a recipe setting."""
    by_value: dict[str, list[str]] = {}
    for method in methods.METHODS:
        value = getattr(_default_config(method), name)
        if value is not None:
            by_value.setdefault(str(value), []).append(method_name(method))
    return "; ".join(f"{value} ({', '.join(names)})" for value, names in by_value.items())


def _option_help(option: Option, level: str, chosen: RunConfig | None) -> str:
    text = option.help
    shown = [methods.method_of(chosen)] if chosen is not None else list(methods.METHODS)
    if option.name == "traintype" and level != "short":
        text += " " + "; ".join(f"{'/'.join(m.train_types)}: {m.summary}" for m in shown) + "."
    elif option.name == "initializer" and level != "short":
        text += " " + "; ".join(f"{method_name(m)}: {', '.join(m.recipe.initializers)}"
                                for m in shown) + "."
    elif option.name == "traintype":
        text += f" One of: {', '.join(option.choice_list())}."
    elif option.name == "initializer":
        text += " --help --traintype=NAME lists them."
    if option.default is None and option.required:
        if chosen is not None:
            text += f" Default for this method: {getattr(chosen, option.name)}."
        elif level == "full":
            text += f" Default: {recipe_defaults(option.name)} (with the default --nettype)."
        else:
            text += " Default: the method's recipe."
    elif option.default is not None and option.kind is not list:
        text += f" Default: {option.default}."
    choices = option.choice_list()
    if choices is not None and option.name not in _PER_METHOD:
        text += f" One of: {', '.join(choices)}."
    return text


def _flag(option: Option) -> str:
    return f"--[no]{option.name}" if option.kind is bool else f"--{option.name}"


def method_groups() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each method's group of flags: (its owner's title, the train types that accept them) —
    a method may declare flags of another's group (biprop takes edge-popup's)."""
    users: dict[str, list[str]] = {}
    for method in methods.METHODS:
        for option in method.recipe.options:
            types = users.setdefault(option.group, [])
            types += [t for t in method.train_types if t not in types]
    return {m.key: (m.title, tuple(users.get(m.key, m.train_types))) for m in methods.METHODS}


def help_text(level: str = "full", chosen: RunConfig | None = None) -> str:
    """The help of the train command: ``level`` short, method (of ``chosen``) or full."""
    sections: dict[str, list[Option]] = {group: [] for group in GROUPS}
    for option in (*OPTIONS.values(), *COMMAND_OPTIONS):
        sections.setdefault(option.group, []).append(option)
    titles = dict(GROUPS)
    for group, (title, types) in method_groups().items():
        titles[group] = f"{title} (--traintype={'/'.join(types)} only)"
    lines = [usage(), "", "Subcommands:", *subcommand_lines(), ""]
    own: set[str] = set()
    if chosen is not None:  # its own group, and the groups of the flags it takes from others
        method = methods.method_of(chosen)
        own = {method.key, *(o.group for o in method.recipe.options)}
    for group, options in sections.items():
        if not options or (group not in GROUPS and level != "full" and group not in own):
            continue
        lines.append(titles[group] + ":")
        for option in options:
            lines += entry(_flag(option), _option_help(option, level, chosen))
        lines.append("")
    if level == "short":
        lines.append("Each method's own flags (--help --traintype=NAME shows them; --helpfull "
                     "shows every flag):")
        for method in methods.METHODS:
            names = ", ".join(f"--{o.name}" for o in method.recipe.options)
            lines += entry("/".join(method.train_types), names or "none")
    return "\n".join(lines).rstrip() + "\n"


def _flag_value(argv: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def help_for(argv: Sequence[str]) -> str:
    """The help ``argv`` asks for: --helpfull, --help with --traintype (and --nettype), or
    the short --help; UsageError for an unknown train type or network."""
    if "--helpfull" in argv:
        return help_text("full")
    traintype, nettype = _flag_value(argv, "traintype"), _flag_value(argv, "nettype")
    if traintype is None and nettype is None:
        return help_text("short")
    try:
        method = methods.get_method(traintype or OPTIONS["traintype"].default)
        chosen = _default_config(method, traintype, nettype)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    return help_text("method", chosen)
