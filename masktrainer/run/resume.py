"""What a run directory says about where to resume it, checked before anything is trusted.

The resume state (:data:`masktrainer.layout.RESUME_FILE` in the run's checkpoint folder)
names the last resumable point::

    {"epoch": E, "checkpoint": "ckpt-N" | null,
     "partial": {"epoch": E + 1, "step": S, "metric_state": [[...], ...],
                 "seconds": T},                                              # optional
     "previous": {"epoch": ..., "checkpoint": ..., "partial": ...}}          # optional

``epoch`` is the last completed epoch, ``partial`` the progress inside the next one (``seconds``,
optional: the time already spent training it, so the resumed epoch's ``epochSeconds`` is whole),
``previous`` the point before (its checkpoint is kept, see
:class:`masktrainer.run.checkpoints.RunCheckpoint`). Every field is checked: its type,
its range (within the run's ``maxepochs`` and the epochs its metrics record), and the
checkpoint must be a plain ``ckpt-<n>`` name with its files inside the checkpoint folder.
The run directory must hold no links. A run without a resume state resumes from epoch 0
only while it has recorded no epoch (runs killed in their first epoch by the previous
version); it is never restarted over recorded epochs. No TensorFlow is imported here.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shlex
import zipfile
from pathlib import Path
from typing import Any

from masktrainer import layout, safe_io
from masktrainer.errors import RunStateError
from masktrainer.layout import NOT_SERIES, RESUMABLE_STATUSES  # noqa: F401 (re-exported)

FOLDER = layout.CHECKPOINT_FOLDER
STATE_FILE = layout.RESUME_FILE
PARTIAL_REQUIRED = frozenset({"epoch", "step", "metric_state"})
PARTIAL_FIELDS = PARTIAL_REQUIRED | {"seconds"}
CHECKPOINT_NAME = re.compile(r"ckpt-[0-9]{1,15}")


@dataclasses.dataclass(frozen=True)
class ResumePoint:
    """A checkpointed position of a run: after ``epoch``, or inside ``partial["epoch"]``."""

    epoch: int
    checkpoint: str | None
    partial: dict[str, Any] | None = None
    previous: ResumePoint | None = None

    def describe(self) -> str:
        if self.partial:
            return f"in epoch {self.partial['epoch']} after step {self.partial['step']}"
        return f"after epoch {self.epoch}"

    def to_json(self) -> dict[str, Any]:
        """The resume state's entry for this point (without ``previous``)."""
        state: dict[str, Any] = {"epoch": self.epoch, "checkpoint": self.checkpoint}
        if self.partial is not None:
            state["partial"] = self.partial
        return state


@dataclasses.dataclass
class ResumableRun:
    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    point: ResumePoint


def resume_command(run_dir: Path, checkpoint: str | None = None) -> str:
    """The command line that continues ``run_dir`` (from ``checkpoint`` if given)."""
    command = f"python -m masktrainer --resume {shlex.quote(str(run_dir))}"  # a space, a quote
    return command + (f" --resume_checkpoint {shlex.quote(checkpoint)}" if checkpoint else "")


def fallback_hint(run_dir: Path, point: ResumePoint) -> str:
    """Which checkpoint to use instead of ``point``'s (the previous one, if it is kept)."""
    previous = point.previous
    if previous is None or previous.checkpoint is None:
        return "no earlier checkpoint is kept"
    return (f"the previous checkpoint {previous.checkpoint} ({previous.describe()}) is kept: "
            f"resume from it with: {resume_command(run_dir, previous.checkpoint)}")


def _integer(value: Any, label: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low \
            or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise RunStateError(f"{label} must be an integer {bound} (got {value!r})")
    return value


def _metric_state(value: Any, label: str) -> list[list[float]]:
    ok = isinstance(value, list) and all(
        isinstance(row, list) and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
            for x in row)
        for row in value)
    if not ok:
        raise RunStateError(f"{label} must be a list of lists of finite numbers")
    return value


def _checkpoint_files(folder: Path, name: str) -> str | None:
    """What is wrong with the files of checkpoint ``name``, or None."""
    index = folder / f"{name}.index"
    data = sorted(folder.glob(f"{name}.data-*"))
    if not index.exists() or not data:
        return f"the files of checkpoint {name} are missing in {folder}"
    for path in (index, *data):
        safe_io.check_regular(path)
    if index.stat().st_size == 0:
        return f"the index of checkpoint {name} in {folder} is empty"
    return None


def _point(raw: Any, label: str, folder: Path, maxepochs: int, nested: bool) -> ResumePoint:
    if not isinstance(raw, dict):
        raise RunStateError(f"{label} must be a JSON object")
    known = {"epoch", "checkpoint", "partial"} | (set() if nested else {"previous"})
    unknown = sorted(set(raw) - known)
    if unknown:
        raise RunStateError(f"{label} has unknown field(s): {', '.join(unknown)}")
    epoch = _integer(raw.get("epoch"), f"{label} 'epoch'", 0, maxepochs)
    name = raw.get("checkpoint")
    partial = raw.get("partial")
    if name is None:
        if epoch != 0 or partial is not None:
            raise RunStateError(f"{label} names no checkpoint for a point after epoch 0")
    elif not isinstance(name, str) or not CHECKPOINT_NAME.fullmatch(name):
        raise RunStateError(f"{label} 'checkpoint' must be a checkpoint name like ckpt-12 inside "
                            f"{folder} (got {name!r})")
    if partial is not None:
        if not isinstance(partial, dict) or not (
                PARTIAL_REQUIRED <= set(partial) <= PARTIAL_FIELDS):
            raise RunStateError(f"{label} 'partial' must hold epoch, step, metric_state and "
                                "optionally seconds, nothing else")
        _integer(partial["epoch"], f"{label} partial 'epoch'", epoch + 1, epoch + 1)
        if partial["epoch"] > maxepochs:
            raise RunStateError(f"{label} partial 'epoch' is beyond the run's {maxepochs} epochs")
        _integer(partial["step"], f"{label} partial 'step'", 1)
        _metric_state(partial["metric_state"], f"{label} partial 'metric_state'")
        seconds = partial.get("seconds", 0.0)
        if (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                or not math.isfinite(seconds) or seconds < 0):
            raise RunStateError(f"{label} partial 'seconds' must be a finite number ≥ 0 "
                                f"(got {seconds!r})")
    previous = None
    if not nested and raw.get("previous") is not None:
        try:
            previous = _point(raw["previous"], f"{label} 'previous'", folder, maxepochs, True)
        except RunStateError:
            previous = None  # only ever offered as a fallback; a broken one is not offered
    point = ResumePoint(epoch, name, partial, previous)
    problem = None if name is None else _checkpoint_files(folder, name)
    if problem:
        raise RunStateError(f"{label}: {problem}; {fallback_hint(folder.parent, point)}")
    return point


def _choose(point: ResumePoint, choice: str, path: Path) -> ResumePoint:
    for candidate in (point, point.previous):
        if candidate is not None and candidate.checkpoint == choice:
            return dataclasses.replace(candidate, previous=None)
    kept = [p.checkpoint for p in (point, point.previous) if p is not None and p.checkpoint]
    raise RunStateError(f"--resume_checkpoint {choice} is not a kept checkpoint of {path} "
                        f"(kept: {', '.join(kept) or 'none'})")


def _recorded_epochs(metrics: dict[str, Any], label: str, maxepochs: int,
                     extending: bool = False) -> int:
    status = metrics.get("status")
    if status == layout.COMPLETE and not extending:
        raise RunStateError(f"the run is already complete (its {maxepochs} epochs; extend it "
                            "with --maxepochs N, more than that)")
    if status not in RESUMABLE_STATUSES and not (extending and status == layout.COMPLETE):
        raise RunStateError(f"{label} 'status' must be one of {', '.join(RESUMABLE_STATUSES)} "
                            f"(got {status!r})")
    epochs = _integer(metrics.get("epochs_completed"), f"{label} 'epochs_completed'", 0,
                      maxepochs)
    for key, series in metrics.items():
        if key not in NOT_SERIES and isinstance(series, list) and len(series) != epochs + 1:
            raise RunStateError(f"{label} '{key}' has {len(series)} values for "
                                f"{epochs} epochs (+ epoch 0)")
    if not isinstance(metrics.get("trainLoss"), list):
        raise RunStateError(f"{label} has no per-epoch series")
    return epochs


def _check_arrays(archive: Path) -> None:
    """A run's arrays (its initial weights and preprocessing are written once, when it
    starts) must read back whole: a resumed run must not end as complete around a damaged
    one."""
    from masktrainer.npz import load_npz

    try:
        load_npz(archive)
    except RunStateError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise RunStateError(f"{archive} is damaged ({str(err).strip() or type(err).__name__}); "
                            "refusing to resume a run whose arrays cannot be read back") from None


def open_for_resume(run_dir: str | Path, choice: str | None = None,
                    maxepochs: int | None = None) -> ResumableRun:
    """The run directory's config, metrics and resume point, every field checked
    (RunStateError, one line, otherwise). ``maxepochs``: the epochs asked for now; more
    than the run's own reopens a complete run (:mod:`masktrainer.run.extend`)."""
    path = safe_io.given_path(run_dir, "run directory")
    if not path.is_dir():
        raise RunStateError(f"{path} is not a run directory (no such folder)")
    safe_io.refuse_links_in(path)
    try:
        config, metrics = layout.read_config(path), layout.read_metrics(path)
    except RunStateError as err:
        raise RunStateError(f"not a readable run directory ({err})") from None
    for archive in sorted(path.glob("*.npz")):
        _check_arrays(archive)
    asked = maxepochs
    config_file, metrics_file = path / layout.CONFIG_FILE, path / layout.METRICS_FILE
    maxepochs = _integer(config.get("maxepochs"), f"{config_file} 'maxepochs'", 0)
    _integer(config.get("resolved_seed"), f"{config_file} 'resolved_seed'", 1, 2**31 - 1)
    recorded = _recorded_epochs(metrics, str(metrics_file), maxepochs,
                                extending=asked is not None and asked > maxepochs)
    folder = path / FOLDER
    state_path = folder / STATE_FILE
    if not state_path.exists():
        if recorded > 0 or list(folder.glob("ckpt-*")):
            raise RunStateError(
                f"{state_path} is missing but the run has recorded {recorded} epoch(s) and "
                "may hold checkpoints; refusing to restart it from epoch 0 over them")
        point = ResumePoint(0, None)  # killed before its first checkpoint
    else:
        point = _point(safe_io.read_json_object(state_path), str(state_path), folder, maxepochs,
                       nested=False)
    if choice is not None:
        point = _choose(point, choice, path)
    elif recorded > point.epoch + 1:
        raise RunStateError(
            f"{layout.METRICS_FILE} records {recorded} epochs but {state_path} resumes "
            f"{point.describe()}; refusing to discard recorded epochs")
    if recorded < point.epoch:
        raise RunStateError(f"{state_path} resumes {point.describe()} but {layout.METRICS_FILE} "
                            f"records only {recorded} epoch(s)")
    return ResumableRun(path, config, metrics, point)
