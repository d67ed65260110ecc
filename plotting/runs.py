"""Discovery, loading and validation of run directories, for the plotter.

What a run directory is and how its files are read and checked is the run-directory format's
(:mod:`masktrainer.layout`); this module reports its problems as warnings on the
``plotting`` logger (stderr by default) naming the file, and the offending run or series is
skipped. Files are only ever parsed as JSON; nothing read from them is executed. Only regular
files within a size limit are read (a FIFO or a link to a device is skipped with a warning).
Non-finite values (NaN, ±inf) are reported and left out of the figures.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from masktrainer import layout
from masktrainer.layout import Run, RunFileError

__all__ = ["Run", "RunFileError", "find_run_dirs", "load_run", "load_runs", "warn"]

LOGGER = logging.getLogger("plotting")


def warn(message: str) -> None:
    """Report a problem with an input file (stderr unless logging says otherwise)."""
    LOGGER.warning("warning: %s", message)


def find_run_dirs(root: str | os.PathLike[str]) -> list[Path]:
    """Every run directory below ``root`` (inclusive), sorted; a folder with only one of a
    run's two files is reported and skipped."""
    return layout.find_run_dirs(root, warn)


def load_runs(root: str | os.PathLike[str]) -> list[Run]:
    """Discover and load all runs below ``root``; unusable runs are skipped."""
    runs = []
    for run_dir in find_run_dirs(root):
        try:
            runs.append(load_run(run_dir))
        except RunFileError as error:
            warn(f"skipping run: {error}")
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
            # a crafted or hand-edited file this reader did not foresee: skip that run only
            warn(f"skipping run: {run_dir}: malformed metrics ({type(error).__name__})")
    return runs


def load_run(run_dir: str | os.PathLike[str]) -> Run:
    """Load one run directory; raises :class:`RunFileError` if it is unusable."""
    return layout.read_run(run_dir, warn)
