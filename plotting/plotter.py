"""Command line: draw figures and a summary table from run directories.

Examples::

    python -m plotting.plotter --runs Outputs/FreePruning/LeNet
    python -m plotting.plotter --runs Outputs --compare traintype
    python -m plotting.plotter --runs Outputs --out figures --formats png,pdf,svg
    python -m plotting.plotter --runs Outputs --ylim accuracy=96:99 --logy loss

Exit status: 0 on success, 2 on bad arguments (an unusable ``--out`` or ``--runs`` name, a
``--dpi`` outside 1..MAX_DPI) or when no run is found, 1 when writing a figure
fails (one line naming the file; a link planted where a file goes is refused), 130 when
interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

import matplotlib

matplotlib.use("Agg")  # headless; must precede any pyplot import

from masktrainer.errors import (
    USAGE_EXIT,
    RunStateError,
    RunWriteError,
    interrupt_signal,
    sigterm_as_interrupt,
)
from masktrainer.layout import CONFIG_FILE, METRICS_FILE
from masktrainer.text import tolerant_console
from masktrainer.user_paths import folder_problem, given_paths_problem, shown
from plotting.api import DEFAULT_DPI, FORMATS, NoRunsError, check_formats, render
from plotting.ranges import KINDS, AxisRanges, Limits, parse_limits

PROG = "plotter"
#: Beyond this, figures of several inches need gigapixel canvases.
MAX_DPI = 1200


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors are a single line on stderr (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_EXIT, f"{PROG}: error: {message}\n")


def _formats(text: str) -> tuple[str, ...]:
    try:
        return check_formats(text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _limits(text: str) -> tuple[str, Limits]:
    try:
        return parse_limits(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def axis_ranges(ylim: Sequence[tuple[str, Limits]], logy: Sequence[str]) -> AxisRanges:
    """The ``--ylim``/``--logy`` choices; ``ValueError`` when they contradict."""
    limits: dict[str, Limits] = {}
    for kind, span in ylim:
        if kind in limits:
            raise ValueError(f"--ylim given twice for {kind}")
        limits[kind] = span
    return AxisRanges(limits, frozenset(logy))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=f"python -m plotting.{PROG}",
        description="Plot mean and min-max over seeds for a folder of runs.",
    )
    parser.add_argument(
        "--runs",
        required=True,
        help="folder searched recursively for run directories"
        f" (folders with {CONFIG_FILE} and {METRICS_FILE})",
    )
    parser.add_argument(
        "--compare",
        metavar="FIELD",
        help="config field to compare side by side (e.g. traintype, initializer)",
    )
    parser.add_argument("--out", help="output folder (default: the --runs folder)")
    parser.add_argument(
        "--formats",
        type=_formats,
        default=("png",),
        help=f"comma-separated output formats among {','.join(FORMATS)}"
        " (default: png)",
    )
    parser.add_argument(
        "--dpi", type=int, default=DEFAULT_DPI, help="resolution of raster output"
    )
    parser.add_argument(
        "--ylim",
        metavar="KIND=LOW:HIGH",
        type=_limits,
        action="append",
        default=[],
        help=f"fixed y-range of every {'/'.join(KINDS)} axis (accuracies and"
        " weights in %%), e.g. accuracy=96:99 or loss=:0.5 (an empty end stays"
        " automatic); repeatable. Default: automatic, accuracy and loss from"
        " epochs 1 and later",
    )
    parser.add_argument(
        "--logy",
        metavar="KIND",
        choices=KINDS,
        action="append",
        default=[],
        help=f"log-scale y-axes of one kind ({', '.join(KINDS)}); repeatable",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the plotter; returns the process exit status."""
    tolerant_console()
    args = build_parser().parse_args(argv)
    # --runs is where the figures go without --out: a name the file system cannot look up
    # (over 255 bytes) is refused before any work, as --out's problems are below.
    unusable = given_paths_problem({"--runs": args.runs})
    if unusable:
        return _error(unusable)
    if not 0 < args.dpi <= MAX_DPI:
        return _error(f"--dpi must be in 1..{MAX_DPI} (got {args.dpi})")
    problem = None if args.out is None else (folder_problem(args.out) if args.out else "empty")
    if problem:
        return _error(f"--out {shown(args.out)} cannot be created or written: {problem}")
    logging.basicConfig(format=f"{PROG}: %(message)s", stream=sys.stderr)
    try:
        ranges = axis_ranges(args.ylim, args.logy)
        with sigterm_as_interrupt():  # SIGTERM takes the Ctrl-C path below
            _, written = render(
                args.runs, args.compare, args.out, args.formats, args.dpi, ranges
            )
    except (NoRunsError, NotADirectoryError, ValueError) as error:
        return _error(str(error))
    except (RunStateError, RunWriteError) as error:  # a planted link, a full disk
        return _error(str(error), status=1)
    except KeyboardInterrupt as stop:
        status, name = interrupt_signal(stop)
        return _error(f"interrupted ({name}); the files already written are complete (each is "
                      "written whole or not at all)", status=status)
    except OSError as error:  # a full disk, a folder where a figure goes, ...
        name = error.filename or args.out or args.runs
        return _error(f"cannot write {name}: {error.strerror or error}", status=1)
    for path in written:
        print(path)
    return 0


def _error(message: str, status: int = 2) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
