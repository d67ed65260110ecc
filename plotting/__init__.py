"""Figures and summary tables from masktrainer run directories.

Typical use::

    from plotting import plot_runs
    figures = plot_runs("Outputs/FreePruning/LeNet", compare="initializer")

or from the shell: ``python -m plotting.plotter --runs Outputs --compare traintype``.
"""

import masktrainer.quiet  # noqa: F401  (first: keeps matplotlib's cache out of $HOME)
from plotting.api import (
    FORMATS,
    NoRunsError,
    build_figures,
    plot_runs,
    render,
    save_figures,
)
from plotting.groups import Band, RunGroup, aggregate, group_fields, group_runs
from plotting.ranges import AxisRanges
from plotting.runs import Run, RunFileError, find_run_dirs, load_run, load_runs
from plotting.table import summary_table, to_csv, to_markdown, write_summary

__all__ = [
    "FORMATS",
    "AxisRanges",
    "Band",
    "NoRunsError",
    "Run",
    "RunFileError",
    "RunGroup",
    "aggregate",
    "build_figures",
    "find_run_dirs",
    "group_fields",
    "group_runs",
    "load_run",
    "load_runs",
    "plot_runs",
    "render",
    "save_figures",
    "summary_table",
    "to_csv",
    "to_markdown",
    "write_summary",
]
