"""Python API: build the figure set and summary for runs, optionally save them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import BinaryIO

from matplotlib.figure import Figure

from masktrainer import layout, safe_io
from plotting import quantities as q
from plotting.compare import compare_figure
from plotting.composition import composition_figure
from plotting.figures import (
    accuracy_loss_figure,
    accuracy_sparsity_figure,
    extra_metrics_figure,
    layer_sparsity_figure,
    sparsity_figure,
)
from plotting.groups import RunGroup, group_fields, group_runs
from plotting.profiles import weight_profile_figure
from plotting.ranges import AxisRanges
from plotting.runs import Run, load_runs, warn
from plotting.style import assign_colors
from plotting.table import CSV_NAME, MARKDOWN_NAME, write_summary
from plotting.tracer import permutation_tracer_figure

FORMATS = ("png", "pdf", "svg")
DEFAULT_DPI = 150


class OutputLinkError(ValueError):
    """A file the plotter would write is a link: refused before anything is written."""


def check_outputs(out: Path, names: Iterable[str]) -> None:
    """OutputLinkError naming the first of ``names`` in ``out`` that is a link (each file is
    also refused at its write; checking all first leaves no half-written set of outputs)."""
    for name in names:
        if (out / name).is_symlink():
            raise OutputLinkError(f"{out / name} is a link; the plotter never writes through "
                                  "links (remove it or choose another --out)")


class NoRunsError(ValueError):
    """No usable run directory was found."""


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Normalise output formats (e.g. ``"PNG"`` -> ``"png"``); reject unknown ones."""
    cleaned = tuple(dict.fromkeys(f.strip().lower().lstrip(".") for f in formats))
    unknown = [f for f in cleaned if f not in FORMATS]
    if not cleaned or unknown:
        bad = ", ".join(repr(f) for f in unknown) or "none given"
        raise ValueError(f"unsupported format {bad}; choose from {', '.join(FORMATS)}")
    return cleaned


def check_compare(runs: Sequence[Run], field: str) -> None:
    """Raise ``ValueError`` unless ``field`` is a groupable config field of the runs."""
    fields = group_fields(runs)
    if field not in fields:
        raise ValueError(
            f"unknown --compare field {field!r}; fields in these runs: "
            + ", ".join(fields)
        )
    if len({repr(run.config.get(field)) for run in runs}) < 2:
        warn(f"all runs have the same {field!r}; the comparison has a single value")


def build_figures(
    groups: Sequence[RunGroup],
    compare: str | None = None,
    ranges: AxisRanges | None = None,
) -> dict[str, Figure]:
    """All figures the groups have data for, keyed by output file stem.

    ``ranges``: y-limits and log scales chosen by the user (default: automatic).
    """
    assign_colors(groups)
    candidates: dict[str, Figure | None] = {
        "accuracy_loss": accuracy_loss_figure(groups, ranges),
        "accuracy_sparsity": accuracy_sparsity_figure(groups, ranges),
    }
    for kind in (q.REMAINING, q.FLIPPED):
        candidates[kind] = sparsity_figure(groups, kind, ranges)
        candidates[f"{kind}_per_layer"] = layer_sparsity_figure(groups, kind, ranges)
    candidates["composition"] = composition_figure(groups)
    candidates["extra_metrics"] = extra_metrics_figure(groups, ranges)
    candidates["weight_profiles"] = weight_profile_figure(groups)
    candidates["permutation_tracer"] = permutation_tracer_figure(groups)
    if compare is not None:
        stem = "compare_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", compare)
        candidates[stem] = compare_figure(groups, compare, ranges)
    return {name: fig for name, fig in candidates.items() if fig is not None}


def _save(fig: Figure, handle: BinaryIO, fmt: str, dpi: int) -> None:
    fig.savefig(handle, format=fmt, dpi=dpi)


def save_figures(
    figures: dict[str, Figure],
    out: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    dpi: int = DEFAULT_DPI,
) -> list[Path]:
    """Save every figure as ``<out>/<name>.<format>``; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fig in figures.items():
        for fmt in check_formats(formats):
            path = out / f"{name}.{fmt}"
            # never through a planted link, never half-written (fmt is explicit: no suffix)
            safe_io.atomic_write(path, partial(_save, fig, fmt=fmt, dpi=dpi))
            written.append(path)
    return written


def render(
    runs: str | os.PathLike[str] | Sequence[Run],
    compare: str | None = None,
    out: str | os.PathLike[str] | None = None,
    formats: Sequence[str] = ("png",),
    dpi: int = DEFAULT_DPI,
    ranges: AxisRanges | None = None,
) -> tuple[dict[str, Figure], list[Path]]:
    """Load (if given a path), group, plot and save; returns figures and files.

    Output goes to ``out``, or next to the runs when ``runs`` is a path;
    with a list of runs and no ``out`` nothing is written.
    """
    formats = check_formats(formats)
    source: Path | None = None
    if isinstance(runs, (str, os.PathLike)):
        source = Path(runs)
        if not source.is_dir():
            raise NotADirectoryError(f"runs folder not found: {source}")
        runs = load_runs(source)
    runs = list(runs)
    if not runs:
        where = f" in {source}" if source is not None else ""
        raise NoRunsError(
            f"no runs found{where} (a run is a folder with {layout.CONFIG_FILE} and"
            f" {layout.METRICS_FILE})"
        )
    if compare is not None:
        check_compare(runs, compare)
    groups = group_runs(runs)
    figures = build_figures(groups, compare, ranges)
    target = Path(out) if out is not None else source
    written: list[Path] = []
    if target is not None:
        names = [f"{name}.{fmt}" for name in figures for fmt in formats]
        check_outputs(target, [*names, MARKDOWN_NAME, CSV_NAME])  # before the first write
        written = save_figures(figures, target, formats, dpi)
        written += write_summary(groups, target, str(source) if source else None)
    return figures, written


def plot_runs(
    runs: str | os.PathLike[str] | Sequence[Run],
    compare: str | None = None,
    out: str | os.PathLike[str] | None = None,
    formats: Sequence[str] = ("png",),
    ranges: AxisRanges | None = None,
) -> dict[str, Figure]:
    """Plot a folder of runs (or loaded runs); returns figures by file stem.

    Figures: ``accuracy_loss``, ``accuracy_sparsity``, ``remaining`` /
    ``flipped`` and their ``_per_layer`` variants, ``composition``,
    ``extra_metrics``, ``weight_profiles`` and ``permutation_tracer`` (LaPerm runs) and
    ``compare_<field>`` -- each only when the runs
    recorded what it shows. Files (and ``summary.md``/``summary.csv``) are
    written to ``out``, or into the runs folder when ``runs`` is a path.
    ``ranges`` fixes y-limits or log scales, e.g.
    ``AxisRanges(limits={"accuracy": (96, 99)}, log={"loss"})``.
    """
    figures, _ = render(runs, compare, out, formats, ranges=ranges)
    return figures
