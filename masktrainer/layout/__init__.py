"""The run-directory format, in one place: the names of a run's files, its format version,
the series its metrics hold, and reading and checking a run.

Every writer (the trainer, :mod:`masktrainer.run.rundir`, checkpoints, extensions) and every
reader (resume, sweep, export, evaluate, Slot Machines' fine-tuning, the cross-check, the
plotter) takes these facts from here; :func:`run_files_table` is the file table of
``docs/run-directory.md``. A method names the extra arrays it saves itself (its recorder).
:mod:`.names` holds the facts, :mod:`.reading` the plotter's lenient reader
(:func:`read_run`). No TensorFlow is imported here: the plotter reads runs with this package.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from masktrainer import safe_io
from masktrainer.layout.names import (  # noqa: F401  (the format's facts, re-exported)
    BOOKKEEPING_KEYS,
    CHECKPOINT_FILE_PATTERN,
    CHECKPOINT_FOLDER,
    CHECKPOINT_STAGING_PREFIX,
    COMPLETE,
    CONFIG_FILE,
    CORE_SERIES,
    DIVERGED,
    EPOCH_SECONDS,
    EXPORT_FOLDER,
    FINAL_WEIGHTS_FILE,
    FORMAT_VERSION,
    FRACTION_SERIES,
    INITIAL_WEIGHTS_FILE,
    INTERRUPTED,
    KNOWN_SERIES,
    LOG_FILE,
    MASKS_FILE,
    METADATA_KEYS,
    METRICS_CSV_FILE,
    METRICS_FILE,
    MODEL_FILE,
    NOT_SERIES,
    PER_LAYER_FIELDS,
    PER_LAYER_KEY,
    PREPROCESSING_FILE,
    REMAINING_KEY,
    RESUMABLE_STATUSES,
    RESUME_FILE,
    RUN_FILES,
    RUN_FOLDER_PREFIX,
    RUNNING,
    SETTING_KEYS,
    TENSORBOARD_FOLDER,
    run_files_table,
    with_precision,
)
from masktrainer.layout.reading import (  # noqa: F401  (re-exported)
    Run,
    RunFileError,
    find_run_dirs,
    read_run,
)


# -- writing -----------------------------------------------------------------------------------
def new_metrics(series: tuple[str, ...], layer_names: list[str],
                layer_sizes: list[int]) -> dict[str, Any]:
    """The metrics of a run before its epoch 0: empty ``series``, status running."""
    metrics: dict[str, Any] = {key: [] for key in series}
    metrics.update(format_version=FORMAT_VERSION, status=RUNNING, epochs_completed=0,
                   layer_names=layer_names, layer_sizes=layer_sizes)
    return metrics


def metrics_csv(metrics: dict[str, Any], flat_keys: tuple[str, ...],
                per_layer_fields: dict[str, list[str]]) -> str:
    """The CSV of the metrics: one row per epoch; ``flat_keys`` the per-epoch numbers,
    ``per_layer_fields`` the per-layer series and their values' names (``<layer>:<field>``)."""
    layers = metrics.get("layer_names", [])
    header = ["epoch", *flat_keys, EPOCH_SECONDS]
    for fields in per_layer_fields.values():
        header += [f"{layer}:{field}" for layer in layers for field in fields]
    rows = []
    for epoch in range(len(metrics["trainLoss"])):
        row = [epoch] + [_csv_cell(metrics[key][epoch]) for key in flat_keys]
        row.append(metrics[EPOCH_SECONDS][epoch])
        for key in per_layer_fields:
            for values in metrics[key][epoch]:
                row.extend(_csv_cell(v) for v in values)
        rows.append(row)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue()


def _csv_cell(value: Any) -> Any:
    return "" if value is None else value


# -- reading, strictly (RunStateError naming the file) ------------------------------------------
def has_run_files(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds both a config and a metrics file (what makes a run folder)."""
    return (Path(path) / CONFIG_FILE).exists() and (Path(path) / METRICS_FILE).exists()


def read_config(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The run's config (regular file, JSON object; RunStateError otherwise)."""
    return safe_io.read_json_object(Path(run_dir) / CONFIG_FILE)


def read_metrics(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The run's metrics (regular file, JSON object; RunStateError otherwise)."""
    return safe_io.read_json_object(Path(run_dir) / METRICS_FILE)


def read_status(run_dir: str | os.PathLike) -> Any:
    """The metrics' ``status`` (whatever it holds; RunStateError for an unreadable file)."""
    return read_metrics(run_dir).get("status")


