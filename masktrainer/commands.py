"""The subcommands of ``masktrainer`` (and ``python -m masktrainer``) and their shared conventions.

``masktrainer [train] ...`` trains (the default), ``masktrainer export RUN_DIR ...`` and
``masktrainer evaluate ...`` work on finished runs. Each subcommand is a row of
:data:`SUBCOMMANDS`: the module and function that run it (:func:`masktrainer.cli.main`, the
entry point above every subcommand, imports it by name only when it is chosen, so one
command's imports never slow another) and a line for ``--help``. Every subcommand
parses absl flags on a private ``FlagValues`` with :func:`parse_flags`, reports a bad
command line as one ``masktrainer: error: ...`` line with exit status 2 before any work, and
formats its help with :func:`entry`. No TensorFlow is imported here.
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from typing import Sequence

from absl import flags

from masktrainer.errors import USAGE_EXIT
from masktrainer.text import did_you_mean

HELP_FLAGS = ("-h", "--help", "-help", "--helpfull")
WIDTH = 100


class UsageError(Exception):
    """Bad command line: printed as one line, exit status 2."""


@dataclasses.dataclass(frozen=True)
class Subcommand:
    module: str
    function: str  # called with argv, argv[0] the subcommand's name; returns the exit status
    summary: str
    usage: str


SUBCOMMANDS: dict[str, Subcommand] = {
    "train": Subcommand("masktrainer.cli", "train_main",
                        "train one run, or a sweep over --seeds/--grid (the default)",
                        "[train] [--flag=value ...]"),
    "export": Subcommand("masktrainer.export.cli", "export_main",
                         "write a finished run as a plain Keras model and/or a compact file",
                         "export RUN_DIR [--out DIR] [--formats plain,compact] [--overwrite]"),
    "evaluate": Subcommand("masktrainer.evaluate.cli", "evaluate_main",
                           "score a finished run or a released LaPerm .h5 on the test set",
                           "evaluate (--run RUN_DIR | --traintype LaPerm --nettype NET "
                           "--weights FILE.h5) [--data_dir DIR]"),
}
DEFAULT = "train"


def subcommand_lines() -> list[str]:
    """``--help``'s list of the subcommands."""
    width = max(len(name) for name in SUBCOMMANDS)
    return [f"  {name:<{width}}  {sub.summary}" for name, sub in SUBCOMMANDS.items()]


def usage_error(err: Exception) -> int:
    print(f"masktrainer: error: {err}", file=sys.stderr)
    return USAGE_EXIT


def wants_help(argv: Sequence[str]) -> bool:
    return any(arg in HELP_FLAGS for arg in argv[1:])


class ChoiceParser(flags.EnumParser):
    """absl's enum parser, whose error names the choice a mistyped value most likely means."""

    def parse(self, argument: str) -> str:
        if argument in self.enum_values:
            return argument
        hint = did_you_mean(argument, self.enum_values)
        expected = f"value should be one of <{'|'.join(self.enum_values)}>"
        raise ValueError(f"{hint} ({expected})" if hint else expected)


def define_choice(name: str, default: str | None, choices: Sequence[str], text: str,
                  fv: flags.FlagValues) -> None:
    """``flags.DEFINE_enum`` with :class:`ChoiceParser`'s "did you mean" errors."""
    flag = flags.EnumFlag(name, default, text, list(choices))
    flag.parser = ChoiceParser(list(choices))
    flags.DEFINE_flag(flag, flag_values=fv)


#: The largest --flagfile read (a flag file is a few lines).
FLAGFILE_LIMIT = 2**20


def check_flag_files(fv: flags.FlagValues) -> None:
    """Before absl opens a --flagfile (nested ones too): a regular UTF-8 file within
    FLAGFILE_LIMIT, so a FIFO, /dev/zero or binary file is one line, never a hang."""
    from masktrainer.errors import RunStateError
    from masktrainer.safe_io import given_path, read_regular

    original = fv._get_flag_file_lines

    def checked(filename: str, parsed_file_stack: list[str] | None = None) -> list[str]:
        if filename:
            try:
                given_path(filename)  # a control character in the name: one line
                read_regular(filename, FLAGFILE_LIMIT).decode("utf-8")
            except RunStateError as err:
                raise UsageError(f"--flagfile: {err}") from None
            except UnicodeDecodeError:
                raise UsageError(f"--flagfile {filename} is not UTF-8 text") from None
        return original(filename, parsed_file_stack)

    object.__setattr__(fv, "_get_flag_file_lines", checked)  # FlagValues sets flags otherwise


def parse_flags(fv: flags.FlagValues, argv: Sequence[str]) -> list[str]:
    """Parse ``argv`` (argv[0] = the command) into ``fv``; the positional arguments after
    argv[0], or UsageError with absl's message (its first line)."""
    check_flag_files(fv)
    try:
        rest = fv(list(argv))
    except flags.Error as err:
        raise UsageError(str(err).splitlines()[0]) from None
    return rest[1:]


def entry(flag: str, text: str) -> list[str]:
    """A flag and its help, wrapped as every subcommand's ``--help`` shows it."""
    return textwrap.wrap(f"{flag}: {text}", WIDTH, initial_indent="  ",
                         subsequent_indent="      ")
