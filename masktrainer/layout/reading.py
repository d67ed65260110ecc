"""Reading a run leniently, as the plotter does: what is broken but not fatal is reported through
a ``warn`` callable and left out; :class:`RunFileError` for a run that cannot be used."""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from masktrainer import safe_io
from masktrainer.errors import RunStateError
from masktrainer.layout.names import (
    COMPLETE,
    CONFIG_FILE,
    CORE_SERIES,
    FORMAT_VERSION,
    FRACTION_SERIES,
    KNOWN_SERIES,
    METADATA_KEYS,
    METRICS_FILE,
    PER_LAYER_FIELDS,
    PER_LAYER_KEY,
    REMAINING_KEY,
    with_precision,
)


class RunFileError(ValueError):
    """A run file is unreadable or violates the run-directory contract."""


Warn = Callable[[str], None]
_LOGGER = logging.getLogger(__name__)


def _log_warning(message: str) -> None:
    _LOGGER.warning("warning: %s", message)


@dataclass
class Run:
    """One training run: its configuration and validated per-epoch metrics.

    ``series`` maps metric names to float arrays of length ``n_points``
    (index 0 is the state before training); ``per_layer`` is an int array of
    shape ``(n_points, n_layers, 6)`` or ``None`` when not recorded.
    """

    path: Path
    config: dict[str, Any]
    status: str
    series: dict[str, np.ndarray]
    per_layer: np.ndarray | None = None
    layer_names: tuple[str, ...] = ()
    layer_sizes: np.ndarray | None = None

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def n_points(self) -> int:
        """Number of recorded points (epochs completed + 1)."""
        lengths = [len(values) for values in self.series.values()]
        if self.per_layer is not None:
            lengths.append(len(self.per_layer))
        return max(lengths, default=0)

    @property
    def epochs(self) -> int:
        return max(self.n_points - 1, 0)

    @property
    def complete(self) -> bool:
        return self.status == COMPLETE

    @property
    def seed(self) -> Any:
        """The seed the run used: ``resolved_seed`` (``seed`` 0 means "drawn")."""
        resolved = self.config.get("resolved_seed")
        return self.config.get("seed") if resolved is None else resolved

    @property
    def seed_drawn(self) -> bool:
        return self.config.get("seed") == 0

    @property
    def seed_text(self) -> str:
        """"seed 3", or "seed 123456 (drawn)" for a run started with seed 0."""
        return f"seed {self.seed}" + (" (drawn)" if self.seed_drawn else "")

    def seed_order(self) -> tuple[int, float | str, str]:
        """Sort key: numeric seeds first, in numeric order; then by path."""
        seed = self.seed
        if isinstance(seed, (int, float)) and not isinstance(seed, bool):
            return 0, seed, str(self.path)
        return 1, str(seed), str(self.path)


def find_run_dirs(root: str | os.PathLike[str], warn: Warn = _log_warning) -> list[Path]:
    """Every run directory below ``root`` (inclusive), sorted. A folder with only one of the
    two files is reported and skipped: with only the config it is a run still evaluating
    epoch 0 (or killed then)."""
    found: list[Path] = []
    for current, dirs, files in os.walk(root):
        has_config, has_metrics = CONFIG_FILE in files, METRICS_FILE in files
        if has_config and has_metrics:
            found.append(Path(current))
            dirs.clear()  # a run directory does not contain further runs
            continue
        if has_config:
            warn(f"{Path(current) / CONFIG_FILE}: no {METRICS_FILE} yet (a run still"
                 " starting, or killed before epoch 0 was evaluated); skipping it")
        elif has_metrics:
            warn(f"{Path(current) / METRICS_FILE}: no {CONFIG_FILE}; skipping it")
        dirs.sort()
    return sorted(found)


def read_run(run_dir: str | os.PathLike[str], warn: Warn = _log_warning) -> Run:
    """One run directory, every series checked; what is broken but not fatal is reported
    through ``warn`` and left out. Raises :class:`RunFileError` if the run is unusable."""
    run_dir = Path(run_dir)
    config = with_precision(_read_json_object(run_dir / CONFIG_FILE))
    metrics_path = run_dir / METRICS_FILE
    metrics = _read_json_object(metrics_path)
    version = metrics.get("format_version")
    if version is not None and version != FORMAT_VERSION:
        warn(f"{metrics_path}: unknown format_version {version!r}; reading anyway")

    expected = _expected_points(metrics, metrics_path, warn)
    series = _read_series(metrics, expected, metrics_path, warn)
    names = _read_layer_names(metrics, metrics_path, warn)
    per_layer = _read_per_layer(metrics, expected, len(names) or None, metrics_path, warn)
    if per_layer is not None and not names:
        names = tuple(f"layer {index + 1}" for index in range(per_layer.shape[1]))
    sizes = _read_layer_sizes(metrics, len(names) if names else None, metrics_path, warn)
    if sizes is None and per_layer is not None:
        sizes = per_layer[0, :, :3].sum(axis=1)
    if REMAINING_KEY in series:  # a count of weights: at most the network's
        high = float(sizes.sum()) if sizes is not None else math.inf
        series[REMAINING_KEY] = _without_out_of_range(series[REMAINING_KEY], REMAINING_KEY,
                                                      high, metrics_path, warn)
    if not series and per_layer is None:
        raise RunFileError(f"{metrics_path}: no usable per-epoch metrics")

    status = metrics.get("status")
    if not isinstance(status, str):
        warn(f"{metrics_path}: missing or invalid 'status'; treating run as incomplete")
        status = "unknown"
    run = Run(run_dir, config, status, series, per_layer, names, sizes)
    if not run.complete:
        warn(f"{metrics_path}: incomplete run (status {status!r}, "
             f"{run.epochs} epochs); plotting the epochs it has")
    return run


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        text = safe_io.read_regular(path, safe_io.JSON_LIMIT).decode("utf-8")
    except RunStateError as error:
        raise RunFileError(str(error)) from None
    except UnicodeDecodeError as error:
        raise RunFileError(f"{path}: cannot read ({error})") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise RunFileError(f"{path}: invalid JSON ({error})") from None
    if not isinstance(data, dict):
        raise RunFileError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _is_number(value: Any) -> bool:
    """A JSON number a float holds (an integer of 400 digits is not one)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, float) or abs(value) <= sys.float_info.max


def _numeric_list(value: Any) -> np.ndarray | None:
    """A float array for a flat list of numbers (null -> NaN), else None."""
    if not isinstance(value, list):
        return None
    if not all(item is None or _is_number(item) for item in value):
        return None
    return np.array([math.nan if item is None else item for item in value], float)


def _expected_points(metrics: dict[str, Any], path: Path, warn: Warn) -> int:
    """Expected series length: ``epochs_completed + 1``, else the usual length."""
    epochs = metrics.get("epochs_completed")
    if _is_number(epochs) and epochs >= 0 and float(epochs).is_integer():
        return int(epochs) + 1
    if epochs is None:
        warn(f"{path}: missing 'epochs_completed'; inferring it from the series")
    else:
        warn(f"{path}: invalid 'epochs_completed' {epochs!r}; inferring it")
    lengths = Counter(len(metrics[key]) for key in KNOWN_SERIES
                      if isinstance(metrics.get(key), list) and metrics[key])
    if not lengths:
        raise RunFileError(f"{path}: no per-epoch series found")
    return lengths.most_common(1)[0][0]


def _read_series(metrics: dict[str, Any], expected: int, path: Path,
                 warn: Warn) -> dict[str, np.ndarray]:
    series: dict[str, np.ndarray] = {}
    missing = [key for key in CORE_SERIES if key not in metrics]
    if missing:
        warn(f"{path}: missing keys {', '.join(missing)}")
    for key, value in metrics.items():
        if key in METADATA_KEYS or key == PER_LAYER_KEY:
            continue
        known = key in KNOWN_SERIES
        array = _numeric_list(value)
        if array is None:
            if known:
                warn(f"{path}: '{key}' is not a list of numbers; ignoring it")
            continue
        if len(array) != expected:
            if known:
                warn(f"{path}: '{key}' has {len(array)} values, expected {expected}"
                     " (epochs_completed + 1); ignoring it")
            continue  # unknown lists of another length are not per-epoch data
        array = _without_non_finite(array, value, key, path, warn)
        if _is_share(key):  # stored as fractions of 1, whatever the plotter shows
            array = _without_out_of_range(array, key, 1.0, path, warn)
        series[key] = array
    return series


def _is_share(key: str) -> bool:
    """Accuracies, ``*Fraction*`` and FRACTION_SERIES series: recorded as fractions of 1."""
    return "Accuracy" in key or "Fraction" in key or key in FRACTION_SERIES


def _without_out_of_range(array: np.ndarray, key: str, high: float, path: Path,
                          warn: Warn) -> np.ndarray:
    """Values outside [0, high] (a forged or corrupt record) are reported and left out like
    non-finite ones; NaN (a gap already) is not reported again."""
    bad = np.flatnonzero((array < 0) | (array > high))
    if bad.size:
        values = ", ".join(f"{array[e]:g} at epoch {e}" for e in bad[:3])
        more = f" and {bad.size - 3} more" if bad.size > 3 else ""
        warn(f"{path}: '{key}' has values outside [0, {high:g}] ({values}{more}); "
             "they are not plotted")
        array = array.copy()
        array[bad] = math.nan
    return array


def _without_non_finite(array: np.ndarray, raw: list, key: str, path: Path,
                        warn: Warn) -> np.ndarray:
    """NaN and ±inf (not null: a missing value) are reported, then drawn as gaps."""
    bad = [epoch for epoch, item in enumerate(raw) if item is not None and not math.isfinite(item)]
    if bad:
        values = ", ".join(f"{raw[e]} at epoch {e}" for e in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        warn(f"{path}: '{key}' has non-finite values ({values}{more}); they are not plotted")
        array = np.where(np.isfinite(array), array, math.nan)
    return array


def _read_layer_names(metrics: dict[str, Any], path: Path, warn: Warn) -> tuple[str, ...]:
    names = metrics.get("layer_names")
    if names is None:
        return ()
    if isinstance(names, list) and all(isinstance(name, str) for name in names):
        return tuple(names)
    warn(f"{path}: 'layer_names' is not a list of strings; ignoring it")
    return ()


def _read_layer_sizes(metrics: dict[str, Any], n_layers: int | None, path: Path,
                      warn: Warn) -> np.ndarray | None:
    sizes = metrics.get("layer_sizes")
    if sizes is None:
        return None
    array = _numeric_list(sizes)
    valid = (array is not None and len(array) > 0 and bool(np.all(array > 0))
             and bool(np.all(array == np.round(array)))
             and (n_layers is None or len(array) == n_layers))
    if not valid:
        warn(f"{path}: invalid 'layer_sizes'; ignoring it")
        return None
    return array.astype(np.int64)


def _read_per_layer(metrics: dict[str, Any], expected: int, n_layers: int | None, path: Path,
                    warn: Warn) -> np.ndarray | None:
    value = metrics.get(PER_LAYER_KEY)
    if value is None:
        return None
    problem = None
    try:
        array = np.array(value, dtype=float)
    except (ValueError, TypeError):
        array, problem = None, "is not a regular nested list of numbers"
    if array is not None:
        if array.ndim != 3 or array.shape[2] != PER_LAYER_FIELDS:
            problem = f"has shape {array.shape}, expected (epochs+1, layers, 6)"
        elif array.shape[0] != expected:
            problem = f"has {array.shape[0]} entries, expected {expected}"
        elif n_layers is not None and array.shape[1] != n_layers:
            problem = f"has {array.shape[1]} layers but layer_names has {n_layers}"
        elif not np.all(np.isfinite(array)) or np.any(array < 0):
            problem = "contains negative or non-finite counts"
    if problem is not None:
        warn(f"{path}: '{PER_LAYER_KEY}' {problem}; ignoring it")
        return None
    return array.astype(np.int64)


